"""The event store's SQL beyond the library's: the tables and columns it adds, and the
statements the recorder runs (the append function itself is in `append_function`)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.sql import SQL, Composable, Composed, Identifier

from adapters.postgres.append_function import append_call_sql, append_function_sql

INPUTS_TABLE = "processed_inputs"
HEADS_TABLE = "conversation_heads"  # heads updated in place, by earlier versions: read only
HEADS_LOG_TABLE = "chain_heads"


@dataclass(frozen=True)
class StoreStatements:
    create: list[Composable]
    append: Composed
    recorded_keys: Composed
    quiet: Composed
    newer: Composed
    heads_of: Composed
    insert: Composed
    heads: Composed
    select_heads: Composed
    log_of: Composed
    log_rows_of: Composed
    whole_log: Composed

    @classmethod
    def build(
        cls, *, schema: str, events_table: str, channel: str, lock_timeout: int
    ) -> StoreStatements:
        table = SQL("{}.{}").format(Identifier(schema), Identifier(events_table))
        inputs = SQL("{}.{}").format(Identifier(schema), Identifier(INPUTS_TABLE))
        heads = SQL("{}.{}").format(Identifier(schema), Identifier(HEADS_TABLE))
        heads_log = SQL("{}.{}").format(Identifier(schema), Identifier(HEADS_LOG_TABLE))
        create: list[Composable] = [
            SQL(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS prev_hash bytea, "
                "ADD COLUMN IF NOT EXISTS chain_hash bytea, "
                "ADD COLUMN IF NOT EXISTS input_key text"
            ).format(table),
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (input_key) WHERE input_key IS NOT NULL"
            ).format(Identifier(f"{events_table}_input_key"), table),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (input_key text PRIMARY KEY, "
                "recorded_at timestamptz NOT NULL DEFAULT now())"
            ).format(inputs),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (originator_id uuid PRIMARY KEY, "
                "version bigint NOT NULL, chain_hash bytea NOT NULL)"
            ).format(heads),
            # The last link of each chain a batch wrote, so deleting the newest events
            # shows too. Hashes and ids do not compress: not worth trying.
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                "originator_ids uuid[] NOT NULL, versions bigint[] NOT NULL, "
                "chain_hashes bytea[] NOT NULL)"
            ).format(heads_log),
            SQL(
                "ALTER TABLE {} ALTER COLUMN originator_ids SET STORAGE EXTERNAL, "
                "ALTER COLUMN versions SET STORAGE EXTERNAL, "
                "ALTER COLUMN chain_hashes SET STORAGE EXTERNAL"
            ).format(heads_log),
            *append_function_sql(
                schema=schema,
                events=table,
                inputs=inputs,
                heads_log=heads_log,
                channel=channel,
                lock_timeout=lock_timeout,
            ),
        ]
        return cls(
            create=create,
            append=append_call_sql(schema),
            # One index probe per key, whatever the statistics said when it was planned.
            recorded_keys=SQL(
                "SELECT k.key FROM unnest(%b::text[]) AS k(key) WHERE EXISTS ("
                "SELECT 1 FROM {} WHERE input_key = k.key LIMIT 1) OR EXISTS ("
                "SELECT 1 FROM {} WHERE input_key = k.key LIMIT 1)"
            ).format(table, inputs),
            quiet=SQL("INSERT INTO {} (input_key) SELECT unnest(%b::text[])").format(inputs),
            # One index range scan per conversation (a join would sort the whole table).
            newer=SQL(
                "SELECT e.originator_id, e.originator_version, e.chain_hash, e.topic, e.state "
                "FROM unnest(%b::uuid[], %b::bigint[]) AS k(id, v) CROSS JOIN LATERAL ("
                "SELECT originator_id, originator_version, chain_hash, topic, state FROM {} "
                "WHERE originator_id = k.id AND originator_version >= k.v "
                "ORDER BY originator_version) e"
            ).format(table),
            heads_of=SQL(
                "SELECT k.id, e.originator_version, e.chain_hash FROM unnest(%b::uuid[]) AS k(id) "
                "CROSS JOIN LATERAL (SELECT originator_version, chain_hash FROM {} "
                "WHERE originator_id = k.id ORDER BY originator_version DESC LIMIT 1) e"
            ).format(table),
            insert=SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state, prev_hash, "
                "chain_hash, input_key) SELECT * FROM unnest(%b::uuid[], %b::bigint[], "
                "%b::text[], %b::bytea[], %b::bytea[], %b::bytea[], %b::text[]) "
                "RETURNING originator_id, originator_version, notification_id"
            ).format(table),
            heads=SQL(
                "INSERT INTO {} (position, originator_ids, versions, chain_hashes) "
                "VALUES (%b, %b::uuid[], %b::bigint[], %b::bytea[])"
            ).format(heads_log),
            # Each conversation's newest head in the log, over any the table of heads kept.
            select_heads=SQL(
                "SELECT DISTINCT ON (id) id, v, h FROM ("
                "SELECT originator_id, version, chain_hash, -1 FROM {} UNION ALL "
                "SELECT u.id, u.v, u.h, l.position FROM {} AS l, "
                "unnest(l.originator_ids, l.versions, l.chain_hashes) AS u(id, v, h)"
                ") AS x(id, v, h, position) ORDER BY id, position DESC"
            ).format(heads, heads_log),
            log_of=SQL(
                "SELECT originator_version, topic, state, notification_id, prev_hash, "
                "chain_hash FROM {} WHERE originator_id = %s ORDER BY originator_version"
            ).format(table),
            log_rows_of=SQL(
                "SELECT notification_id, originator_version, topic, state FROM {} "
                "WHERE originator_id = %s ORDER BY originator_version"
            ).format(table),
            whole_log=SQL(
                "SELECT originator_id, originator_version, topic, state, notification_id, "
                "prev_hash, chain_hash FROM {} ORDER BY originator_id, originator_version"
            ).format(table),
        )
