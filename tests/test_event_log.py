"""Reading the event log by position: pages, windows per shard, ranges per conversation,
and one module that holds the SQL for it."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from adapters.postgres.event_log import EventLog, decoded
from domain import commands as c
from domain.ids import conversation_id_for_room
from tests.factories import meta

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["domain", "adapters", "projections", "apps"]
ROOMS = ["call-log-a", "call-log-b", "call-log-c"]


def _record(app: GroupCommitCallCenter) -> None:
    for room in ROOMS:
        app.record(c.StartCall(room_name=room, meta=meta("webhook")))
    for i in range(4):
        for room in ROOMS:
            app.record(
                c.RecordFinalTranscript(
                    room_name=room, meta=meta(), speaker="customer", text=f"line {i}"
                )
            )


def test_pages_shards_and_head_cover_the_log_once(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    _record(app)
    log = EventLog(app.recorder.events_table_name)  # type: ignore[attr-defined]
    with psycopg.connect(db.conninfo) as conn, conn.cursor() as cur:
        head = log.head(cur)
        pages, after = [], 0
        while rows := log.page(cur, after, 4):
            assert len(rows) <= 4
            pages.extend(rows)
            after = rows[-1][0]
        positions = [r[0] for r in pages]
        assert positions == sorted(positions) and positions[-1] == head
        assert len(positions) == len(ROOMS) * 6  # opened, started, four lines each
        shards = [log.shard_window(cur, 0, head, 2, k) for k in range(2)]
        assert sorted(r[0] for s in shards for r in s) == positions
        events = decoded(pages, app.column_decoder())
        assert [p for p, _ in events] == positions
        assert {type(e).__name__ for _, e in events} >= {"CallStarted", "FinalTranscriptRecorded"}


async def test_ranges_of_all_some_and_one_conversation(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    _record(app)
    log = EventLog(app.recorder.events_table_name)  # type: ignore[attr-defined]
    a, b = (conversation_id_for_room(r) for r in ROOMS[:2])
    async with await psycopg.AsyncConnection.connect(db.conninfo) as conn:
        async with conn.cursor() as cur:
            head = await log.head_async(cur)
            everything = await log.range_async(cur, 0, head, 1000)
            assert [r[0] for r in everything] == sorted(r[0] for r in everything)
            middle = await log.range_async(cur, 3, head - 3, 1000)
            assert middle == [r for r in everything if 3 < r[0] <= head - 3]
            assert len(await log.range_async(cur, 0, head, 5)) == 5
            some = await log.range_async(cur, 0, head, 1000, [a, b])
            assert some == [r for r in everything if r[1] in (a, b)]
            one = await log.conversation_range_async(cur, a, 0, head, 1000)
            assert one == [r for r in everything if r[1] == a]


def test_one_module_holds_the_sql_reading_the_log_by_position() -> None:
    reading = re.compile(r"notification_id,\s*originator_id,\s*originator_version")
    found = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if reading.search(path.read_text())
    ]
    assert found == ["adapters/postgres/event_log.py"]
