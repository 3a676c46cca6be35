"""Projecting the event log into read models: batches, exactly once, then live.

Each batch is one transaction that locks the read model's tracking row, reads the next
events after its position, applies them to the rows, moves the position and notifies
listeners. A crash anywhere rolls the whole batch back; the next run starts where the
last committed batch ended, so nothing is applied twice and nothing is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent
from psycopg import Connection, Cursor
from psycopg.sql import SQL, Identifier

from projections.base import ReadModel
from projections.sql_store import SqlRowStore
from projections.tracking import Generation, advance, ensure_projection, lock_active

log = logging.getLogger(__name__)

#: Test hook: called after a batch is applied, before its commit.
BatchHook = Callable[[str, int], None]


class EventSource:
    """Reads the event log in position order and decodes it."""

    def __init__(self, events_table: str, mapper: Mapper[Any]) -> None:
        self.events_table = events_table
        self.mapper = mapper
        self._select = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(Identifier(events_table))

    def read(self, cur: Cursor[Any], after: int, limit: int) -> list[tuple[int, Any]]:
        cur.execute(self._select, (after, limit), prepare=True)
        decode = self.mapper.to_domain_event
        return [
            (row[0], decode(StoredEvent(row[1], row[2], row[3], bytes(row[4]))))
            for row in cur.fetchall()
        ]

    def head(self, cur: Cursor[Any]) -> int:
        cur.execute(
            SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                Identifier(self.events_table)
            )
        )
        row = cur.fetchone()
        return int(row[0]) if row else 0


def apply_batch(
    cur: Cursor[Any],
    source: EventSource,
    model: ReadModel,
    generation: Generation,
    batch_size: int,
    hook: BatchHook | None = None,
) -> tuple[int, int]:
    """Apply the next batch into `generation`; returns (events applied, new position)."""
    batch = source.read(cur, generation.position, batch_size)
    if not batch:
        return 0, generation.position
    store = SqlRowStore(cur, model, generation.generation)
    store.prefetch(event.originator_id for _, event in batch)
    for position, event in batch:
        model.handle(event, position, store)
    store.flush()
    position = batch[-1][0]
    if hook is not None:
        hook(model.name, position)
    advance(cur, generation, position)
    return len(batch), position


class ProjectionWorker:
    """Keeps one or more read models up to date from one connection."""

    def __init__(
        self,
        conninfo: str,
        source: EventSource,
        models: Sequence[ReadModel],
        *,
        batch_size: int = 2000,
        hook: BatchHook | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.source = source
        self.models = list(models)
        self.batch_size = batch_size
        self.hook = hook
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ensured = False

    def catch_up(self, conn: Connection[Any] | None = None) -> int:
        """Project every read model to the head of the log; returns events applied."""
        if conn is None:
            with psycopg.connect(self.conninfo) as own:
                return self.catch_up(own)
        if not self._ensured:
            for model in self.models:
                ensure_projection(conn, model)
            self._ensured = True
        total = 0
        for model in self.models:
            while True:
                with conn.transaction(), conn.cursor() as cur:
                    generation = lock_active(cur, model.name)
                    if generation is None:  # a rebuild is switching: retry next round
                        break
                    applied, _ = apply_batch(
                        cur, self.source, model, generation, self.batch_size, self.hook
                    )
                total += applied
                if applied < self.batch_size:
                    break
        return total

    # --- following the log live ---------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="projections", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> None:
        """Catch up, then wake on every NOTIFY from the event store; survive restarts."""
        delay = 0.5
        while not self._stop.is_set():
            try:
                with (
                    psycopg.connect(self.conninfo, autocommit=True) as listener,
                    psycopg.connect(self.conninfo) as conn,
                ):
                    listener.execute(SQL("LISTEN {}").format(Identifier(self.source.events_table)))
                    delay = 0.5
                    while not self._stop.is_set():
                        self.catch_up(conn)
                        # Wake on a notification, or every second in case one was missed.
                        for _ in listener.notifies(timeout=1.0, stop_after=1):
                            pass
            except psycopg.OperationalError as e:
                log.warning("projection worker lost the database (%s); retrying in %.1fs", e, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            except Exception:
                log.exception("projection worker failed; restarting")
                time.sleep(1.0)
