"""Analyst rebuild: project from position 0 into a new generation of tables while the
live one keeps serving, then switch readers to it in one transaction (blue/green).

`rebuild_all` rebuilds several read models in one pass over the log: each batch of events
is read and decoded once and applied to every model's new tables in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from adapters.postgres.event_log import EventLog, decoded
from projections.base import ReadModel
from projections.sql_store import SqlRowStore
from projections.tracking import (
    Generation,
    advance,
    create_generation,
    ensure_projection,
    lock_active,
    lock_generation,
    lock_model,
    point_views,
)
from projections.worker import EventSource, apply_events, relaxed_commit


@dataclass(frozen=True)
class RebuildProgress:
    name: str
    done: int
    total: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)


@dataclass(frozen=True)
class RebuildResult:
    name: str
    generation: int
    events: int
    elapsed_s: float
    position: int


def rebuild(
    conninfo: str,
    source: EventSource,
    model: ReadModel,
    *,
    batch_size: int = 5000,
    progress: Callable[[RebuildProgress], None] | None = None,
) -> RebuildResult:
    return rebuild_all(conninfo, source, [model], batch_size=batch_size, progress=progress)[0]


def rebuild_all(
    conninfo: str,
    source: EventSource,
    models: Sequence[ReadModel],
    *,
    batch_size: int = 5000,
    progress: Callable[[RebuildProgress], None] | None = None,
    workers: int = 1,
) -> list[RebuildResult]:
    """Rebuild `models` from position 0 into new generations, in one pass over the log,
    then switch readers to all of them in one transaction.

    With `workers` > 1 the bulk of the log (up to the head when the rebuild starts) is
    projected by that many processes, each taking the conversations of one shard: every
    row of every read model belongs to one conversation, so the shards never write the
    same rows, and each event is applied once, by its conversation's shard. The new
    generations' positions then move to that head in one step, and the rest is done as
    with one worker. (Needs a mapper that can be rebuilt in another process.)"""
    started = time.perf_counter()
    models = list(models)
    label = models[0].name if len(models) == 1 else "all"
    with psycopg.connect(conninfo) as conn:
        new: dict[str, int] = {}
        total = 0
        for model in models:
            ensure_projection(conn, model)
            with conn.transaction(), conn.cursor() as cur:
                lock_model(cur, model.name)
                cur.execute(
                    "SELECT coalesce(max(generation), 0) + 1 FROM projection_generations "
                    "WHERE name = %s",
                    (model.name,),
                )
                row = cur.fetchone()
                assert row is not None
                new[model.name] = int(row[0])
                create_generation(cur, model, new[model.name])
                cur.execute(
                    "INSERT INTO projection_generations (name, generation) VALUES (%s, %s)",
                    (model.name, new[model.name]),
                )
                total = source.head(cur)
        done = 0

        def report() -> None:
            if progress is not None:
                progress(
                    RebuildProgress(label, done, max(total, done), time.perf_counter() - started)
                )

        spec = _portable(source)
        sharded = workers > 1 and spec is not None and total > batch_size * workers
        if sharded:
            assert spec is not None
            done = _sharded_bulk(
                conninfo,
                source.events_table,
                spec,
                models,
                new,
                total,
                workers,
                batch_size,
                lambda n: (
                    progress(
                        RebuildProgress(label, n, max(total, n), time.perf_counter() - started)
                    )
                    if progress is not None
                    else None
                ),
            )
            with conn.transaction(), conn.cursor() as cur:
                for model in models:
                    advance(cur, lock_generation(cur, model.name, new[model.name]), total)
        # The new tables start empty and only this rebuild writes them: each model's rows
        # are carried in memory from batch to batch instead of being read back (unless
        # other processes wrote some of them).
        stores = {
            m.name: SqlRowStore(conn.cursor(), m, new[m.name], complete=not sharded) for m in models
        }

        def apply_next(cur: psycopg.Cursor[Any]) -> tuple[int, int]:
            """The next batch into every new generation; (events read, new position)."""
            gens = [lock_generation(cur, m.name, new[m.name]) for m in models]
            after = min(g.position for g in gens)
            batch = source.read(cur, after, batch_size)
            if not batch:
                return 0, after
            for model, g in zip(models, gens, strict=True):
                mine = (
                    batch if g.position <= after else [(p, e) for p, e in batch if p > g.position]
                )
                store = stores[model.name]
                store.rebind(cur)
                apply_events(cur, model, g, mine, store=store, defer=deferring)
            return len(batch), batch[-1][0]

        def flush_deferred(cur: psycopg.Cursor[Any]) -> None:
            for store in stores.values():
                store.rebind(cur)
                store.flush()

        # Bulk of the work: the live generations go on serving and following the log.
        # Read models are derived data: their commits need not wait for the disk (a crash
        # loses a suffix of batches together with their tracked positions).
        # Rows that later events replace (a call's row, its latest interims) are written
        # once, at the end of the bulk, not after every batch: nobody reads the new
        # generations before the switch.
        deferring = True
        while True:
            with conn.transaction(), conn.cursor() as cur:
                relaxed_commit(cur)
                applied, position = apply_next(cur)
                if applied < batch_size:
                    flush_deferred(cur)
            done += applied
            report()
            if applied < batch_size:
                break
        deferring = False
        # The planner needs the new tables' statistics before readers switch to them (a bulk
        # load leaves none until autovacuum comes round): without them a full-text search
        # for a word no line holds walks every line.
        with conn.transaction(), conn.cursor() as cur:
            for model in models:
                for table in model.tables:
                    cur.execute(f"ANALYZE {table.physical(new[model.name])}")
        # Switch: hold the live generations' rows so their workers pause, catch up the last
        # events, repoint the views and swap the active flags, all in one commit.
        olds: dict[str, Generation | None] = {}
        with conn.transaction(), conn.cursor() as cur:
            for model in models:
                lock_model(cur, model.name)
                olds[model.name] = lock_active(cur, model.name)
            while True:
                applied, position = apply_next(cur)
                done += applied
                if applied == 0:
                    break
            for model in models:
                gen = new[model.name]
                point_views(cur, model, gen)
                old = olds[model.name]
                if old is not None:
                    cur.execute(
                        "UPDATE projection_generations SET active = false "
                        "WHERE name = %s AND generation = %s",
                        (model.name, old.generation),
                    )
                cur.execute(
                    "UPDATE projection_generations SET active = true, updated_at = now() "
                    "WHERE name = %s AND generation = %s",
                    (model.name, gen),
                )
                advance(cur, lock_generation(cur, model.name, gen), position)
        report()
        # The old tables are no longer read by anyone: drop them.
        for model in models:
            old = olds[model.name]
            if old is None:
                continue
            with conn.transaction(), conn.cursor() as cur:
                for table in model.tables:
                    cur.execute(
                        SQL("DROP TABLE IF EXISTS {}").format(
                            Identifier(table.physical(old.generation))
                        )
                    )
                cur.execute(
                    "DELETE FROM projection_generations WHERE name = %s AND generation = %s",
                    (model.name, old.generation),
                )
    elapsed = time.perf_counter() - started
    return [RebuildResult(m.name, new[m.name], done, elapsed, position) for m in models]


# --- sharded bulk ---------------------------------------------------------------------------


def _portable(source: EventSource) -> Any:
    portable = getattr(source.mapper, "portable", None)
    return portable() if callable(portable) else None


def _sharded_bulk(
    conninfo: str,
    events_table: str,
    spec: Any,
    models: list[ReadModel],
    generations: dict[str, int],
    upto: int,
    workers: int,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> int:
    """Project events up to `upto` with `workers` processes; returns events applied."""
    import multiprocessing

    mp = multiprocessing.get_context("spawn")
    counter = mp.Value("q", 0)
    procs = [
        mp.Process(
            target=_project_shard,
            args=(
                conninfo,
                events_table,
                spec,
                models,
                generations,
                upto,
                k,
                workers,
                batch_size,
                counter,
            ),
            daemon=True,
        )
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        while any(p.is_alive() for p in procs):
            if progress is not None:
                progress(int(counter.value))
            for p in procs:
                p.join(0.2)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError("a rebuild worker failed")
    return int(counter.value)


def _project_shard(
    conninfo: str,
    events_table: str,
    spec: Any,
    models: list[ReadModel],
    generations: dict[str, int],
    upto: int,
    shard: int,
    shards: int,
    batch_size: int,
    counter: Any,
) -> None:
    """One worker: the events up to `upto` of the conversations in its shard, into the
    new generations (whose positions it leaves alone)."""
    mapper = spec[0].from_portable(spec)
    log = EventLog(events_table)
    window = batch_size * shards
    with psycopg.connect(conninfo) as conn:
        stores = {
            m.name: SqlRowStore(conn.cursor(), m, generations[m.name], complete=True)
            for m in models
        }
        after = 0
        while after < upto:
            until = min(after + window, upto)
            with conn.transaction(), conn.cursor() as cur:
                relaxed_commit(cur)
                rows = log.shard_window(cur, after, until, shards, shard)
                batch = decoded(rows, mapper.decode)
                last = until >= upto
                for model in models:
                    store = stores[model.name]
                    store.rebind(cur)
                    generation = Generation(model.name, generations[model.name], 0, False)
                    if batch:
                        apply_events(
                            cur, model, generation, batch, store=store, track=False, defer=True
                        )
                    if last:  # write what was deferred
                        store.flush()
            after = until
            if rows:
                with counter.get_lock():
                    counter.value += len(rows)
