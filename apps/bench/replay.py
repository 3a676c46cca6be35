"""Replay: the auditor's timeline of a one-hour call (about 10,000 events), and the
call's state as it was at an instant, straight from the event store.

Ours: `projections.replay.replay` (what `callcenter replay` and the timeline API call),
best of several runs. Baselines on the same call and server: fetching the call's stored
rows without decoding them (the floor), and the eventsourcing library's
`repository.get(id, version=...)` for the state at the same instant.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from adapters.call_center import GroupCommitCallCenter
from apps.bench.common import BenchContext, BenchResult, Figure
from apps.bench.workload import one_hour_call
from domain.ids import conversation_id_for_room
from projections.replay import replay

BENCH = "replay"
ROOM = "bench-one-hour-call"


def _times(fn: Any, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    repeat = 3 if ctx.quick else 7
    with ctx.database("replay") as db:
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        try:
            commands = one_hour_call(ROOM)
            ctx.step(BENCH, f"recording a one-hour call: {len(commands):,} commands")
            for i in range(0, len(commands), 1000):
                app.record_many(commands[i : i + 1000])
            cid = conversation_id_for_room(ROOM)
            events = len(app.log_of(cid))
            middle = commands[len(commands) // 2].meta.occurred_at
            table = Identifier(app.recorder.events_table_name)  # type: ignore[attr-defined]
            fetch = SQL(
                "SELECT originator_version, topic, state, notification_id, prev_hash, chain_hash "
                "FROM {} WHERE originator_id = %s ORDER BY originator_version"
            ).format(table)

            def raw() -> None:
                with psycopg.connect(db.conninfo, row_factory=tuple_row) as conn:
                    conn.execute(fetch, (cid,), binary=True).fetchall()

            # Every event of this call is recorded in commands' order, so the version that
            # was current at `middle` is the number of events up to it.
            timeline = replay(app, ROOM)
            version_at = sum(1 for e in timeline.entries if e.recorded_at <= middle) or 1
            at_instant = timeline.entries[version_at - 1].recorded_at

            ctx.step(BENCH, f"timeline of {events:,} events, best of {repeat}")
            ours_full = _times(lambda: replay(app, ROOM), repeat)
            ctx.step(BENCH, f"  {min(ours_full):.1f} ms")
            ctx.step(BENCH, "state at an instant mid-call")
            ours_at = _times(lambda: replay(app, ROOM, at_instant), repeat)
            ctx.step(BENCH, f"  {min(ours_at):.1f} ms")
            ctx.step(BENCH, "baselines: raw fetch of the rows; library repository.get(version)")
            raw_ms = _times(raw, repeat)
            lib_ms = _times(lambda: app.repository.get(cid, version=version_at), repeat)
        finally:
            app.close()
    best_full, best_at = min(ours_full), min(ours_at)
    result.figures = [
        Figure(
            BENCH,
            f"timeline of a one-hour call ({events:,} events)",
            best_full,
            "ms",
            "raw fetch of its rows (no decoding)",
            min(raw_ms),
            "≤ 200 ms",
            best_full <= 200,
        ),
        Figure(
            BENCH,
            "its state at an instant (+ timeline)",
            best_at,
            "ms",
            "eventsourcing repository.get(version)",
            min(lib_ms),
            "≤ 200 ms",
            best_at <= 200,
        ),
    ]
    result.details = {
        "events": events,
        "runs_ms": {
            "timeline": ours_full,
            "state_at_instant": ours_at,
            "raw_fetch": raw_ms,
            "library_get": lib_ms,
        },
        "median_ms": {
            "timeline": statistics.median(ours_full),
            "state_at_instant": statistics.median(ours_at),
        },
    }
    return result
