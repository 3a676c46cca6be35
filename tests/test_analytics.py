"""Analytics on the real PostgreSQL equal a pure fold of the events, live and after a
rebuild: for random calls (times, handle times, bookings, lookups, silences, people acting,
confidence, sentiment and turn latencies), every bucket and the totals of the report."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.runtime import Runtime
from domain import commands as c
from domain import events as ev
from domain.meta import EventMeta
from projections.analytics_queries import (
    AnalyticsRange,
    InvalidRange,
    analytics_csv,
    analytics_report,
    analytics_sql,
)
from projections.base import occurred
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from projections.sentiment import sentiment_score
from projections.worker import EventSource, ProjectionWorker
from tests.factories import BASE_TIME
from tests.readmodels import wait_for_position

WORDS = ["great", "thanks", "terrible", "awful", "car", "the", "price", "love", "not", "bad"]
#: Each example gets its own week, so examples sharing one database don't mix.
WEEKS = itertools.count(1)


@st.composite
def a_call(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "open_at_s": draw(st.floats(0, 3 * 86_400)),
        "lines": draw(
            st.lists(
                st.tuples(
                    st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join),
                    st.none() | st.floats(0, 1),
                ),
                max_size=4,
            )
        ),
        "bookings": draw(st.integers(0, 2)),
        "lookups": draw(st.integers(0, 3)),
        "silences": draw(st.integers(0, 2)),
        "latencies": draw(st.lists(st.floats(0.1, 8), max_size=4)),
        "human": draw(st.sampled_from([None, "takeover", "barge", "asked"])),
        "duration_s": draw(st.none() | st.floats(5, 900)),
    }


def commands_for(room: str, call: dict[str, Any], base: datetime) -> list[c.Command]:
    at = base + timedelta(seconds=call["open_at_s"])
    step = iter(range(1, 1000))

    def m() -> EventMeta:
        return EventMeta(source="agent", occurred_at=at + timedelta(seconds=next(step)))

    out: list[c.Command] = [
        c.RequestCall(
            room_name=room,
            meta=EventMeta(source="api", occurred_at=at),
            participant_identity="cust",
        )
    ]
    for text, confidence in call["lines"]:
        out.append(
            c.RecordFinalTranscript(
                room_name=room, meta=m(), speaker="customer", text=text, confidence=confidence
            )
        )
        out.append(
            c.RecordFinalTranscript(room_name=room, meta=m(), speaker="assistant", text=text)
        )
    for i in range(call["bookings"]):
        out.append(
            c.BookTestDrive(
                room_name=room,
                meta=m(),
                booking_id=f"b{i}",
                customer_name="Ann",
                phone="5550100",
                preferred_time="Friday",
            )
        )
    for _ in range(call["lookups"]):
        vin = "1HGCM82633A004352"
        out.append(
            c.RecordVehicleLookup(
                room_name=room,
                meta=m(),
                vin_as_said=vin,
                vin=vin,
                check_digit_valid=True,
                found=False,
            )
        )
    for _ in range(call["silences"]):
        out.append(c.DetectSilence(room_name=room, meta=m(), silent_for_s=12.0))
        out.append(c.EndSilence(room_name=room, meta=m(), silent_for_s=14.0))
    for i, seconds in enumerate(call["latencies"]):
        out.append(c.MeasureTurn(room_name=room, meta=m(), speech_id=f"s{i}", end_to_end_s=seconds))
    if call["human"] == "asked":
        out.append(c.RequestHuman(room_name=room, meta=m(), utterance="a person please"))
    elif call["human"] == "takeover":
        out.append(
            c.TakeOver(room_name=room, meta=m(), supervisor="sup", participant_identity="s1")
        )
    elif call["human"] == "barge":
        out.append(c.BargeIn(room_name=room, meta=m(), supervisor="sup", participant_identity="s1"))
    if call["duration_s"] is not None:
        out.append(
            c.EndCall(room_name=room, meta=m(), reason="done", duration_s=call["duration_s"])
        )
    return out


def expected_report(period: AnalyticsRange, logs: list[list[Any]]) -> dict[str, Any]:
    """The report computed straight from the events, without the read model."""
    calls: list[dict[str, Any]] = []
    turns: list[tuple[datetime, float]] = []
    for log in logs:
        call: dict[str, Any] = {"opened": occurred(log[0]), "ended": None, "handle": None}
        call.update(human=0, asked=0, bookings=0, lookups=0, silences=0, conf=[], sent=[])
        for e in log:
            if isinstance(e, ev.CallEnded):
                call["ended"], call["handle"] = occurred(e), e.duration_s
            elif isinstance(e, ev.SupervisorTookOver | ev.SupervisorBargedIn):
                call["human"] += 1
            elif isinstance(e, ev.HumanRequested):
                call["asked"] += 1
            elif isinstance(e, ev.TestDriveBooked):
                call["bookings"] += 1
            elif isinstance(e, ev.VehicleLookedUp):
                call["lookups"] += 1
            elif isinstance(e, ev.SilenceDetected):
                call["silences"] += 1
            elif isinstance(e, ev.FinalTranscriptRecorded) and e.speaker == "customer":
                call["sent"].append(sentiment_score(e.text))
                if e.confidence is not None:
                    call["conf"].append(e.confidence)
            elif isinstance(e, ev.TurnLatencyMeasured) and e.end_to_end_s is not None:
                turns.append((occurred(e), e.end_to_end_s))
        calls.append(call)

    def figures(cs: list[dict[str, Any]], ts: list[float]) -> dict[str, Any]:
        n = len(cs)
        ended = [x for x in cs if x["ended"] is not None]
        handles = [x["handle"] for x in ended]
        contained = sum(1 for x in ended if x["human"] == 0)
        conf = [v for x in cs for v in x["conf"]]
        sent = [v for x in cs for v in x["sent"]]

        def r(value: Any, digits: int = 3) -> float | None:
            return None if value is None else round(float(value), digits)

        return {
            "calls": n,
            "ended_calls": len(ended),
            "contained_calls": contained,
            "containment": round(contained / len(ended), 4) if ended else None,
            "escalated_calls": sum(1 for x in cs if x["asked"]),
            "handle_avg_s": r(np.mean(handles) if handles else None, 1),
            "handle_p90_s": r(np.percentile(handles, 90) if handles else None, 1),
            "bookings": sum(x["bookings"] for x in cs),
            "bookings_per_call": round(sum(x["bookings"] for x in cs) / n, 3) if n else None,
            "lookups": sum(x["lookups"] for x in cs),
            "lookups_per_call": round(sum(x["lookups"] for x in cs) / n, 3) if n else None,
            "silence_alerts": sum(x["silences"] for x in cs),
            "calls_with_silence": sum(1 for x in cs if x["silences"]),
            "turns": len(ts),
            "latency_p50_ms": r(np.percentile(ts, 50) * 1000 if ts else None, 1),
            "latency_p95_ms": r(np.percentile(ts, 95) * 1000 if ts else None, 1),
            "stt_confidence": r(np.mean(conf) if conf else None),
            "lowest_call_confidence": r(
                min((np.mean(x["conf"]) for x in cs if x["conf"]), default=None)
            ),
            "sentiment": r(np.mean(sent) if sent else None),
            "negative_calls": sum(1 for x in cs if x["sent"] and np.mean(x["sent"]) <= -0.05),
        }

    def inside(moment: datetime, lo: datetime, hi: datetime) -> bool:
        return lo <= moment < hi

    step = timedelta(hours=1) if period.bucket == "hour" else timedelta(days=1)
    buckets = []
    for start in period.bucket_starts():
        cs = [
            x
            for x in calls
            if inside(x["opened"], max(start, period.start), min(start + step, period.end))
        ]
        ts = [
            s
            for at, s in turns
            if inside(at, max(start, period.start), min(start + step, period.end))
        ]
        buckets.append({"start": start.isoformat(), **figures(cs, ts)})
    cs = [x for x in calls if inside(x["opened"], period.start, period.end)]
    ts = [s for at, s in turns if inside(at, period.start, period.end)]
    totals = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "bucket": period.bucket,
    }
    return {"buckets": buckets, "totals": {**totals, **figures(cs, ts)}}


def report_from_database(conninfo: str, period: AnalyticsRange) -> dict[str, Any]:
    (calls_sql, params), (turns_sql, _) = analytics_sql(period)
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        calls = conn.execute(calls_sql.encode(), params).fetchall()
        turns = conn.execute(turns_sql.encode(), params).fetchall()
    return analytics_report(period, calls, turns)


def close_enough(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Equal, but for the last rounded digit of averages (PostgreSQL and numpy sum floats
    in different orders)."""
    assert got.keys() == want.keys()
    for key, value in want.items():
        if isinstance(value, float) and isinstance(got[key], float):
            assert got[key] == pytest.approx(value, abs=0.0011), key
        else:
            assert got[key] == value, key


@pytest.fixture
def live(app: GroupCommitCallCenter, db: DatabaseSettings) -> Iterator[ProjectionWorker]:
    rt = Runtime(config=None, database=db, app=app)  # type: ignore[arg-type]
    worker = rt.projection_worker()
    worker.catch_up()
    worker.start()
    yield worker
    worker.stop()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    calls=st.lists(a_call(), min_size=1, max_size=6),
    bucket=st.sampled_from(["hour", "day"]),
    trim_s=st.floats(0, 86_400),
)
def test_the_report_equals_a_fold_of_the_events_live_and_rebuilt(
    app: GroupCommitCallCenter,
    db: DatabaseSettings,
    live: ProjectionWorker,
    calls: list[dict[str, Any]],
    bucket: str,
    trim_s: float,
) -> None:
    base = BASE_TIME + timedelta(weeks=next(WEEKS))
    rooms = [f"an-{uuid.uuid4().hex[:8]}" for _ in calls]
    for room, call in zip(rooms, calls, strict=True):
        app.record_many(commands_for(room, call, base))
    wait_for_position(db.conninfo, app.store.max_notification_id() or 0)
    # A range that may cut into the first day, so bucket edges and the range's edges differ.
    period = AnalyticsRange.of(
        base + timedelta(seconds=trim_s), base + timedelta(days=4), bucket, datetime.now(UTC)
    )
    logs = [[e for _, e in app.log_of(c.RequestCall(room_name=r, meta=EventMeta(source="api"), participant_identity="x").conversation_id)] for r in rooms]  # fmt: skip
    want = expected_report(period, logs)
    got = report_from_database(db.conninfo, period)
    assert len(got["buckets"]) == len(want["buckets"])
    for g, w in zip(
        [*got["buckets"], got["totals"]], [*want["buckets"], want["totals"]], strict=True
    ):
        close_enough(g, w)

    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    rebuild(db.conninfo, source, READ_MODELS["analytics"], batch_size=5)
    assert report_from_database(db.conninfo, period) == got


def test_ranges_are_checked() -> None:
    now = datetime(2026, 12, 5, 10, 30, tzinfo=UTC)
    default = AnalyticsRange.of(None, None, "day", now)
    assert default.end == now and default.start == datetime(2026, 11, 5, tzinfo=UTC)
    assert len(default.bucket_starts()) == 31
    hours = AnalyticsRange.of(now - timedelta(hours=3), now, "hour", now)
    assert [s.hour for s in hours.bucket_starts()] == [7, 8, 9, 10]
    for start, end, bucket, reason in (
        (now, now - timedelta(days=1), "day", "after"),
        (now - timedelta(days=32), now, "hour", "at most 31 days"),
        (now - timedelta(days=400), now, "day", "at most 366 days"),
        (None, None, "week", "must be one of"),
    ):
        with pytest.raises(InvalidRange, match=reason):
            AnalyticsRange.of(start, end, bucket, now)


def test_the_csv_has_a_line_per_bucket_and_one_of_totals() -> None:
    period = AnalyticsRange.of(BASE_TIME, BASE_TIME + timedelta(days=2), "day", BASE_TIME)
    report = analytics_report(period, [], [])
    lines = analytics_csv(report).splitlines()
    assert lines[0].startswith("start,calls,ended_calls,contained_calls,containment")
    assert [line.split(",")[0] for line in lines[1:]] == [
        "2026-11-22T00:00:00+00:00",
        "2026-11-23T00:00:00+00:00",
        "2026-11-24T00:00:00+00:00",
        "total",
    ]
    assert lines[-1].split(",")[1] == "0"
