"""Projecting the event log into read models: batches, exactly once, then live.

Each batch is one transaction that locks the read model's tracking row, reads the next
events after its position, applies them to the rows, moves the position and notifies
listeners. A crash anywhere rolls the whole batch back; the next run starts where the
last committed batch ended, so nothing is applied twice and nothing is skipped.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper
from psycopg import Connection, Cursor
from psycopg.sql import SQL, Identifier

from adapters.postgres.codec import column_decoder
from adapters.postgres.event_log import EventLog, decoded
from projections.base import ReadModel
from projections.redaction import redacted_event
from projections.sql_store import SqlRowStore
from projections.tracking import Generation, advance, ensure_projection, lock_active

log = logging.getLogger(__name__)

#: Test hook: called after a batch is applied, before its commit.
BatchHook = Callable[[str, int], None]


class EventSource:
    """Reads the event log in position order and decodes it.

    Within `sharing()`, what was read is kept (up to `max_shared_events`) so that the
    other read models reading the same part of the log get the decoded events without a
    second query or a second decode. A read after position `a` that returned events up to
    position `b` holds every event in (a, b]: positions commit in order, and events never
    change, so any later read starting inside (a, b] is served from it."""

    def __init__(self, events_table: str, mapper: Mapper[Any]) -> None:
        self.events_table = events_table
        self.mapper = mapper
        self.log = EventLog(events_table)
        self._shared: _Decoded | None = None
        self._depth = 0
        self.max_shared_events = 50_000

    @contextlib.contextmanager
    def sharing(self) -> Iterator[None]:
        if self._depth == 0:
            self._shared = _Decoded(self.max_shared_events)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._shared = None

    def read(self, cur: Cursor[Any], after: int, limit: int) -> list[tuple[int, Any]]:
        shared = self._shared
        if shared is not None:
            hit = shared.get(after, limit)
            if hit is not None:
                return hit
        batch = decoded(self.log.page(cur, after, limit), column_decoder(self.mapper))
        if shared is not None:
            shared.add(after, batch)
        return batch

    def head(self, cur: Cursor[Any]) -> int:
        return self.log.head(cur)


class _Decoded:
    """Decoded stretches of the log, each `[after, positions, events]`: every event
    in (after, positions[-1]]. A read that continues a stretch extends it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.spans: list[list[Any]] = []  # by `after`, ascending

    def get(self, after: int, limit: int) -> list[tuple[int, Any]] | None:
        for span in reversed(self.spans):
            start, positions, events = span
            if start <= after < positions[-1]:
                i = bisect.bisect_right(positions, after)
                found: list[tuple[int, Any]] = events[i : i + limit]
                return found
        return None

    def add(self, after: int, events: list[tuple[int, Any]]) -> None:
        if not events:
            return
        for span in self.spans:
            if span[1][-1] == after:  # continues this stretch
                span[1].extend(p for p, _ in events)
                span[2].extend(events)
                break
        else:
            span = [after, [p for p, _ in events], list(events)]
            bisect.insort(self.spans, span, key=lambda sp: sp[0])
        self.count += len(events)
        while self.count > self.limit:
            oldest = self.spans[0]
            drop = min(len(oldest[2]), self.count - self.limit + self.limit // 4)
            if drop >= len(oldest[2]):
                if len(self.spans) == 1:
                    break
                self.spans.pop(0)
                self.count -= len(oldest[2])
                continue
            oldest[0] = oldest[1][drop - 1]  # the stretch now starts after the last dropped
            del oldest[1][:drop], oldest[2][:drop]
            self.count -= drop


def relaxed_commit(cur: Cursor[Any]) -> None:
    """Read models are derived data, rebuilt from the log: their transactions need not
    wait for the disk at commit. After a server crash a projection may lose its last
    batches, but always together with the positions that record them (so it re-applies
    them, exactly once); the event store's own commits stay synchronous."""
    if not getattr(cur.connection, "_relaxed_commit", False):
        cur.execute("SET LOCAL synchronous_commit = off")


def relaxed_connection(conninfo: str) -> Connection[Any]:
    """A connection of the projections' own, whose commits are all relaxed (one setting
    for the session instead of one statement per transaction)."""
    conn = psycopg.connect(conninfo)
    conn.execute("SET synchronous_commit = off")
    conn.commit()
    conn._relaxed_commit = True  # type: ignore[attr-defined]
    return conn


_MISSING: Any = object()
_HANDLERS: dict[int, tuple[ReadModel, dict[type, Any]]] = {}


def _handlers(model: ReadModel) -> dict[type, Any]:
    entry = _HANDLERS.get(id(model))
    if entry is None or entry[0] is not model:
        entry = _HANDLERS[id(model)] = (model, {})
    return entry[1]


def apply_events(
    cur: Cursor[Any],
    model: ReadModel,
    generation: Generation,
    batch: Sequence[tuple[int, Any]],
    hook: BatchHook | None = None,
    *,
    store: SqlRowStore | None = None,
    track: bool = True,
    defer: bool = False,
) -> int:
    """Apply events read after `generation`'s position; returns the new position (moved
    in the same transaction unless `track` is false: then the caller moves it)."""
    if not batch:
        return generation.position
    if store is None:
        store = SqlRowStore(cur, model, generation.generation)
    store.prefetch(event.originator_id for _, event in batch)
    if type(model).handle is ReadModel.handle:
        # What ReadModel.handle does, with each event type's handler looked up once.
        handlers = _handlers(model)
        for position, event in batch:
            cls = type(event)
            handler = handlers.get(cls, _MISSING)
            if handler is _MISSING:
                handler = handlers[cls] = model.handler_for(cls)
            if handler is not None:
                handler(redacted_event(event), position, store)
    else:
        handle = model.handle
        for position, event in batch:
            handle(redacted_event(event), position, store)
    store.flush(appended_only=defer)
    position = batch[-1][0]
    if hook is not None:
        hook(model.name, position)
    if track:
        advance(cur, generation, position)
    return position


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
    return len(batch), apply_events(cur, model, generation, batch, hook)


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
        priority: Sequence[str] = ("conversations",),
    ) -> None:
        self.conninfo = conninfo
        self.source = source
        self.models = list(models)
        self.batch_size = batch_size
        self.hook = hook
        #: Read models followed closely while live (the SSE broadcaster follows
        #: `conversations`): brought up to date again before every other model's batch.
        self.priority = [m for m in self.models if m.name in set(priority)]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ensured = False

    def catch_up(self, conn: Connection[Any] | None = None) -> int:
        """Project every read model to the head of the log; returns events applied."""
        if conn is None:
            with relaxed_connection(self.conninfo) as own:
                return self.catch_up(own)
        if not self._ensured:
            for model in self.models:
                ensure_projection(conn, model)
            self._ensured = True
        total = 0
        with self.source.sharing():  # each range is read and decoded once for all models
            for model in self.models:
                total += self._to_head(conn, model)
        return total

    def _to_head(self, conn: Connection[Any], model: ReadModel, *, between: bool = False) -> int:
        """Batches of one model until it reaches the head; with `between`, the priority
        models are brought up to date before each of its batches."""
        total = 0
        while True:
            if between:
                for first in self.priority:
                    total += self._to_head(conn, first)
            with conn.transaction(), conn.cursor() as cur:
                relaxed_commit(cur)
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

    def _live_round(self, conn: Connection[Any]) -> int:
        """`catch_up` as the live loop runs it: the same batches, each model in order,
        but the priority models are brought up to date before each other model's batch,
        so they trail the log by at most one batch of another model."""
        if not self.priority:
            return self.catch_up(conn)
        if not self._ensured:
            for model in self.models:
                ensure_projection(conn, model)
            self._ensured = True
        total = 0
        with self.source.sharing():
            for model in self.models:
                if model in self.priority:
                    total += self._to_head(conn, model)
                else:
                    total += self._to_head(conn, model, between=True)
            for first in self.priority:
                total += self._to_head(conn, first)
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
                    relaxed_connection(self.conninfo) as conn,
                ):
                    listener.execute(SQL("LISTEN {}").format(Identifier(self.source.events_table)))
                    delay = 0.5
                    with self.source.sharing():  # models that trail reuse what others read
                        while not self._stop.is_set():
                            self._live_round(conn)
                            # Wake on a notification, or every second in case one was
                            # missed.
                            for _ in listener.notifies(timeout=1.0, stop_after=1):
                                pass
            except psycopg.OperationalError as e:
                log.warning("projection worker lost the database (%s); retrying in %.1fs", e, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            except Exception:
                log.exception("projection worker failed; restarting")
                time.sleep(1.0)
