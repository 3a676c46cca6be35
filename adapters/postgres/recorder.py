"""PostgreSQL event store: the eventsourcing recorder plus batch appends with
exactly-once inputs and a per-conversation hash chain, all in one transaction.

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
from psycopg.sql import SQL, Identifier, Literal

from adapters.postgres.hashchain import GENESIS, chain_hash
from domain.ports import BatchPlan, LoggedEvent, Planner

INPUTS_TABLE = "processed_inputs"
HEADS_TABLE = "conversation_heads"
APPEND_FUNCTION = "callcenter_append_checked"
STALE_SQLSTATE = "CC001"  # raised by the append function: the plan no longer fits
IDLE_CHECK_S = 1.0  # a writer connection idle longer than this is checked before use


class _Stale(IntegrityError):
    """What the writer planned from no longer fits what is stored: roll back (a writer
    outside this protocol, or a cached conversation that is not what is stored)."""


class CallCenterRecorder(PostgresApplicationRecorder):
    """Stored events gain `prev_hash` and `chain_hash`; inputs are deduplicated by key."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema, table = Identifier(datastore.schema), Identifier(self.events_table_name)
        self._table = SQL("{}.{}").format(schema, table)
        self._inputs = SQL("{}.{}").format(schema, Identifier(INPUTS_TABLE))
        self._heads = SQL("{}.{}").format(schema, Identifier(HEADS_TABLE))
        self.sql_create_statements.extend(
            [
                SQL(
                    "ALTER TABLE {} ADD COLUMN IF NOT EXISTS prev_hash bytea, "
                    "ADD COLUMN IF NOT EXISTS chain_hash bytea"
                ).format(self._table),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (input_key text PRIMARY KEY, "
                    "recorded_at timestamptz NOT NULL DEFAULT now())"
                ).format(self._inputs),
                # The last link of each chain, so deleting the newest events shows too.
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (originator_id uuid PRIMARY KEY, "
                    "version bigint NOT NULL, chain_hash bytea NOT NULL)"
                ).format(self._heads),
            ]
        )
        self._sql_claim = SQL(
            "INSERT INTO {} (input_key) SELECT DISTINCT unnest(%b::text[]) "
            "ON CONFLICT DO NOTHING RETURNING input_key"
        ).format(self._inputs)
        # One index range scan per conversation (a join would sort the whole table).
        self._sql_newer = SQL(
            "SELECT e.originator_id, e.originator_version, e.chain_hash, e.topic, e.state "
            "FROM unnest(%b::uuid[], %b::bigint[]) AS k(id, v) CROSS JOIN LATERAL ("
            "SELECT originator_id, originator_version, chain_hash, topic, state FROM {} "
            "WHERE originator_id = k.id AND originator_version >= k.v "
            "ORDER BY originator_version) e"
        ).format(self._table)
        self._sql_heads_of = SQL(
            "SELECT originator_id, version, chain_hash FROM {} WHERE originator_id = ANY(%b)"
        ).format(self._heads)
        self._sql_release = SQL("DELETE FROM {} WHERE input_key = ANY(%b)").format(self._inputs)
        self._sql_insert = SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state, "
            "prev_hash, chain_hash) SELECT * FROM unnest(%b::uuid[], %b::bigint[], "
            "%b::text[], %b::bytea[], %b::bytea[], %b::bytea[]) "
            "RETURNING originator_id, originator_version, notification_id"
        ).format(self._table)
        self._sql_heads = SQL(
            "INSERT INTO {} (originator_id, version, chain_hash) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::bytea[]) "
            "ON CONFLICT (originator_id) DO UPDATE "
            "SET version = excluded.version, chain_hash = excluded.chain_hash"
        ).format(self._heads)
        function = SQL("{}.{}").format(schema, Identifier(APPEND_FUNCTION))
        self.sql_create_statements.extend(_append_function(self, function))
        self._sql_append = SQL(
            "SELECT {}(%b::text[], %b::text[], %b::uuid[], %b::bigint[], "
            "%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
        ).format(function)
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
    ) -> dict[tuple[UUID, int], int]:
        """Lock, dedup, read what is newer than the caller knows, plan, append, notify.

        The EXCLUSIVE lock (as the library's own insert takes) serialises writers, so what
        the planner reads cannot change before the append: no version conflicts, and log
        positions commit in order, so followers never skip a gap filled in later.
        """
        with self._writer() as conn, conn.transaction():
            with conn.cursor(row_factory=tuple_row) as cur:
                self._lock_table(cur)  # type: ignore[arg-type]
                new_keys = self._claim_keys(cur, input_keys)
                stored, heads = self._select_newer(cur, known_versions)
                batch = plan(new_keys, stored)
                return self._write(cur, batch, heads)

    def append_checked(
        self,
        input_keys: Sequence[str],
        known_versions: dict[UUID, int],
        batch: BatchPlan,
    ) -> dict[tuple[UUID, int], int] | None:
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
        params = (
            _array(list(dict.fromkeys(_texts(input_keys)))),
            _array(_texts(batch.released_keys)),
            _array(ids),
            _array([known_versions[i] for i in ids]),
            _array([e.originator_id for e in events]),
            _array([e.originator_version for e in events]),
            _array([e.topic for e in events]),
            _array([e.state for e in events]),
        )
        with self._writer() as conn, conn.cursor(row_factory=tuple_row) as cur:
            try:
                cur.execute(self._sql_append, params, prepare=True, binary=True)
            except psycopg.Error as e:
                if e.sqlstate == STALE_SQLSTATE:
                    return None
                raise
            row = cur.fetchone()
        positions = (row[0] if row else None) or []
        if len(positions) != len(events):
            raise _Stale("the append function returned the wrong number of positions")
        return {
            (e.originator_id, e.originator_version): n  # type: ignore[misc]
            for e, n in zip(events, positions, strict=True)
        }

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
                    raise _translate(e) from e
            try:
                yield conn
            except psycopg.Error as e:
                if conn.closed or conn.broken:
                    self._release_writer()
                raise _translate(e) from e
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

    def _claim_keys(self, cur: Cursor[Any], input_keys: Sequence[str]) -> frozenset[str]:
        if not input_keys:
            return frozenset()
        cur.execute(self._sql_claim, (_texts(input_keys),), prepare=True, binary=True)
        return frozenset(r[0] for r in cur.fetchall())

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
            self._sql_newer, (ids, [known_versions[i] for i in ids]), prepare=True, binary=True
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
    ) -> dict[tuple[UUID, int], int]:
        if batch.released_keys:
            cur.execute(self._sql_release, (_texts(batch.released_keys),), binary=True)
        if not batch.events:
            return {}
        columns = _link(batch.events, heads)
        cur.execute(self._sql_insert, columns, prepare=True, binary=True)
        positions = {(oid, v): n for oid, v, n in cur.fetchall()}
        last = _last_links(columns)
        cur.execute(
            self._sql_heads,
            (list(last), [v for v, _ in last.values()], [h for _, h in last.values()]),
            prepare=True,
            binary=True,
        )
        cur.execute(
            SQL("SELECT pg_notify(%s, %s)"), (self.channel_name, str(max(positions.values())))
        )
        return positions

    # --- reading -------------------------------------------------------------------------

    def select_heads(self) -> dict[UUID, tuple[int, bytes]]:
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(
                SQL("SELECT originator_id, version, chain_hash FROM {}").format(self._heads)
            )
            return {
                r["originator_id"]: (r["version"], bytes(r["chain_hash"])) for r in cur.fetchall()
            }

    def select_log(self, conversation_id: UUID) -> list[LoggedEvent]:
        """One conversation's events in version order (fetched in one go)."""
        query = self._log_query() + SQL(" WHERE originator_id = %s ORDER BY originator_version")
        with self.datastore.get_connection() as conn:
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(query, (conversation_id,), prepare=True, binary=True)
                return [_logged(conversation_id, *row) for row in cur.fetchall()]

    def select_log_rows(self, conversation_id: UUID) -> list[tuple[int, int, str, bytes]]:
        query = SQL(
            "SELECT notification_id, originator_version, topic, state FROM {} "
            "WHERE originator_id = %s ORDER BY originator_version"
        ).format(self._table)
        with self.datastore.get_connection() as conn:
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(query, (conversation_id,), prepare=True, binary=True)
                return cur.fetchall()

    def iter_log(self, conversation_id: UUID | None = None) -> Iterator[LoggedEvent]:
        """Events in (conversation, version) order, streamed with a server-side cursor."""
        if conversation_id is not None:
            yield from self.select_log(conversation_id)
            return
        query = SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id, "
            "prev_hash, chain_hash FROM {} ORDER BY originator_id, originator_version"
        ).format(self._table)
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor(name="iter_log", row_factory=tuple_row) as cur:
                cur.itersize = 2000
                cur.execute(query, binary=True)
                for row in cur:
                    yield _logged(*row)

    def _log_query(self) -> Any:
        return SQL(
            "SELECT originator_version, topic, state, notification_id, prev_hash, chain_hash "
            "FROM {}"
        ).format(self._table)


def _logged(
    oid: UUID,
    version: int,
    topic: str,
    state: Any,
    position: int,
    prev: Any,
    chain: Any,
) -> LoggedEvent:
    """A LoggedEvent (and its StoredEvent) without their dataclass constructors."""
    stored = object.__new__(StoredEvent)
    object.__setattr__(
        stored,
        "__dict__",
        {
            "originator_id": oid,
            "originator_version": version,
            "topic": topic,
            "state": bytes(state),
        },
    )
    logged = object.__new__(LoggedEvent)
    object.__setattr__(
        logged,
        "__dict__",
        {
            "position": position,
            "event": stored,
            "prev_hash": None if prev is None else bytes(prev),
            "chain_hash": None if chain is None else bytes(chain),
        },
    )
    return logged


def _stored(row: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _link(events: list[StoredEvent], heads: dict[UUID, bytes]) -> tuple[list[Any], ...]:
    """Column arrays for the insert, each event chained to its predecessor."""
    ids, versions, topics, states, prevs, hashes = [], [], [], [], [], []
    last: dict[UUID, bytes] = {}
    for e in events:
        oid = e.originator_id
        assert isinstance(oid, UUID)
        if oid in last:
            prev = last[oid]
        elif e.originator_version == 1:
            prev = GENESIS
        else:
            prev = heads.get(oid) or GENESIS
        h = chain_hash(prev, oid, e.originator_version, e.topic, e.state)
        last[oid] = h
        ids.append(oid)
        versions.append(e.originator_version)
        topics.append(e.topic)
        states.append(e.state)
        prevs.append(prev)
        hashes.append(h)
    return ids, versions, topics, states, prevs, hashes


def _last_links(columns: tuple[list[Any], ...]) -> dict[UUID, tuple[int, bytes]]:
    """Each conversation's new chain head: its last version and chain hash."""
    last: dict[UUID, tuple[int, bytes]] = {}
    for oid, v, h in zip(columns[0], columns[1], columns[5], strict=True):
        last[oid] = (v, h)
    return last


def _texts(values: Sequence[str]) -> list[str]:
    """Text parameters as PostgreSQL receives them in text format: cut at a NUL (text
    cannot hold one; libpq ends the string there). An input key with a NUL is therefore
    never found among the new keys, as it never was: it is recorded as a duplicate."""
    return [v.split("\x00", 1)[0] if "\x00" in v else v for v in values]


def _array(values: list[Any]) -> list[Any] | None:
    """An array parameter (None when empty: its element type cannot be told)."""
    return values if values else None


def _translate(e: psycopg.Error) -> Exception:
    """psycopg's errors as the eventsourcing library's, as its datastore does."""
    from eventsourcing import persistence as p

    for psycopg_type, ours in (
        (psycopg.InterfaceError, p.InterfaceError),
        (psycopg.OperationalError, p.OperationalError),
        (psycopg.DataError, p.DataError),
        (psycopg.IntegrityError, p.IntegrityError),
        (psycopg.InternalError, p.InternalError),
        (psycopg.ProgrammingError, p.ProgrammingError),
        (psycopg.NotSupportedError, p.NotSupportedError),
        (psycopg.DatabaseError, p.DatabaseError),
    ):
        if isinstance(e, psycopg_type):
            return ours(str(e))
    return p.PersistenceError(str(e))


def _append_function(recorder: CallCenterRecorder, function: Any) -> list[Any]:
    """The checked append, server-side: lock, check the writer's assumptions, link each
    event into its conversation's chain (as `hashchain.chain_hash` does), append, move
    the chain heads, notify; raises STALE_SQLSTATE (rolling back) when the input keys are
    not all new or a conversation is not at the version the writer knows. Returns the
    log positions of the events, in the order given."""
    schema = Identifier(recorder.datastore.schema)
    link = SQL("{}.{}").format(schema, Identifier("callcenter_chain_link"))
    chain = SQL("{}.{}").format(schema, Identifier("callcenter_chain"))
    return [
        # The chain as a running aggregate: the first value (a chain head) is the state,
        # every later one a content hash linked onto it.
        SQL(
            "CREATE OR REPLACE FUNCTION {link}(prev bytea, content bytea) RETURNS bytea "
            "LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE "
            "AS $$ BEGIN RETURN sha256(prev || content); END $$"
        ).format(link=link),
        SQL("CREATE OR REPLACE AGGREGATE {chain}(bytea) (SFUNC = {link}, STYPE = bytea)").format(
            chain=chain, link=link
        ),
        SQL(
            """CREATE OR REPLACE FUNCTION {function}(
    p_keys text[], p_released text[], p_ids uuid[], p_known bigint[],
    e_ids uuid[], e_versions bigint[], e_topics text[], e_states bytea[])
RETURNS bigint[]
LANGUAGE plpgsql AS $fn$
DECLARE
    claimed bigint;
    positions bigint[];
BEGIN
    IF {lock_timeout} <> 0 THEN
        PERFORM set_config('lock_timeout', {lock_timeout}::text || 's', true);
    END IF;
    LOCK TABLE {events} IN EXCLUSIVE MODE;
    IF p_keys IS NOT NULL THEN
        WITH c AS (
            INSERT INTO {inputs} (input_key) SELECT unnest(p_keys)
            ON CONFLICT DO NOTHING RETURNING 1
        ) SELECT count(*) INTO claimed FROM c;
        IF claimed <> cardinality(p_keys) THEN
            RAISE EXCEPTION 'an input was recorded already' USING ERRCODE = {stale};
        END IF;
    END IF;
    IF p_ids IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(p_ids, p_known) AS k(id, v)
        LEFT JOIN {heads} AS ch ON ch.originator_id = k.id
        WHERE CASE WHEN k.v = 0 THEN ch.originator_id IS NOT NULL
                   ELSE ch.version IS DISTINCT FROM k.v END
    ) THEN
        RAISE EXCEPTION 'a conversation moved on' USING ERRCODE = {stale};
    END IF;
    IF p_released IS NOT NULL THEN
        DELETE FROM {inputs} WHERE input_key = ANY(p_released);
    END IF;
    IF e_ids IS NULL THEN
        RETURN NULL;
    END IF;
    WITH e AS (
        SELECT x.id, x.v, x.topic, x.state, x.ord,
               sha256(uuid_send(x.id) || int8send(x.v) || convert_to(x.topic, 'UTF8')
                      || '\\x00'::bytea || x.state) AS content
        FROM unnest(e_ids, e_versions, e_topics, e_states)
             WITH ORDINALITY AS x(id, v, topic, state, ord)
    ), firsts AS (
        SELECT DISTINCT ON (e.id) e.id, e.v FROM e ORDER BY e.id, e.v
    ), chained AS (
        SELECT r.id, r.v, r.ord, {chain}(r.content) OVER (
                   PARTITION BY r.id ORDER BY r.v ROWS UNBOUNDED PRECEDING) AS chain_hash
        FROM (
            SELECT f.id, f.v - 1 AS v, 0::bigint AS ord,
                   CASE WHEN f.v = 1 THEN {genesis}
                        ELSE coalesce(ch.chain_hash, {genesis}) END AS content
            FROM firsts AS f LEFT JOIN {heads} AS ch ON ch.originator_id = f.id
            UNION ALL
            SELECT e.id, e.v, e.ord, e.content FROM e
        ) AS r
    ), linked AS (
        SELECT c.id, c.v, c.ord, c.chain_hash,
               lag(c.chain_hash) OVER (PARTITION BY c.id ORDER BY c.v) AS prev_hash
        FROM chained AS c
    ), ins AS (
        INSERT INTO {events} AS t (originator_id, originator_version, topic, state,
                                   prev_hash, chain_hash)
        SELECT e.id, e.v, e.topic, e.state, l.prev_hash, l.chain_hash
        FROM e JOIN linked AS l ON l.ord = e.ord
        ORDER BY e.ord
        RETURNING t.originator_id, t.originator_version, t.notification_id
    ), moved AS (
        INSERT INTO {heads} AS ch (originator_id, version, chain_hash)
        SELECT DISTINCT ON (l.id) l.id, l.v, l.chain_hash FROM linked AS l
        WHERE l.ord > 0 ORDER BY l.id, l.v DESC
        ON CONFLICT ON CONSTRAINT {heads_pkey} DO UPDATE
        SET version = excluded.version, chain_hash = excluded.chain_hash
        RETURNING 1
    )
    SELECT array_agg(ins.notification_id ORDER BY e.ord) INTO positions
    FROM ins JOIN e ON e.id = ins.originator_id AND e.v = ins.originator_version;
    PERFORM pg_notify({channel}, (SELECT max(x) FROM unnest(positions) AS x)::text);
    RETURN positions;
END
$fn$"""
        ).format(
            function=function,
            lock_timeout=Literal(int(recorder.datastore.lock_timeout)),
            events=recorder._table,
            inputs=recorder._inputs,
            heads=recorder._heads,
            heads_pkey=Identifier(f"{HEADS_TABLE}_pkey"),
            stale=Literal(STALE_SQLSTATE),
            channel=Literal(recorder.channel_name),
            chain=chain,
            genesis=SQL("decode(repeat('00', 32), 'hex')"),
        ),
    ]
