"""The agent's event sink: cheap puts, ordered batches, and nothing lost while the store is
down (a real PostgreSQL server stopped and started again)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.agent_sink import EventSink
from adapters.call_center import GroupCommitCallCenter
from adapters.command_spool import COMMAND_TYPES, decode_command, encode_command
from apps.agent.facts import Facts
from domain import commands as c
from domain.commands import Command
from domain.meta import EventMeta
from tests.agent.helpers import StoppablePostgres, eventually, logged

ROOM = "call-sink"


def interim(i: int, room: str = ROOM) -> Command:
    meta = EventMeta(source="agent", external_id=f"sink-test/{room}/{i}")
    return c.RecordInterimTranscript(room_name=room, meta=meta, speaker="customer", text=f"n{i}")


@pytest.fixture
def pg() -> Iterator[StoppablePostgres]:
    # Not under tmp_path: run as root, the server runs as another user that must reach its
    # data directory, and every pytest session starting on the machine makes
    # /tmp/pytest-of-root private again (chmod 700), which failed initdb or pg_ctl midway.
    with tempfile.TemporaryDirectory(prefix="callcenter-pg-") as tmp:
        server = StoppablePostgres(Path(tmp) / "pg")
        try:
            yield server
        finally:
            server.close()


def test_codec_round_trips_every_kind_of_field() -> None:
    at = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    meta = EventMeta(source="agent", correlation_id="job-1", external_id="job-1/x", occurred_at=at)
    samples: list[Command] = [
        c.RecordFinalTranscript(
            room_name=ROOM, meta=meta, speaker="customer", text="héllo ✓", confidence=0.25,
            start_time=1.5, end_time=2.0, segment_id="u1",
        ),
        c.RecordVehicleLookup(
            room_name=ROOM, meta=meta, vin_as_said="one h g", vin="1HG", check_digit_valid=False,
            found=False, vehicle=None, decoded={"make": "Honda", "model_year": None, "ok": True},
        ),
        c.RecordToolCall(room_name=ROOM, meta=meta, name="t", arguments={"a": [1, {"b": 2}]}),
        c.MeasureTurn(room_name=ROOM, meta=meta, speech_id="s", llm_ttft_s=0.1),
        c.EndCall(room_name=ROOM, meta=meta, reason="customer_left"),
    ]  # fmt: skip
    for command in samples:
        line = encode_command(command)
        assert "\n" not in line
        assert decode_command(line) == command
    assert {"RecordAgentReply", "DetectSilence", "CompleteRecording"} <= set(COMMAND_TYPES)
    assert "Command" not in COMMAND_TYPES


async def test_put_is_cheap_and_never_waits(tmp_path: Path) -> None:
    """Measured on the event loop: `put` alone, and building a command plus `put`."""
    sink = EventSink(lambda: GroupCommitCallCenter(), spool_dir=tmp_path, max_memory=1_000_000)
    facts = Facts(ROOM, "job-perf", sink.put)
    n = 20_000
    commands = [interim(i) for i in range(n)]
    started = time.perf_counter()
    for command in commands:
        sink.put(command)
    put_us = (time.perf_counter() - started) / n * 1e6
    started = time.perf_counter()
    for i in range(n):
        facts.record(c.ChangeAgentState, f"agent-state/{i}", 1_700_000_000.0, new_state="thinking")
    record_us = (time.perf_counter() - started) / n * 1e6
    print(f"\nsink.put: {put_us:.2f} µs/event; command + put: {record_us:.2f} µs/event")
    assert put_us < 50 and record_us < 50
    assert sink.backlog == 2 * n  # never started: nothing was written, nothing waited


async def test_events_are_written_in_order_and_a_redelivery_records_once(
    app: GroupCommitCallCenter, tmp_path: Path
) -> None:
    sink = EventSink(app, spool_dir=tmp_path, batch_size=7)
    await sink.start()
    for i in range(50):
        sink.put(interim(i))
    sink.put(interim(3))  # the same fact again, as after a lost commit acknowledgement
    assert await sink.flush(20)
    assert [e.text for e in logged(app, ROOM)[1:]] == [f"n{i}" for i in range(50)]
    assert (sink.stats.recorded, sink.stats.duplicate) == (50, 1)
    await sink.close()
    assert not list(tmp_path.glob("*.jsonl"))  # nothing left to adopt


async def test_rejections_are_logged_not_retried(
    app: GroupCommitCallCenter, tmp_path: Path
) -> None:
    sink = EventSink(app, spool_dir=tmp_path)
    await sink.start()
    meta = EventMeta(source="agent", external_id="rej/1")
    sink.put(c.EndSilence(room_name=ROOM, meta=meta, silent_for_s=1.0))  # no silence to end
    sink.put(interim(1))
    assert await sink.flush(20)
    assert (sink.stats.rejected, sink.stats.recorded) == (1, 1)
    await sink.close()


async def test_store_down_buffers_spills_and_flushes_everything_in_order(
    pg: StoppablePostgres, tmp_path: Path
) -> None:
    env = pg.env()
    sink = EventSink(
        lambda: GroupCommitCallCenter(env=env),
        spool_dir=tmp_path / "spool",
        max_memory=20,
        batch_size=7,
        base_delay_s=0.05,
        max_delay_s=0.5,
    )
    await sink.start()
    for i in range(30):
        sink.put(interim(i))
    assert await sink.flush(30)

    await asyncio.to_thread(pg.stop)
    worst = 0.0
    for i in range(30, 230):
        started = time.perf_counter()
        sink.put(interim(i))
        worst = max(worst, time.perf_counter() - started)
        await asyncio.sleep(0)  # the call goes on: the loop keeps turning
    own = sink._own
    assert own is not None
    await eventually(
        lambda: sink.stats.failures > 0 and sink._spill_task is None and own.pending >= 150,
        what="the outage's events to be spilled",
    )
    lines = own.path.read_text().splitlines()[-own.pending :]
    assert [json.loads(line)["data"]["text"] for line in lines] == [
        f"n{i}" for i in range(230 - len(sink._memory) - own.pending, 230 - len(sink._memory))
    ]  # the oldest on disk, in order
    assert len(sink._memory) <= 20  # bounded in memory
    assert worst < 0.01  # put never waited for the database

    await asyncio.to_thread(pg.start)
    assert await sink.flush(60)
    await sink.close()
    check = GroupCommitCallCenter(env=env)
    try:
        texts = [e.text for e in logged(check, ROOM)[1:]]
    finally:
        check.close()
    assert texts == [f"n{i}" for i in range(230)]  # every event, once, in order
    assert sink.stats.recorded == 230 and sink.stats.duplicate == 0


async def test_events_left_at_shutdown_are_adopted_by_the_next_sink(
    pg: StoppablePostgres, tmp_path: Path
) -> None:
    env, spool_dir = pg.env(), tmp_path / "spool"
    room = "call-adopted"
    first = EventSink(lambda: GroupCommitCallCenter(env=env), spool_dir=spool_dir, max_memory=5)
    await first.start()
    await asyncio.to_thread(pg.stop)
    for i in range(12):
        first.put(interim(i, room))
    assert not await first.close(timeout=1.5)  # the store is still down: kept on disk
    [left] = spool_dir.glob("*.jsonl")
    assert len(left.read_text().splitlines()) == 12

    await asyncio.to_thread(pg.start)
    second = EventSink(
        lambda: GroupCommitCallCenter(env=env), spool_dir=spool_dir, base_delay_s=0.05
    )
    await second.start()
    assert second.stats.adopted == 12
    await eventually(lambda: second.backlog == 0, what="the adopted spool to be written")
    await second.close()
    check = GroupCommitCallCenter(env=env)
    try:
        assert [e.text for e in logged(check, room)[1:]] == [f"n{i}" for i in range(12)]
    finally:
        check.close()
    assert not list(spool_dir.glob("*.jsonl"))


def test_occurred_at_survives_the_spool() -> None:
    when = datetime.now(UTC) - timedelta(minutes=5)
    meta = EventMeta(source="agent", external_id="x/1", occurred_at=when)
    command = c.DetectSilence(room_name=ROOM, meta=meta, silent_for_s=31.0)
    assert decode_command(encode_command(command)).meta.occurred_at == when
