"""The insight read model: customer sentiment and the QA scorecard equal a pure fold of
the events, and what a rebuild writes to PostgreSQL; and both equal what each rule says
when read straight off the event log (the oracle below), not through the projection."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from domain import commands as c
from domain import events as ev
from domain.meta import EventMeta
from projections import qa_rules
from projections.base import occurred
from projections.fold import fold
from projections.insight import INSIGHT_CALLS, INSIGHT_QA, INSIGHT_TURNS, summary_of
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from projections.sentiment import sentiment_label, sentiment_score
from projections.worker import EventSource
from tests.factories import BASE_TIME, VIN, meta
from tests.readmodels import db_rows

INSIGHT = READ_MODELS["insight"]
OTHER_VIN = "1HGCM82633A004353"  # its check digit does not hold
CUSTOMER_LINES = [
    "I love this car, thank you so much",
    "this is terrible and I am angry",
    "what time do you open",
    "great, perfect",
    "no, that is wrong",
]
REPLIES = [
    "Welcome to CME Auto Sales!",
    "You are booked for Friday 3pm.",
    "Let me check that.",
    "Sorry, could you repeat that?",
]


# Values on both sides of each rule's limit, and the limit itself.
SILENCES = st.sampled_from([4.0, 10.0, 10.5, 31.0]) | st.floats(0, 40)
LATENCIES = st.sampled_from([0.8, 2.9, 3.0, 3.2]) | st.floats(0.2, 5)


@st.composite
def command_specs(draw: st.DrawFn) -> tuple[type[c.Command], dict[str, Any]]:
    kind = draw(st.integers(0, 10))
    specs: list[tuple[type[c.Command], dict[str, Any]]] = [
        (
            c.RecordFinalTranscript,
            {
                "speaker": draw(st.sampled_from(["customer", "customer", "assistant"])),
                "text": draw(st.sampled_from(CUSTOMER_LINES)),
            },
        ),
        (c.RecordAgentReply, {"text": draw(st.sampled_from(REPLIES))}),
        (
            c.RecordVehicleLookup,
            {
                "vin_as_said": "x",
                "vin": (vin := draw(st.sampled_from([VIN, OTHER_VIN]))),
                "check_digit_valid": vin == VIN or draw(st.booleans()),
                "found": draw(st.booleans()),
                "vehicle": {"year": 2003, "make": "Honda", "model": "Accord"},
            },
        ),
        (
            c.BookTestDrive,
            {
                "booking_id": f"td-{draw(st.integers(0, 3))}",
                "customer_name": "Ann",
                "phone": "+15551234567",
                "preferred_time": draw(st.sampled_from(["Friday 3pm", "Monday at noon"])),
                "vin": draw(st.none() | st.sampled_from([VIN, OTHER_VIN])),
            },
        ),
        (
            c.RequestCallback,
            {"callback_id": "cb", "customer_name": "Bo", "phone": "+15551234567"},
        ),
        (c.DetectSilence, {"silent_for_s": draw(SILENCES)}),
        (c.EndSilence, {"silent_for_s": draw(SILENCES)}),
        (c.MeasureTurn, {"speech_id": "s", "end_to_end_s": draw(LATENCIES)}),
        (c.RequestHuman, {"utterance": "a person please"}),
        (
            c.TakeOver,
            {
                "supervisor": "sup",
                "participant_identity": "supervisor-sup",
                "via": draw(st.sampled_from(["takeover", "escalation"])),
            },
        ),
        (c.ExpireEscalation, {"waited_s": 60.0}),
    ]
    return specs[kind]


#: Waits on both sides of the escalation rule's limit.
WAITS = st.sampled_from([5.0, 30.0, 30.5, 45.0]) | st.floats(0, 60)


@st.composite
def episodes(draw: st.DrawFn) -> list[tuple[float, type[c.Command], dict[str, Any]]]:
    """Commands that only tell something together, each after a delay: a caller who asks
    for a person and is taken over some seconds later; a VIN looked up, then booked."""
    if draw(st.integers(0, 4)) > 0:
        return [(draw(st.floats(0, 20)), *draw(command_specs()))]
    if draw(st.booleans()):
        return [
            (1.0, c.RequestHuman, {"utterance": "a person please"}),
            (
                draw(WAITS),
                c.TakeOver,
                {"supervisor": "sup", "participant_identity": "sup-1", "via": "escalation"},
            ),
        ]
    vin = draw(st.sampled_from([VIN, OTHER_VIN]))
    lookup = {
        "vin_as_said": "x",
        "vin": vin,
        "check_digit_valid": vin == VIN,
        "found": draw(st.booleans()),
    }
    booking = {
        "booking_id": "td-9",
        "customer_name": "Ann",
        "phone": "+15551234567",
        "preferred_time": "Friday 3pm",
        "vin": vin,
    }
    return [(1.0, c.RecordVehicleLookup, lookup), (1.0, c.BookTestDrive, booking)]


@st.composite
def scenarios(draw: st.DrawFn) -> list[c.Command]:
    prefix = uuid.uuid4().hex[:8]
    rooms = [f"call-{prefix}-{i}" for i in range(draw(st.integers(1, 2)))]
    commands: list[c.Command] = [
        c.StartCall(room_name=room, meta=meta(at=0), room_sid="RM") for room in rooms
    ]
    clock = 0.0
    for _ in range(draw(st.integers(1, 30))):
        room = draw(st.sampled_from(rooms))
        for delay, cls, fields in draw(episodes()):
            clock += delay
            m = EventMeta(source="agent", occurred_at=BASE_TIME + timedelta(seconds=clock))
            commands.append(cls(room_name=room, meta=m, **fields))
    ends = draw(st.lists(st.booleans(), min_size=len(rooms), max_size=len(rooms)))
    at = BASE_TIME + timedelta(seconds=clock + 1)
    commands += [
        c.EndCall(room_name=room, meta=EventMeta(source="agent", occurred_at=at), reason="bye")
        for room, end in zip(rooms, ends, strict=True)
        if end
    ]
    return commands


def expected_turns(log: list[tuple[int, Any]]) -> list[tuple[int, float, str]]:
    return [
        (pos, sentiment_score(e.text), sentiment_label(sentiment_score(e.text)))
        for pos, e in log
        if isinstance(e, ev.FinalTranscriptRecorded) and e.speaker == "customer"
    ]


def expected_passes(log: list[tuple[int, Any]]) -> dict[str, bool] | None:
    """Each rule's verdict read straight off one call's events; None before it ended."""
    events = [e for _, e in log]
    if not any(isinstance(e, ev.CallEnded) for e in events):
        return None
    replies = [e.text for e in events if isinstance(e, ev.AgentReplied) and e.text]
    lookups = [e for e in events if isinstance(e, ev.VehicleLookedUp)]
    compact = _compact
    vin_ok = all(lk.check_digit_valid for lk in lookups if lk.found)
    read_back = True
    for i, e in enumerate(events):
        if isinstance(e, ev.TestDriveBooked):
            earlier = [lk.vin for lk in lookups if lk.check_digit_valid and events.index(lk) < i]
            vin_ok = vin_ok and (e.vin is None or e.vin in earlier)
            later = [r.text for r in events[i + 1 :] if isinstance(r, ev.AgentReplied)]
            read_back = read_back and any(compact(e.preferred_time) in compact(t) for t in later)
    silences = [
        e.silent_for_s for e in events if isinstance(e, (ev.SilenceDetected, ev.SilenceEnded))
    ]
    latencies = [
        e.end_to_end_s
        for e in events
        if isinstance(e, ev.TurnLatencyMeasured) and e.end_to_end_s is not None
    ]
    answered, asked_at = True, None
    for e in events:
        if isinstance(e, ev.HumanRequested) and asked_at is None:
            asked_at = occurred(e)
        elif isinstance(e, ev.SupervisorTookOver) and asked_at is not None:
            waited = (occurred(e) - asked_at).total_seconds()
            answered = answered and waited <= qa_rules.MAX_ESCALATION_WAIT_S
            asked_at = None
        elif isinstance(e, ev.EscalationExpired):
            answered, asked_at = False, None
    return {
        "greeted": bool(replies) and "welcome" in replies[0].lower(),
        "vin_validated_before_quoted": vin_ok,
        "booking_read_back": read_back,
        "no_long_silence": max(silences, default=0) <= qa_rules.MAX_SILENCE_S,
        "turn_latency_p95": not latencies
        or qa_rules.p95(latencies) <= qa_rules.MAX_P95_TURN_LATENCY_S,
        "escalation_answered": answered and asked_at is None,
    }


def _compact(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commands=scenarios())
def test_sentiment_and_qa_equal_the_fold_the_rebuild_and_the_log(
    app: GroupCommitCallCenter, db: DatabaseSettings, commands: list[c.Command]
) -> None:
    app.record_many(commands)
    ids = {cmd.conversation_id for cmd in commands}
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    rebuild(db.conninfo, source, INSIGHT, batch_size=5)
    rebuilt = db_rows(db.conninfo, ids, INSIGHT.tables)
    logs = {cid: [(lg.position, e) for lg, e in app.log_of(cid)] for cid in ids}
    folded = fold(
        sorted((pe for log in logs.values() for pe in log), key=lambda pe: pe[0]), [INSIGHT]
    )
    for table in INSIGHT.tables:
        assert rebuilt[table.name] == folded.tables.get(table.name, {}), table.name
    for cid, log in logs.items():
        mine = fold(log, [INSIGHT])  # one call's events alone fold to the same rows
        for table in INSIGHT.tables:
            assert mine.rows(table) == [
                r for r in folded.rows(table) if r["conversation_id"] == cid
            ]
        turns = expected_turns(log)
        assert [(r["position"], r["score"], r["label"]) for r in mine.rows(INSIGHT_TURNS)] == turns
        call = mine.get(INSIGHT_CALLS, (cid,))
        assert call is not None
        scores = [score for _, score, _ in turns]
        assert call["sentiment"] == (round(sum(scores) / len(scores), 4) if scores else None)
        qa = sorted(mine.rows(INSIGHT_QA), key=lambda r: r["ordinal"])
        passes = expected_passes(log)
        if passes is None:
            assert qa == []
        else:
            assert {r["rule"]: r["passed"] for r in qa} == passes
            assert [r["rule"] for r in qa] == [r.name for r in qa_rules.RULES]
            assert all(r["reason"] for r in qa)


def _scripted(room: str) -> list[c.Command]:
    r = room
    return [
        c.StartCall(room_name=r, meta=meta(at=0), room_sid="RM"),
        c.RecordAgentReply(room_name=r, meta=meta(at=1), text="Welcome to CME Auto Sales!"),
        c.RecordFinalTranscript(
            room_name=r, meta=meta(at=3), speaker="customer", text="I love the Accord, great car"
        ),
        c.RecordVehicleLookup(
            room_name=r,
            meta=meta(at=5),
            vin_as_said="one h g",
            vin=VIN,
            check_digit_valid=True,
            found=True,
            vehicle={"year": 2003, "make": "Honda", "model": "Accord"},
        ),
        c.BookTestDrive(
            room_name=r,
            meta=meta(at=8),
            booking_id="td-1",
            customer_name="Ann",
            phone="+15551234567",
            preferred_time="Friday 3pm",
            vin=VIN,
        ),
        c.RecordAgentReply(room_name=r, meta=meta(at=9), text="You're booked for Friday, 3 PM."),
        c.DetectSilence(room_name=r, meta=meta(at=40), silent_for_s=30.0),
        c.MeasureTurn(room_name=r, meta=meta(at=41), speech_id="s1", end_to_end_s=1.1),
        c.RequestHuman(room_name=r, meta=meta(at=42), utterance="a person please"),
        c.TakeOver(
            room_name=r,
            meta=meta(at=52),
            supervisor="sup",
            participant_identity="supervisor-sup",
            via="escalation",
        ),
        c.RecordFinalTranscript(
            room_name=r, meta=meta(at=55), speaker="customer", text="this is terrible"
        ),
        c.EndCall(room_name=r, meta=meta(at=60), reason="hangup"),
    ]


def test_a_scripted_call_summary_sentiment_and_scorecard(app: GroupCommitCallCenter) -> None:
    app.record_many(_scripted("call-insight-1"))
    cid = _scripted("call-insight-1")[0].conversation_id
    store = fold([(lg.position, e) for lg, e in app.log_of(cid)], [INSIGHT])
    call = store.get(INSIGHT_CALLS, (cid,))
    assert call is not None
    summary = summary_of(call)
    assert summary["outcome"] == ["booking", "vehicle_found", "escalated"]
    assert summary["vehicles"] == [{"vin": VIN, "year": 2003, "make": "Honda", "model": "Accord"}]
    assert summary["next_step"] == "Test drive with [name] Friday 3pm"  # redacted
    assert "2003 Honda Accord" in summary["text"]
    assert summary["llm"] is None
    assert [t["label"] for t in store.rows(INSIGHT_TURNS)] == ["positive", "negative"]
    verdicts = {r["rule"]: (r["passed"], r["reason"]) for r in store.rows(INSIGHT_QA)}
    assert verdicts["greeted"][0] is True
    assert verdicts["vin_validated_before_quoted"][0] is True
    assert verdicts["booking_read_back"][0] is True
    assert verdicts["no_long_silence"] == (False, "a silence lasted 30.0 s (over 10 s)")
    assert verdicts["turn_latency_p95"][0] is True
    assert verdicts["escalation_answered"] == (True, "a supervisor took the call within 10.0 s")


def test_a_new_rule_scores_every_past_call_when_rebuilt(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    """What the README's "Adding a QA rule" shows: declare it, rebuild, every call has it."""
    app.record_many(_scripted("call-insight-2"))
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    rebuild(db.conninfo, source, INSIGHT)

    @qa_rules.rule("short_call")
    def short_call(f: dict[str, Any]) -> tuple[bool, str]:
        return f["duration_s"] <= 30, f"the call lasted {f['duration_s']:.0f} s"

    try:
        rebuild(db.conninfo, source, INSIGHT)
    finally:
        qa_rules.RULES.remove(short_call)
    cid = _scripted("call-insight-2")[0].conversation_id
    rows = db_rows(db.conninfo, [cid], INSIGHT.tables)["insight_qa"]
    assert rows[(cid, "short_call")]["passed"] is False
    assert rows[(cid, "short_call")]["reason"] == "the call lasted 60 s"
