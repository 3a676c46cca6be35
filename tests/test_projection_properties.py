"""For any command sequence, live projection == blue/green rebuild == pure fold of the log,
and replay at any instant == the fold of the events recorded up to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.runtime import Runtime
from domain import commands as c
from domain.meta import EventMeta
from projections.fold import fold
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from projections.replay import replay
from projections.worker import EventSource, ProjectionWorker
from tests.factories import BASE_TIME
from tests.readmodels import db_rows, fold_rows, wait_for_position

SOURCES = st.sampled_from(["agent", "webhook", "api", "supervisor"])
IDENT = st.sampled_from(["cust-1", "agent-1", "sup-1"])
TEXT = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=20).filter(str.strip)


@st.composite
def command_specs(draw: st.DrawFn) -> tuple[type[c.Command], dict[str, object]]:
    kind = draw(st.integers(0, 18))
    specs: list[tuple[type[c.Command], dict[str, object]]] = [
        (c.RequestCall, {"participant_identity": draw(IDENT), "participant_name": draw(TEXT)}),
        (c.StartCall, {"room_sid": "RM_" + draw(TEXT).replace(" ", "")}),
        (c.EndCall, {"reason": "room_finished"}),
        (
            c.JoinParticipant,
            {
                "identity": draw(IDENT),
                "kind": draw(st.sampled_from(["customer", "agent", "supervisor"])),
                "hidden": draw(st.booleans()),
            },
        ),
        (c.LeaveParticipant, {"identity": draw(IDENT), "aborted": draw(st.booleans())}),
        (
            c.RecordInterimTranscript,
            {"speaker": draw(st.sampled_from(["customer", "assistant"])), "text": draw(TEXT)},
        ),
        (
            c.RecordFinalTranscript,
            {
                "speaker": draw(st.sampled_from(["customer", "assistant"])),
                "text": draw(TEXT),
                "confidence": draw(st.none() | st.floats(0, 1)),
            },
        ),
        (c.RecordAgentReply, {"text": draw(TEXT), "interrupted": draw(st.booleans())}),
        (
            c.ChangeAgentState,
            {"new_state": draw(st.sampled_from(["listening", "thinking", "speaking"]))},
        ),
        (
            c.ChangeUserState,
            {"new_state": draw(st.sampled_from(["speaking", "listening", "away"]))},
        ),
        (
            c.RecordVehicleLookup,
            {
                "vin_as_said": "1HGCM82633A004352",
                "vin": "1HGCM82633A004352",
                "check_digit_valid": True,
                "found": True,
                "vehicle": {"make": "Honda", "model": "Accord", "year": 2003},
            },
        ),
        (
            c.RecordToolCall,
            {"name": "search_inventory", "arguments": {"make": draw(TEXT)}, "result": "[]"},
        ),
        (c.DetectSilence, {"silent_for_s": draw(st.floats(30, 120))}),
        (c.EndSilence, {"silent_for_s": draw(st.floats(30, 120))}),
        (
            c.RequestRecording,
            {"recording_id": draw(st.sampled_from(["r1", "r2"])), "mode": "egress"},
        ),
        (
            c.CompleteRecording,
            {
                "recording_id": draw(st.sampled_from(["r1", "r2"])),
                "bucket": "recordings",
                "object_key": "k.ogg",
                "size_bytes": draw(st.integers(0, 10**6)),
                "duration_s": 12.0,
                "content_type": "audio/ogg",
            },
        ),
        (
            c.StartListenIn,
            {"listen_id": draw(st.sampled_from(["L1", "L2"])), "supervisor": "admin"},
        ),
        (c.EndListenIn, {"listen_id": draw(st.sampled_from(["L1", "L2"]))}),
        (c.FinishRoom, {}),
    ]
    return specs[kind]


@st.composite
def scenarios(draw: st.DrawFn) -> list[c.Command]:
    prefix = uuid.uuid4().hex[:8]
    rooms = [f"call-{prefix}-{i}" for i in range(draw(st.integers(1, 3)))]
    commands: list[c.Command] = []
    clock = 0.0
    for _ in range(draw(st.integers(1, 40))):
        cls, fields = draw(command_specs())
        # Mostly moving forward, sometimes a late (out-of-order) fact.
        clock += draw(st.floats(0, 5))
        at = clock - draw(st.sampled_from([0.0, 0.0, 0.0, 3.0]))
        external = draw(st.none() | st.sampled_from(["a", "b", "c"]))
        m = EventMeta(
            source=draw(SOURCES),
            external_id=None if external is None else f"{prefix}-{external}",
            occurred_at=BASE_TIME + timedelta(seconds=max(0.0, at)),
        )
        commands.append(cls(room_name=draw(st.sampled_from(rooms)), meta=m, **fields))  # type: ignore[arg-type]
    return commands


@pytest.fixture
def live(app: GroupCommitCallCenter, db: DatabaseSettings) -> Iterator[ProjectionWorker]:
    rt = Runtime(config=None, database=db, app=app)  # type: ignore[arg-type]
    worker = rt.projection_worker()
    worker.catch_up()  # creates the read-model tables before the first example reads them
    worker.start()
    yield worker
    worker.stop()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commands=scenarios(), chunk=st.integers(1, 10))
def test_live_equals_rebuild_equals_fold(
    app: GroupCommitCallCenter,
    db: DatabaseSettings,
    live: ProjectionWorker,
    commands: list[c.Command],
    chunk: int,
) -> None:
    outcomes = []
    for i in range(0, len(commands), chunk):
        outcomes.extend(app.record_many(commands[i : i + chunk]))
    ids = {cmd.conversation_id for cmd in commands}
    head = app.store.max_notification_id() or 0
    wait_for_position(db.conninfo, head)
    after_live = db_rows(db.conninfo, ids)
    expected = fold_rows(app, ids)
    assert after_live == expected

    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    for model in READ_MODELS.values():
        rebuild(db.conninfo, source, model, batch_size=7)
    assert db_rows(db.conninfo, ids) == expected
    recorded = {o.conversation_id for o in outcomes if o.status == "recorded"}
    assert {key[0] for key in expected["conversations"]} == recorded


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(commands=scenarios(), cut=st.floats(0, 1))
def test_replay_at_t_equals_the_events_up_to_t(
    app: GroupCommitCallCenter, commands: list[c.Command], cut: float
) -> None:
    app.record_many(commands)
    room = commands[0].room_name
    cid = commands[0].conversation_id
    log = app.log_of(cid)
    if not log:
        return
    first, last = log[0][1].timestamp, log[-1][1].timestamp
    at = first + (last - first) * cut
    timeline = replay(app, room, at)
    upto = [(lg.position, e) for lg, e in log if e.timestamp <= at]
    expected = fold(upto)
    from projections.conversations import CONVERSATIONS
    from projections.recordings import RECORDINGS
    from projections.transcript import TRANSCRIPT_INTERIMS, TRANSCRIPT_LINES

    assert timeline.state == expected.get(CONVERSATIONS, (cid,))
    assert timeline.transcript == expected.rows(TRANSCRIPT_LINES)
    assert timeline.interims == expected.rows(TRANSCRIPT_INTERIMS)
    assert timeline.recordings == expected.rows(RECORDINGS)
    assert [e.position for e in timeline.entries] == [lg.position for lg, _ in log]
