"""The checked append as one server-side function: one round trip per batch.

The writer has linked every event into its conversation's chain already (in Python,
from the chain heads it last wrote): the function only checks, under the table lock,
that the writer's assumptions still hold, and appends. Hashing and ordering stay out of
the database, which is the busier side on a small machine.
"""

from __future__ import annotations

from typing import Any

from psycopg.sql import SQL, Composed, Identifier, Literal

APPEND_FUNCTION = "callcenter_append_checked"
STALE_SQLSTATE = "CC001"  # raised by the append function: the plan no longer fits


def append_function_sql(
    *,
    schema: str,
    events: Any,
    inputs: Any,
    heads: Any,
    heads_pkey: str,
    channel: str,
    lock_timeout: int,
) -> list[Composed]:
    """Lock; claim the input keys; check each conversation's head is at the version and
    chain hash the writer linked from; release refused inputs; append the events; move
    the heads; notify. Raises STALE_SQLSTATE (rolling everything back) when an input key
    was seen before or a head moved. Returns the events' log positions in the order
    given (they are numbered as inserted, in that order, under the lock)."""
    function = SQL("{}.{}").format(Identifier(schema), Identifier(APPEND_FUNCTION))
    return [
        # The earlier version (the database linked the chain itself) goes first.
        SQL(
            "DROP FUNCTION IF EXISTS {}(text[], text[], uuid[], bigint[], uuid[], bigint[], "
            "text[], bytea[])"
        ).format(function),
        SQL("DROP AGGREGATE IF EXISTS {}.callcenter_chain(bytea)").format(Identifier(schema)),
        SQL("DROP FUNCTION IF EXISTS {}.callcenter_chain_link(bytea, bytea)").format(
            Identifier(schema)
        ),
        SQL(
            """CREATE OR REPLACE FUNCTION {function}(
    p_keys text[], p_released text[], p_ids uuid[], p_known bigint[], p_known_hashes bytea[],
    e_ids uuid[], e_versions bigint[], e_topics text[], e_states bytea[],
    e_prevs bytea[], e_hashes bytea[],
    h_ids uuid[], h_versions bigint[], h_hashes bytea[])
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
        SELECT 1 FROM unnest(p_ids, p_known, p_known_hashes) AS k(id, v, h)
        LEFT JOIN {heads} AS ch ON ch.originator_id = k.id
        WHERE CASE WHEN k.v = 0 THEN ch.originator_id IS NOT NULL
                   ELSE ch.version IS DISTINCT FROM k.v
                        OR ch.chain_hash IS DISTINCT FROM k.h END
    ) THEN
        RAISE EXCEPTION 'a conversation moved on' USING ERRCODE = {stale};
    END IF;
    IF p_released IS NOT NULL THEN
        DELETE FROM {inputs} WHERE input_key = ANY(p_released);
    END IF;
    IF e_ids IS NULL THEN
        RETURN NULL;
    END IF;
    WITH ins AS (
        INSERT INTO {events} (originator_id, originator_version, topic, state,
                              prev_hash, chain_hash)
        SELECT * FROM unnest(e_ids, e_versions, e_topics, e_states, e_prevs, e_hashes)
        RETURNING notification_id
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO positions FROM ins;
    INSERT INTO {heads} AS ch (originator_id, version, chain_hash)
    SELECT * FROM unnest(h_ids, h_versions, h_hashes)
    ON CONFLICT ON CONSTRAINT {heads_pkey} DO UPDATE
    SET version = excluded.version, chain_hash = excluded.chain_hash;
    PERFORM pg_notify({channel}, positions[cardinality(positions)]::text);
    RETURN positions;
END
$fn$"""
        ).format(
            function=function,
            lock_timeout=Literal(int(lock_timeout)),
            events=events,
            inputs=inputs,
            heads=heads,
            heads_pkey=Identifier(heads_pkey),
            stale=Literal(STALE_SQLSTATE),
            channel=Literal(channel),
        ),
    ]


def append_call_sql(schema: str) -> Composed:
    function = SQL("{}.{}").format(Identifier(schema), Identifier(APPEND_FUNCTION))
    return SQL(
        "SELECT {}(%b::text[], %b::text[], %b::uuid[], %b::bigint[], %b::bytea[], "
        "%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea[], %b::bytea[], "
        "%b::uuid[], %b::bigint[], %b::bytea[])"
    ).format(function)
