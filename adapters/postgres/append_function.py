"""The checked append as one server-side function: one round trip per batch.

The writer has linked every event into its conversation's chain already (in Python,
from the chain heads it last wrote): the function only checks, under the table lock,
that the writer's assumptions still hold, and appends. Hashing and ordering stay out of
the database, which is the busier side on a small machine, and so do writes that are
not appends: an input's dedup key is a column of its first event, and the new chain
heads are one appended row per batch, not an update per conversation.
"""

from __future__ import annotations

from typing import Any

from psycopg.sql import SQL, Composed, Identifier, Literal

APPEND_FUNCTION = "callcenter_append_checked"
STALE_SQLSTATE = "CC001"  # raised by the append function: the plan no longer fits
UNIQUE_VIOLATION = "23505"


def append_function_sql(
    *,
    schema: str,
    events: Any,
    inputs: Any,
    heads_log: Any,
    channel: str,
    lock_timeout: int,
) -> list[Composed]:
    """Lock; check that no input key was recorded before and each conversation's newest
    event is at the version and chain hash the writer linked from; append the events
    (each recorded input's key on its first event), the inputs recorded without events
    and one row of new chain heads; notify. Raises STALE_SQLSTATE (rolling everything
    back) when an input key was seen before or a conversation moved on; a key or a
    version taken since (the events' unique indexes) raises unique_violation, which the
    writer treats alike. Returns the events' log positions in the order given (they are
    numbered as inserted, in that order, under the lock)."""
    function = SQL("{}.{}").format(Identifier(schema), Identifier(APPEND_FUNCTION))
    return [
        # Earlier versions (the database linked the chain; a table of heads updated in
        # place; inputs claimed in a table of their own) go first.
        SQL(
            "DROP FUNCTION IF EXISTS {}(text[], text[], uuid[], bigint[], uuid[], bigint[], "
            "text[], bytea[])"
        ).format(function),
        SQL(
            "DROP FUNCTION IF EXISTS {}(text[], text[], uuid[], bigint[], bytea[], uuid[], "
            "bigint[], text[], bytea[], bytea[], bytea[], uuid[], bigint[], bytea[])"
        ).format(function),
        SQL("DROP AGGREGATE IF EXISTS {}.callcenter_chain(bytea)").format(Identifier(schema)),
        SQL("DROP FUNCTION IF EXISTS {}.callcenter_chain_link(bytea, bytea)").format(
            Identifier(schema)
        ),
        SQL(
            """CREATE OR REPLACE FUNCTION {function}(
    p_keys text[], p_loose_keys text[], p_quiet_keys text[],
    p_ids uuid[], p_known bigint[], p_known_hashes bytea[], p_known_count int,
    e_ids uuid[], e_versions bigint[], e_topics text[], e_states bytea[],
    e_prevs bytea[], e_hashes bytea[], e_keys text[],
    h_ids uuid[], h_versions bigint[], h_hashes bytea[])
RETURNS bigint[]
LANGUAGE plpgsql AS $fn$
DECLARE
    positions bigint[];
BEGIN
    IF {lock_timeout} <> 0 THEN
        PERFORM set_config('lock_timeout', {lock_timeout}::text || 's', true);
    END IF;
    LOCK TABLE {events} IN EXCLUSIVE MODE;
    -- Keys that go on an event are checked by the events' unique index as they are
    -- inserted; the others (inputs refused or recorded without events) are looked up.
    -- Every lookup is one index probe per value (LATERAL ... LIMIT 1): the function's
    -- plans are cached per session, and a join planned while the table was small would
    -- go on scanning all of it as it grows.
    IF p_keys IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(p_keys) AS k(key) CROSS JOIN LATERAL (
            SELECT 1 FROM {inputs} WHERE input_key = k.key LIMIT 1) AS i
    ) OR p_loose_keys IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(p_loose_keys) AS k(key) CROSS JOIN LATERAL (
            SELECT 1 FROM {events} WHERE input_key = k.key LIMIT 1) AS e
    ) THEN
        RAISE EXCEPTION 'an input was recorded already' USING ERRCODE = {stale};
    END IF;
    -- The newest event of each conversation is the one the writer linked from: it is
    -- there with that hash, and the next version is not (the primary key).
    IF p_known_count > 0 AND p_known_count <> (
        SELECT count(*) FROM unnest(p_ids, p_known, p_known_hashes) AS k(id, v, h)
        CROSS JOIN LATERAL (
            SELECT 1 FROM {events} WHERE originator_id = k.id AND originator_version = k.v
            AND chain_hash = k.h LIMIT 1) AS e
    ) THEN
        RAISE EXCEPTION 'a conversation moved on' USING ERRCODE = {stale};
    END IF;
    IF p_quiet_keys IS NOT NULL THEN
        INSERT INTO {inputs} (input_key) SELECT unnest(p_quiet_keys);
    END IF;
    IF e_ids IS NULL THEN
        RETURN NULL;
    END IF;
    WITH ins AS (
        INSERT INTO {events} (originator_id, originator_version, topic, state,
                              prev_hash, chain_hash, input_key)
        SELECT * FROM unnest(e_ids, e_versions, e_topics, e_states, e_prevs, e_hashes, e_keys)
        RETURNING notification_id
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO positions FROM ins;
    INSERT INTO {heads_log} (position, originator_ids, versions, chain_hashes)
    VALUES (positions[cardinality(positions)], h_ids, h_versions, h_hashes);
    PERFORM pg_notify({channel}, positions[cardinality(positions)]::text);
    RETURN positions;
END
$fn$"""
        ).format(
            function=function,
            lock_timeout=Literal(int(lock_timeout)),
            events=events,
            inputs=inputs,
            heads_log=heads_log,
            stale=Literal(STALE_SQLSTATE),
            channel=Literal(channel),
        ),
    ]


def append_call_sql(schema: str) -> Composed:
    function = SQL("{}.{}").format(Identifier(schema), Identifier(APPEND_FUNCTION))
    return SQL(
        "SELECT {}(%b::text[], %b::text[], %b::text[], %b::uuid[], %b::bigint[], %b::bytea[], "
        "%b::int4, %b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea[], "
        "%b::bytea[], %b::text[], %b::uuid[], %b::bigint[], %b::bytea[])"
    ).format(function)
