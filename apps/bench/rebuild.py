"""Rebuild: events/s rebuilding every read model from the log (1,000,000 events).

Ours: `projections.rebuild.rebuild_all` over every read model, into new generations of
their tables, switched in at the end (blue/green), each batch read and decoded once.

Baselines on the same events and server:
- a raw keyset scan (`WHERE notification_id > last ORDER BY notification_id LIMIT n`)
  with every event decoded by the application's mapper, doing nothing else;
- the eventsourcing library's stock `ProjectionRunner` (subscription, `Projection`,
  PostgreSQL tracking recorder) applying the same read-model handlers to tables of their
  own, one transaction per event. At that pace a million events would take long, so it
  runs on the first events only, for a bounded time (a rate is a rate).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.codec import column_decoder
from adapters.postgres.database import DatabaseSettings
from adapters.postgres.event_log import EventLog
from apps.bench.common import BenchContext, BenchResult, Figure
from apps.bench.generate import generate
from projections.base import ReadModel
from projections.rebuild import RebuildProgress, rebuild_all
from projections.registry import READ_MODELS
from projections.sql_store import SqlRowStore
from projections.tracking import create_generation
from projections.worker import EventSource

BENCH = "rebuild"
STOCK_GENERATION = 900  # the stock runner's own tables: <table>_g900


def raw_scan(
    db: DatabaseSettings, app: GroupCommitCallCenter, limit: int = 5000
) -> tuple[int, float]:
    """Every event, keyset-paged and decoded; (events, seconds)."""
    log = EventLog(app.recorder.events_table_name)  # type: ignore[attr-defined]
    mapper: Any = app.mapper
    decode = column_decoder(mapper)  # the same decoding the projections use
    n = 0
    started = time.perf_counter()
    with psycopg.connect(db.conninfo, row_factory=tuple_row) as conn, conn.cursor() as cur:
        after = 0
        while True:
            rows = log.page(cur, after, limit)
            if not rows:
                break
            for row in rows:
                decode(row[1], row[2], row[3], bytes(row[4]))
            n += len(rows)
            after = rows[-1][0]
    return n, time.perf_counter() - started


# --- the stock ProjectionRunner -------------------------------------------------------------


class StockView(PostgresTrackingRecorder):
    """A materialised view the library's way: each event and its tracking record in one
    transaction, through the same read-model handlers and row store."""

    models: ClassVar[list[ReadModel]] = []

    def apply(self, event: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            cur = curs.connection.cursor(row_factory=tuple_row)
            for model in self.models:
                store = SqlRowStore(cur, model, STOCK_GENERATION)
                store.prefetch([event.originator_id])
                model.handle(event, tracking.notification_id, store)
                store.flush()
            self._insert_tracking(curs, tracking)


class StockProjection(Projection[StockView]):
    name = "bench_stock_projection"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)


def stock_runner(
    db: DatabaseSettings, events_table: str, sample: int, max_seconds: float
) -> tuple[int, float]:
    """(events processed, seconds) by the stock runner from position 0: until it has
    processed `sample` events, or for `max_seconds`."""
    models = list(READ_MODELS.values())
    table = Identifier(events_table)
    with psycopg.connect(db.conninfo) as conn, conn.transaction(), conn.cursor() as cur:
        for model in models:
            create_generation(cur, model, STOCK_GENERATION)
        cur.execute(
            SQL("SELECT notification_id FROM {} ORDER BY notification_id OFFSET %s LIMIT 1").format(
                table
            ),
            (sample - 1,),
        )
        row = cur.fetchone()
    StockView.models = models
    target = int(row[0]) if row else None
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=GroupCommitCallCenter,
        projection_class=StockProjection,
        view_class=StockView,
        env=db.eventsourcing_env(),
    ) as runner:
        deadline = started + max_seconds
        done, first, first_at = 0, 0, started
        while time.perf_counter() < deadline:
            done = runner.view.max_tracking_id(runner.app_name) or 0
            if not first and done:  # measured from its first event: start-up excluded
                first, first_at = done, time.perf_counter()
            if target is None or done >= target or runner.is_interrupted.is_set():
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - first_at
        done = runner.view.max_tracking_id(runner.app_name) or 0
    with psycopg.connect(db.conninfo) as conn:
        counted = conn.execute(
            SQL(
                "SELECT count(*) FROM {} WHERE notification_id > %s AND notification_id <= %s"
            ).format(table),
            (first, done),
        ).fetchone()
    return (int(counted[0]) if counted else 0), elapsed


# --- the bench --------------------------------------------------------------------------------


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    quick = ctx.quick
    target_events = 20_000 if quick else 1_000_000
    with ctx.database("rebuild") as db:
        ctx.step(BENCH, f"generating {target_events:,} events of simulated calls")
        stored = generate(
            ctx,
            BENCH,
            db,
            target_events,
            concurrent_calls=200 if quick else 500,
            processes=1 if quick else 2,
        )
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        try:
            ctx.step(BENCH, "baseline: raw keyset scan with decoding")
            raw_n, raw_s = raw_scan(db, app)
            raw_rate = raw_n / raw_s
            ctx.step(BENCH, f"  {raw_n:,} events in {raw_s:.1f}s: {raw_rate:,.0f} events/s")

            events_table = app.recorder.events_table_name  # type: ignore[attr-defined]
            source = EventSource(events_table, app.mapper)
            runs: dict[int, tuple[int, float]] = {}
            for workers in (1, 2):
                ctx.step(
                    BENCH,
                    f"rebuilding all {len(READ_MODELS)} read models, {workers} process(es)",
                )
                bar = ctx.progress.bar(f"rebuild x{workers}")

                def show(p: RebuildProgress, bar: Any = bar) -> None:
                    bar.update(p.done, p.total, p.rate, p.eta_s, final=p.done >= p.total)

                results = rebuild_all(
                    db.conninfo,
                    source,
                    list(READ_MODELS.values()),
                    progress=show,
                    workers=workers,
                )
                n, secs = results[0].events, results[0].elapsed_s
                runs[workers] = (n, secs)
                ctx.step(BENCH, f"  {n:,} events in {secs:.1f}s: {n / secs:,.0f} events/s")
        finally:
            app.close()

        sample = 1_000 if quick else 20_000
        max_s = 15.0 if quick else 120.0
        ctx.step(
            BENCH,
            f"baseline: stock ProjectionRunner, one transaction per event "
            f"(first {sample:,} events, at most {max_s:.0f}s)",
        )
        stock_n, stock_s = stock_runner(db, events_table, sample, max_s)
        stock_rate = stock_n / stock_s if stock_s else 0.0
        ctx.step(BENCH, f"  {stock_n:,} events in {stock_s:.1f}s: {stock_rate:,.0f} events/s")
    (one_n, one_s), (two_n, two_s) = runs[1], runs[2]
    one_rate, ours_rate, ours_n = one_n / one_s, two_n / two_s, two_n
    best = max(one_rate, ours_rate)
    result.figures = [
        Figure(
            BENCH,
            f"rebuild all models, 2 proc ({ours_n:,} ev)",
            ours_rate,
            "ev/s",
            f"stock ProjectionRunner (sample of {stock_n:,})",
            stock_rate,
            "≥ 50,000 ev/s and ≥ 30× stock runner",
            best >= 50_000 and best >= 30 * stock_rate,
        ),
        Figure(
            BENCH,
            f"rebuild all models, 2 proc ({ours_n:,} ev)",
            ours_rate,
            "ev/s",
            "raw keyset scan + decode (1 proc)",
            raw_rate,
            "≥ 40% of raw scan",
            best >= 0.4 * raw_rate,
        ),
        Figure(
            BENCH,
            f"rebuild all models, 1 proc ({one_n:,} ev)",
            one_rate,
            "ev/s",
            "raw keyset scan + decode (1 proc)",
            raw_rate,
        ),
    ]
    result.details = {
        "events": stored,
        "ours": {"events": ours_n, "seconds": two_s, "rate": ours_rate, "processes": 2},
        "one_process": {"events": one_n, "seconds": one_s, "rate": one_rate},
        "raw_scan": {"events": raw_n, "seconds": raw_s, "rate": raw_rate},
        "stock_runner": {
            "events": stock_n,
            "seconds": stock_s,
            "rate": stock_rate,
            "sample": sample,
        },
        "models": list(READ_MODELS),
    }
    return result
