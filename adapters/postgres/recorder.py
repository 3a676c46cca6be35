"""PostgreSQL event store: the eventsourcing recorder plus batch appends with
exactly-once inputs and a per-conversation hash chain, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

from adapters.postgres.hashchain import GENESIS, chain_hash
from domain.ports import LoggedEvent, Planner

INPUTS_TABLE = "processed_inputs"
HEADS_TABLE = "conversation_heads"


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
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cur:
            self._lock_table(cur)
            new_keys: frozenset[str] = frozenset()
            if input_keys:
                cur.execute(
                    SQL(
                        "INSERT INTO {} (input_key) SELECT DISTINCT unnest(%s::text[]) "
                        "ON CONFLICT DO NOTHING RETURNING input_key"
                    ).format(self._inputs),
                    (list(input_keys),),
                    prepare=True,
                )
                new_keys = frozenset(r["input_key"] for r in cur.fetchall())
            ids = list(known_versions)
            stored: dict[UUID, list[StoredEvent]] = {i: [] for i in ids}
            heads: dict[UUID, bytes] = {}
            if ids:
                cur.execute(
                    SQL(
                        "SELECT e.originator_id, e.originator_version, e.topic, e.state, "
                        "e.chain_hash FROM {} e JOIN unnest(%s::uuid[], %s::bigint[]) AS k(id, v) "
                        "ON e.originator_id = k.id AND e.originator_version >= k.v "
                        "ORDER BY e.originator_id, e.originator_version"
                    ).format(self._table),
                    (ids, [known_versions[i] for i in ids]),
                    prepare=True,
                )
                for row in cur.fetchall():
                    oid = row["originator_id"]
                    heads[oid] = bytes(row["chain_hash"] or b"")
                    if row["originator_version"] > known_versions[oid]:
                        stored[oid].append(_stored(row))
            batch = plan(new_keys, stored)
            if batch.released_keys:
                cur.execute(
                    SQL("DELETE FROM {} WHERE input_key = ANY(%s)").format(self._inputs),
                    (batch.released_keys,),
                )
            if not batch.events:
                return {}
            columns = _link(batch.events, heads)
            cur.execute(
                SQL(
                    "INSERT INTO {} (originator_id, originator_version, topic, state, "
                    "prev_hash, chain_hash) SELECT * FROM unnest(%s::uuid[], %s::bigint[], "
                    "%s::text[], %s::bytea[], %s::bytea[], %s::bytea[]) "
                    "RETURNING originator_id, originator_version, notification_id"
                ).format(self._table),
                columns,
                prepare=True,
            )
            positions = {
                (r["originator_id"], r["originator_version"]): r["notification_id"]
                for r in cur.fetchall()
            }
            last = {
                oid: (v, h) for oid, v, h in zip(columns[0], columns[1], columns[5], strict=True)
            }
            cur.execute(
                SQL(
                    "INSERT INTO {} (originator_id, version, chain_hash) "
                    "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::bytea[]) "
                    "ON CONFLICT (originator_id) DO UPDATE "
                    "SET version = excluded.version, chain_hash = excluded.chain_hash"
                ).format(self._heads),
                (list(last), [v for v, _ in last.values()], [h for _, h in last.values()]),
                prepare=True,
            )
            cur.execute(
                SQL("SELECT pg_notify(%s, %s)"),
                (self.channel_name, str(max(positions.values()))),
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
        return list(self.iter_log(conversation_id))

    def iter_log(self, conversation_id: UUID | None = None) -> Iterator[LoggedEvent]:
        """Events in (conversation, version) order, streamed with a server-side cursor."""
        query = SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id, "
            "prev_hash, chain_hash FROM {}"
        ).format(self._table)
        params: tuple[Any, ...] = ()
        if conversation_id is not None:
            query += SQL(" WHERE originator_id = %s")
            params = (conversation_id,)
        query += SQL(" ORDER BY originator_id, originator_version")
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor(name="iter_log") as cur:
                cur.itersize = 2000
                cur.execute(query, params)
                for row in cur:
                    yield LoggedEvent(
                        position=row["notification_id"],
                        event=_stored(row),
                        prev_hash=_bytes(row["prev_hash"]),
                        chain_hash=_bytes(row["chain_hash"]),
                    )


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
