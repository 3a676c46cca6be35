"""Analyst rebuild: project from position 0 into a new generation of tables while the
live one keeps serving, then switch readers to it in one transaction (blue/green)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg.sql import SQL, Identifier

from projections.base import ReadModel
from projections.tracking import (
    advance,
    create_generation,
    ensure_projection,
    lock_active,
    lock_generation,
    lock_model,
    point_views,
)
from projections.worker import EventSource, apply_batch


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
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
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
            new = int(row[0])
            create_generation(cur, model, new)
            cur.execute(
                "INSERT INTO projection_generations (name, generation) VALUES (%s, %s)",
                (model.name, new),
            )
            total = source.head(cur)
        done = 0

        def report() -> None:
            if progress is not None:
                progress(
                    RebuildProgress(
                        model.name, done, max(total, done), time.perf_counter() - started
                    )
                )

        # Bulk of the work: the live generation goes on serving and following the log.
        while True:
            with conn.transaction(), conn.cursor() as cur:
                g = lock_generation(cur, model.name, new)
                applied, position = apply_batch(cur, source, model, g, batch_size)
            done += applied
            report()
            if applied < batch_size:
                break
        # Switch: hold the live generation's row so its worker pauses, catch up the last
        # events, repoint the views and swap the active flags, all in one commit.
        with conn.transaction(), conn.cursor() as cur:
            lock_model(cur, model.name)
            old = lock_active(cur, model.name)
            while True:
                g = lock_generation(cur, model.name, new)
                applied, position = apply_batch(cur, source, model, g, batch_size)
                done += applied
                if applied == 0:
                    break
            point_views(cur, model, new)
            if old is not None:
                cur.execute(
                    "UPDATE projection_generations SET active = false "
                    "WHERE name = %s AND generation = %s",
                    (model.name, old.generation),
                )
            cur.execute(
                "UPDATE projection_generations SET active = true, updated_at = now() "
                "WHERE name = %s AND generation = %s",
                (model.name, new),
            )
            advance(cur, lock_generation(cur, model.name, new), position)
        report()
        # The old tables are no longer read by anyone: drop them.
        if old is not None:
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
    return RebuildResult(model.name, new, done, time.perf_counter() - started, position)
