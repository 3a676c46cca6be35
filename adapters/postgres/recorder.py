"""PostgreSQL event store: the eventsourcing recorder plus batch appends with
exactly-once inputs and a per-conversation hash chain, all in one transaction.

Each recorded input's dedup key is a column of the first event it made (unique where
set); inputs recorded without an event keep their keys in a table of their own. The
chain heads (each conversation's last version and hash) are appended as one row per
batch, so a removed newest event still shows.

Two ways to append a batch, with the same result:

- `append_batch`: lock the events table, claim the input keys, read what is newer than
  the writer knows, let the writer plan inside the lock, append. Always correct; the
  planning holds the lock.
- `append_checked`: the writer planned before the transaction, assuming every input key
  is new and every conversation is still at the version it knows. One statement (a
  server-side function) locks, checks that assumption against the chain heads, and
  appends; if the assumption is wrong it raises, nothing is written, and the writer plans
  again with `append_batch`. One round trip, so the lock is held for the database's
  work only.

Appends go through one connection kept for writing (checked before use when idle), and
the recorder remembers the chain head it last wrote for each conversation, so a checked
append need not read it first.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Connection, Cursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL

from adapters.postgres.append_function import STALE_SQLSTATE, UNIQUE_VIOLATION
from adapters.postgres.hashchain import link_events
from adapters.postgres.rows import (
    array_param,
    logged_row,
    text_params,
    translate_error,
)
from adapters.postgres.statements import StoreStatements
from domain.ports import BatchPlan, LoggedEvent, Planner

IDLE_CHECK_S = 1.0  # a writer connection idle longer than this is checked before use


class _Stale(IntegrityError):
    """What the writer planned from no longer fits what is stored: roll back (a writer
    outside this protocol, or a cached conversation that is not what is stored)."""


class CallCenterRecorder(PostgresApplicationRecorder):
    """Stored events gain `prev_hash` and `chain_hash`; inputs are deduplicated by key."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql = StoreStatements.build(
            schema=datastore.schema,
            events_table=self.events_table_name,
            channel=self.channel_name,
            lock_timeout=int(datastore.lock_timeout),
        )
        self.sql_create_statements.extend(self.sql.create)  # type: ignore[arg-type]
        # The chain head (version, hash) of each conversation as this process last wrote
        # or read it, so a checked append can link its events without asking. Used and
        # changed only by the writer (under `_writer_lock`).
        self._known_heads: dict[UUID, tuple[int, bytes]] = {}
        self._writer_lock = threading.Lock()
        self._writer_conn: Connection[Any] | None = None
        self._writer_used = 0.0

    def create_table(self) -> None:
        # Processes starting together on a new database would otherwise race on the same
        # catalog rows (types, functions): one at a time.
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext('callcenter:create_tables'))")
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('callcenter:create_tables'))")

    # --- writing -------------------------------------------------------------------------

    def append_batch(
        self,
        input_keys: Sequence[str],
        known_versions: dict[UUID, int],
        plan: Planner,
    ) -> list[int]:
        """Lock, look the input keys up, read what is newer than the caller knows, plan,
        append, notify.

        The EXCLUSIVE lock (as the library's own insert takes) serialises writers, so what
        the planner reads cannot change before the append: no version conflicts, and log
        positions commit in order, so followers never skip a gap filled in later.
        """
        with self._writer() as conn:
            try:
                with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
                    self._lock_table(cur)  # type: ignore[arg-type]
                    new_keys = self._new_keys(cur, input_keys)
                    stored, heads = self._select_newer(cur, known_versions)
                    batch = plan(new_keys, stored)
                    positions, last = self._write(cur, batch, heads)
            except BaseException:
                self._forget_heads(list(known_versions))
                raise
            self._known_heads.update(last)
            return positions

    def append_checked(
        self,
        input_keys: Sequence[str],
        known_versions: dict[UUID, int],
        batch: BatchPlan,
    ) -> list[int] | None:
        """Append a batch planned before the transaction, on the assumption that every
        input key is new and every conversation is still at its known version.

        The append function checks that assumption under the same lock `append_batch`
        takes, against the chain heads (which every append moves in its own
        transaction), and links the events into their chains itself. When the
        assumption does not hold, nothing is written and None is returned (the caller
        plans again, with `append_batch`); when it holds, what is written is exactly
        what `append_batch` would have written for the same plan. An event written
        outside this protocol still conflicts on the primary key.
        """
        events = batch.events
        ids = list(known_versions)
        with self._writer() as conn, conn.cursor(row_factory=tuple_row) as cur:
            heads = self._heads_at(cur, known_versions)
            if heads is None:
                return None
            linked = link_events(events, {i: h for i, (_, h) in heads.items()})
            columns, last = linked.columns, linked.heads
            keys = text_params(input_keys)
            on_events = set(batch.keys)
            params = (
                array_param(list(dict.fromkeys(keys))),
                array_param([k for k in keys if k not in on_events]),
                array_param(text_params(batch.quiet_keys)),
                array_param(ids),
                array_param([known_versions[i] for i in ids]),
                array_param([heads[i][1] if i in heads else None for i in ids]),
                len(heads),
                *[array_param(column) for column in columns],
                array_param(batch.keys),
                array_param(list(last)),
                array_param([v for v, _ in last.values()]),
                array_param([h for _, h in last.values()]),
            )
            try:
                cur.execute(self.sql.append, params, prepare=True, binary=True)
            except psycopg.Error as e:
                self._forget_heads(ids)
                # A key or a version taken since the plan (unique indexes) is stale too.
                if e.sqlstate in (STALE_SQLSTATE, UNIQUE_VIOLATION):
                    return None
                raise
            row = cur.fetchone()
            positions = (row[0] if row else None) or []
            if len(positions) != len(events):
                self._forget_heads(ids)
                raise _Stale("the append function returned the wrong number of positions")
            self._known_heads.update(last)
        return positions

    def _heads_at(
        self, cur: Cursor[Any], known_versions: dict[UUID, int]
    ) -> dict[UUID, tuple[int, bytes]] | None:
        """The chain head of each conversation at the version the writer knows (from
        what this process last wrote, else its newest stored event); None when one is
        not there."""
        known_heads = self._known_heads
        heads: dict[UUID, tuple[int, bytes]] = {}
        missing = []
        for oid, version in known_versions.items():
            if version == 0:
                continue
            head = known_heads.get(oid)
            if head is not None and head[0] == version:
                heads[oid] = head
            else:
                missing.append(oid)
        if missing:
            cur.execute(self.sql.heads_of, (missing,), prepare=True, binary=True)
            for oid, version, chain in cur.fetchall():
                known_heads[oid] = heads[oid] = (version, bytes(chain or b""))
            if any(heads.get(oid, (None,))[0] != known_versions[oid] for oid in missing):
                return None
        if len(known_heads) > 200_000:  # a bound, not a cache policy: refilled on demand
            known_heads.clear()
        return heads

    def _forget_heads(self, ids: Sequence[UUID]) -> None:
        for oid in ids:
            self._known_heads.pop(oid, None)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[Connection[Any]]:
        """The connection appends go through, one writer at a time. Checked first when it
        has been idle (the server may have restarted); never retried once used, so an
        append is never sent twice."""
        with self._writer_lock:
            conn = self._writer_conn
            if conn is not None and (conn.closed or conn.broken):
                self._release_writer()
                conn = None
            if conn is not None and time.monotonic() - self._writer_used > IDLE_CHECK_S:
                try:
                    conn.execute("")
                except psycopg.Error:
                    self._release_writer()
                    conn = None
            if conn is None:
                try:
                    pool = self.datastore.pool
                    pool.open(wait=True, timeout=self.datastore.pool_open_timeout or 30.0)
                    conn = self._writer_conn = pool.getconn()
                except psycopg.Error as e:
                    raise translate_error(e) from e
            try:
                yield conn
            except psycopg.Error as e:
                if conn.closed or conn.broken:
                    self._release_writer()
                raise translate_error(e) from e
            finally:
                self._writer_used = time.monotonic()

    def _release_writer(self) -> None:
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                self.datastore.pool.putconn(conn)

    def close_writer(self) -> None:
        with self._writer_lock:
            self._release_writer()

    def _new_keys(self, cur: Cursor[Any], input_keys: Sequence[str]) -> frozenset[str]:
        """The keys not recorded before (a key with a NUL never is: see `text_params`)."""
        if not input_keys:
            return frozenset()
        keys = text_params(input_keys)
        cur.execute(self.sql.recorded_keys, (keys,), prepare=True, binary=True)
        seen = {r[0] for r in cur.fetchall()}
        return frozenset(k for k in input_keys if k not in seen and "\x00" not in k)

    def _select_newer(
        self, cur: Cursor[Any], known_versions: dict[UUID, int]
    ) -> tuple[dict[UUID, list[StoredEvent]], dict[UUID, bytes]]:
        """Per conversation, the stored events newer than the known version, and the
        chain hash at the known version."""
        ids = list(known_versions)
        stored: dict[UUID, list[StoredEvent]] = {i: [] for i in ids}
        heads: dict[UUID, bytes] = {}
        if not ids:
            return stored, heads
        cur.execute(
            self.sql.newer, (ids, [known_versions[i] for i in ids]), prepare=True, binary=True
        )
        seen: set[UUID] = set()
        for oid, version, chain, topic, state in cur.fetchall():
            known = known_versions[oid]
            if version == known:
                seen.add(oid)
            heads[oid] = bytes(chain or b"")
            if version > known:
                stored[oid].append(StoredEvent(oid, version, topic, bytes(state)))
        if any(v and oid not in seen for oid, v in known_versions.items()):
            # The caller's cached state is not what is stored at the version it knows.
            raise _Stale("a cached conversation is not what is stored")
        return stored, heads

    def _write(
        self, cur: Cursor[Any], batch: BatchPlan, heads: dict[UUID, bytes]
    ) -> tuple[list[int], dict[UUID, tuple[int, bytes]]]:
        """Append; the log positions, and each conversation's new chain head."""
        if batch.quiet_keys:
            cur.execute(self.sql.quiet, (text_params(batch.quiet_keys),), binary=True)
        if not batch.events:
            return [], {}
        linked = link_events(batch.events, heads)
        columns, last = linked.columns, linked.heads
        cur.execute(self.sql.insert, (*columns, batch.keys), prepare=True, binary=True)
        at = {(oid, v): n for oid, v, n in cur.fetchall()}
        positions = [at[(e.originator_id, e.originator_version)] for e in batch.events]
        newest = max(positions)
        cur.execute(
            self.sql.heads,
            (newest, list(last), [v for v, _ in last.values()], [h for _, h in last.values()]),
            prepare=True,
            binary=True,
        )
        cur.execute(SQL("SELECT pg_notify(%s, %s)"), (self.channel_name, str(newest)))
        return positions, last

    # --- reading -------------------------------------------------------------------------

    def select_heads(self) -> dict[UUID, tuple[int, bytes]]:
        """Each conversation's newest head in the heads log (over any an earlier version
        kept in its table of heads)."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(self.sql.select_heads, binary=True)
            return {oid: (v, bytes(h)) for oid, v, h in cur.fetchall()}

    def select_log(self, conversation_id: UUID) -> list[LoggedEvent]:
        """One conversation's events in version order (fetched in one go)."""
        with self.datastore.get_connection() as conn:
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(self.sql.log_of, (conversation_id,), prepare=True, binary=True)
                return [logged_row(conversation_id, *row) for row in cur.fetchall()]

    def select_log_rows(self, conversation_id: UUID) -> list[tuple[int, int, str, bytes]]:
        with self.datastore.get_connection() as conn:
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(self.sql.log_rows_of, (conversation_id,), prepare=True, binary=True)
                return cur.fetchall()

    def iter_log(self, conversation_id: UUID | None = None) -> Iterator[LoggedEvent]:
        """Events in (conversation, version) order, streamed with a server-side cursor."""
        if conversation_id is not None:
            yield from self.select_log(conversation_id)
            return
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor(name="iter_log", row_factory=tuple_row) as cur:
                cur.itersize = 2000
                cur.execute(self.sql.whole_log, binary=True)
                for row in cur:
                    yield logged_row(*row)
