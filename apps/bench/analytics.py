"""Analytics: `GET /api/analytics` over 1,000,000 events, and the rebuild rate of the
read models issue 14 added (search, analytics, and the post-call insight models).

Ours:
- the analytics API's two statements (calls and turns, bucketed with GROUPING SETS) over
  the analytics read model, for the whole generated span per day and for two days per hour;
- a blue/green rebuild of the new read models in one pass over the log (2 processes).

Baselines in the same run, on the same events and server:
- for the API: the report's input computed at request time without a read model, by
  folding every event of the log through the same analytics handlers (decoding included;
  the aggregation after the fold is left out, which favours the baseline);
- for the rebuild: a rebuild of the read models that existed before issue 14, and a raw
  keyset scan with decoding (the ceiling of any rebuild).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from adapters.call_center import GroupCommitCallCenter
from apps.bench.common import BenchContext, BenchResult, Figure, percentile
from apps.bench.generate import generate
from apps.bench.rebuild import raw_scan
from projections.analytics import ANALYTICS_CALLS
from projections.analytics_queries import AnalyticsRange, analytics_report, analytics_sql
from projections.rebuild import rebuild_all
from projections.registry import READ_MODELS
from projections.store import MemoryRowStore
from projections.worker import EventSource

BENCH = "analytics"
EVENTS = 1_000_000
TARGET_API_MS = 300.0
TARGET_REBUILD = 50_000.0
#: The read models issue 14 added; the others existed before it.
NEW_MODELS = ("search", "analytics", "insight", "sentiment", "qa")


def _timed_report(conninfo: str, period: AnalyticsRange) -> tuple[float, dict[str, object]]:
    (calls_sql, params), (turns_sql, _) = analytics_sql(period)
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        t = time.perf_counter()
        calls = conn.execute(calls_sql.encode(), params).fetchall()
        turns = conn.execute(turns_sql.encode(), params).fetchall()
        report = analytics_report(period, calls, turns)
        return (time.perf_counter() - t) * 1000, report


def _fold_log(conninfo: str, source: EventSource) -> tuple[int, float]:
    """Every event folded through the analytics handlers in memory: (events, seconds)."""
    model = READ_MODELS["analytics"]
    store = MemoryRowStore(copies=False)
    n, after = 0, 0
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        while batch := source.read(cur, after, 5000):
            for position, event in batch:
                model.handle(event, position, store)
            n += len(batch)
            after = batch[-1][0]
    return n, time.perf_counter() - started


def _spread(values: list[float]) -> tuple[float, float]:
    return (min(values), max(values))


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    events = 20_000 if ctx.quick else EVENTS
    rounds = 5 if ctx.quick else 30
    new = [READ_MODELS[n] for n in NEW_MODELS if n in READ_MODELS]
    old = [m for m in READ_MODELS.values() if m.name not in NEW_MODELS]
    with ctx.database("analytics") as db:
        stored = generate(ctx, BENCH, db, events, concurrent_calls=500, processes=2)
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        try:
            source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
            ctx.step(BENCH, "baseline: raw keyset scan with decoding")
            raw_n, raw_s = raw_scan(db, app)
        finally:
            app.close()
        rates: dict[str, float] = {}
        for label, models in (("new", new), ("old", old)):
            names = ", ".join(m.name for m in models)
            ctx.step(BENCH, f"rebuilding {names} (2 processes)")
            done = rebuild_all(db.conninfo, source, models, workers=2)[0]
            rates[label] = done.events / done.elapsed_s
            ctx.step(BENCH, f"  {done.events:,} events in {done.elapsed_s:.1f}s")

        with psycopg.connect(db.conninfo, row_factory=dict_row) as conn:
            span = conn.execute(
                f"SELECT min(opened_at) AS first, max(opened_at) AS last, count(*) AS calls,"
                f" sum(sentiment_n) AS lines FROM {ANALYTICS_CALLS.name}"
            ).fetchone()
        assert span is not None and span["calls"], "the workload opened no calls"
        now = datetime.now(UTC)
        whole = AnalyticsRange.of(
            span["first"].replace(hour=0, minute=0, second=0, microsecond=0),
            span["last"] + timedelta(seconds=1),
            "day",
            now,
        )
        hourly = AnalyticsRange.of(whole.start, whole.start + timedelta(days=2), "hour", now)
        timings: dict[str, list[float]] = {"day": [], "hour": []}
        report: dict[str, object] = {}
        for _ in range(rounds):
            ms, report = _timed_report(db.conninfo, whole)
            timings["day"].append(ms)
            timings["hour"].append(_timed_report(db.conninfo, hourly)[0])
        totals = report["totals"]
        assert isinstance(totals, dict) and totals["calls"] == span["calls"]
        ctx.step(BENCH, "baseline: folding the whole log at request time")
        fold_n, fold_s = _fold_log(db.conninfo, source)

    fold_ms = fold_s * 1000
    for bucket, period in (("day", whole), ("hour", hourly)):
        values = timings[bucket]
        p95 = percentile(values, 95)
        result.figures.append(
            Figure(
                BENCH,
                f"GET /api/analytics p95, {len(period.bucket_starts())} {bucket} buckets "
                f"({stored:,} events, {span['calls']:,} calls)",
                p95,
                "ms",
                f"fold of the log at request time ({fold_n:,} events, 1 run)",
                fold_ms,
                target=f"≤ {TARGET_API_MS:g} ms",
                met=p95 <= TARGET_API_MS,
                spread=_spread(values),
                runs=len(values),
                note=f"median {statistics.median(values):.1f} ms",
            )
        )
    new_names = ", ".join(m.name for m in new)
    result.figures.append(
        Figure(
            BENCH,
            f"rebuild of the new read models ({new_names}), 2 proc",
            rates["new"],
            "ev/s",
            "rebuild of the earlier read models, 2 proc",
            rates["old"],
            target=f"≥ {TARGET_REBUILD:,.0f} ev/s",
            met=rates["new"] >= TARGET_REBUILD,
        )
    )
    result.figures.append(
        Figure(
            BENCH,
            f"rebuild of the new read models ({new_names}), 2 proc",
            rates["new"],
            "ev/s",
            "raw keyset scan + decode (1 proc)",
            raw_n / raw_s,
        )
    )
    result.details.update(
        events=stored,
        calls=span["calls"],
        customer_lines=span["lines"],
        day_ms=timings["day"],
        hour_ms=timings["hour"],
        fold_events=fold_n,
        fold_s=fold_s,
        totals=totals,
    )
    return result
