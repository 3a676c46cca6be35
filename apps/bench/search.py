"""Search: `GET /api/search`'s query over the transcript lines of many generated calls.

Ours: the search read model's full-text query (`websearch_to_tsquery` against the GIN
index, newest 20 hits, with ts_headline snippets), exactly the statements the API runs:
the newest line's position, then windows of the log further and further back until one
holds a full page (`search_tries`). Baseline
in the same run, on the same rows: a case-insensitive substring scan (`ILIKE`) with the
same order and limit, what one would write without the read model's index. Queries mix
common phrases of the workload, a rarer one, and a word no call says (the worst case
for a scan).
"""

from __future__ import annotations

import os
import time

import psycopg
from psycopg.rows import dict_row

from adapters.call_center import GroupCommitCallCenter
from apps.bench.common import BenchContext, BenchResult, Figure, percentile
from apps.bench.generate import generate
from projections.history_queries import find_lines
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from projections.search import SEARCH_LINES
from projections.worker import EventSource

BENCH = "search"
CALLS = 100_000
#: The generated calls are the workload's script with this many turns (a call of two to
#: three minutes); each has about EVENTS_PER_CALL events. Full 24-turn calls would make
#: 100,000 calls 39 million events, more than this bench can generate in reasonable time.
TURNS = 6
EVENTS_PER_CALL = 110
TARGET_P95_MS = 100.0
QUERIES = ["warranty", "test drive", "financing options", "Whitfield", "zeppelin"]


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    # A smaller full run on a busy machine: CALLCENTER_BENCH_SEARCH_CALLS.
    calls = 500 if ctx.quick else int(os.environ.get("CALLCENTER_BENCH_SEARCH_CALLS", CALLS))
    rounds = 4 if ctx.quick else 20
    with ctx.database("search") as db:
        stored = generate(
            ctx, BENCH, db, calls * EVENTS_PER_CALL, concurrent_calls=500, processes=2, turns=TURNS
        )
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        try:
            source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
        finally:
            app.close()
        ctx.step(BENCH, f"{stored:,} events stored; rebuilding the search read model")
        started = time.perf_counter()
        rebuilt = rebuild(db.conninfo, source, READ_MODELS["search"])
        rebuild_s = time.perf_counter() - started
        with psycopg.connect(db.conninfo, row_factory=dict_row, autocommit=True) as conn:
            counts = conn.execute(
                f"SELECT count(DISTINCT conversation_id) AS calls, count(*) AS lines "
                f"FROM {SEARCH_LINES.name}"
            ).fetchone()
            assert counts is not None
            ctx.step(BENCH, f"{counts['calls']:,} calls, {counts['lines']:,} lines indexed")
            ours: list[float] = []
            scan: list[float] = []
            for _ in range(rounds):
                for q in QUERIES:  # taking turns, so load bursts fall on both
                    t = time.perf_counter()
                    find_lines(
                        lambda sql, params: conn.execute(sql.encode(), params).fetchall(),
                        q,
                        20,
                        None,
                    )
                    ours.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    conn.execute(
                        f"SELECT conversation_id, position, text FROM {SEARCH_LINES.name}"
                        " WHERE text ILIKE %s ORDER BY position DESC LIMIT 21",
                        (f"%{q}%",),
                    ).fetchall()
                    scan.append((time.perf_counter() - t) * 1000)
    p95, base95 = percentile(ours, 95), percentile(scan, 95)
    result.figures.append(
        Figure(
            BENCH,
            f"search p95 over {counts['calls']:,} calls of {TURNS} turns "
            f"({counts['lines']:,} lines), {len(ours)} queries",
            p95,
            "ms",
            "ILIKE scan, same order and limit, p95",
            base95,
            target=f"p95 ≤ {TARGET_P95_MS:g} ms",
            met=p95 <= TARGET_P95_MS,
            runs=len(ours),
        )
    )
    result.details.update(
        calls=counts["calls"],
        lines=counts["lines"],
        events=stored,
        rebuild_s=rebuild_s,
        rebuild_events=rebuilt.events,
        p50_ms=percentile(ours, 50),
        baseline_p50_ms=percentile(scan, 50),
        queries=QUERIES,
    )
    ctx.step(BENCH, f"p95 {p95:.1f} ms (ILIKE scan p95 {base95:.1f} ms)")
    return result
