"""Replay: the auditor's timeline of a one-hour call (about 10,000 events), and the
call's state as it was at an instant, straight from the event store.

Ours: `projections.replay.replay` (what `callcenter replay` and the timeline API call),
judged on the median of several runs, with their spread. Baselines on the same call and
server, in the same run: fetching the call's stored rows without decoding them (the
floor; the target is a ratio to it, since absolute times move between machines), and the
eventsourcing library's `repository.get(id, version=...)` for the state at the same
instant. The run also times replay's parts (fetch, decode, fold, timeline entries) so the
section says where the time went in this run.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.codec import column_decoder
from apps.bench.common import BenchContext, BenchResult, repeated
from apps.bench.workload import one_hour_call
from domain.ids import conversation_id_for_room
from projections.fold import fold
from projections.replay import _TIMELINE_MODELS, build_timeline, replay

BENCH = "replay"
ROOM = "bench-one-hour-call"
#: The timeline's median at most this many times the raw fetch's median (same run).
RATIO_TARGET = 4.0


def _times(fn: Any, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _interleaved(fns: dict[str, Any], repeat: int) -> dict[str, list[float]]:
    """Each function's wall times (ms), taking turns so that a burst of load from the
    rest of the machine falls on all of them rather than on one."""
    for fn in fns.values():
        fn()  # warm-up
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - t) * 1000)
    return out


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    repeat = 5 if ctx.quick else 15
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

            # One open connection, as replay has from the application's pool: the floor
            # is the query and the transfer of the rows, not a connection's setup.
            conn = psycopg.connect(db.conninfo, row_factory=tuple_row, autocommit=True)

            def raw() -> None:
                conn.execute(fetch, (cid,), binary=True, prepare=True).fetchall()

            # Every event of this call is recorded in commands' order, so the version that
            # was current at `middle` is the number of events up to it.
            timeline = replay(app, ROOM)
            version_at = sum(1 for e in timeline.entries if e.recorded_at <= middle) or 1
            at_instant = timeline.entries[version_at - 1].recorded_at
            del timeline

            ctx.step(
                BENCH,
                f"timeline of {events:,} events, state at an instant, raw fetch: "
                f"{repeat} runs each, taking turns",
            )
            runs = _interleaved(
                {
                    "timeline": lambda: replay(app, ROOM),
                    "state_at_instant": lambda: replay(app, ROOM, at_instant),
                    "raw_fetch": raw,
                },
                repeat,
            )
            for name, ms in runs.items():
                ctx.step(BENCH, f"  {name}: median {statistics.median(ms):.1f} ms")
            ctx.step(BENCH, "baseline: library repository.get(version)")
            runs["library_get"] = _times(
                lambda: app.repository.get(cid, version=version_at), repeat
            )
            ctx.step(BENCH, "replay's parts: fetch, decode, fold, entries")
            parts = _parts(app, cid, repeat)
            conn.close()
        finally:
            app.close()
    timeline_figure = repeated(
        BENCH,
        f"timeline of a one-hour call ({events:,} events), median of {repeat}",
        runs["timeline"],
        "ms",
        "raw fetch of its rows (no decoding)",
        runs["raw_fetch"],
        RATIO_TARGET,
    )
    instant = repeated(
        BENCH,
        f"its state at an instant (+ timeline), median of {repeat}",
        runs["state_at_instant"],
        "ms",
        "eventsourcing repository.get(version)",
        runs["library_get"],
    )
    result.figures = [timeline_figure, instant]
    result.details = {
        "events": events,
        "runs": repeat,
        "ratio_target": RATIO_TARGET,
        "runs_ms": runs,
        "median_ms": {name: statistics.median(ms) for name, ms in runs.items()},
        "parts_median_ms": parts,
    }
    return result


def _parts(app: GroupCommitCallCenter, cid: Any, repeat: int) -> dict[str, float]:
    """Medians (ms) of replay's steps timed one by one, the collector off as replay has it
    (so they do not add up to replay's time exactly: it also frees what it built)."""
    import gc

    decode = column_decoder(app.mapper)
    out: dict[str, list[float]] = {"fetch": [], "decode": [], "fold": [], "entries": []}
    for _ in range(repeat):
        gc.disable()
        try:
            t0 = time.perf_counter()
            rows = app.store.select_log_rows(cid)
            t1 = time.perf_counter()
            events = [(p, decode(cid, v, topic, state)) for p, v, topic, state in rows]
            t2 = time.perf_counter()
            fold(events, _TIMELINE_MODELS, copies=False)
            t3 = time.perf_counter()
            build_timeline(cid, events)  # entries and the fold
            t4 = time.perf_counter()
        finally:
            gc.enable()
        out["fetch"].append((t1 - t0) * 1000)
        out["decode"].append((t2 - t1) * 1000)
        out["fold"].append((t3 - t2) * 1000)
        out["entries"].append(((t4 - t3) - (t3 - t2)) * 1000)
        del rows, events
        gc.collect()
    return {name: statistics.median(ms) for name, ms in out.items()}
