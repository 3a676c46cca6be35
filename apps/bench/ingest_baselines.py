"""The ingest bench's baselines, on the same server with rows of the same size (stored
events of the same workload): raw psycopg single-row INSERT per commit, raw binary COPY in
batches, and the eventsourcing library's plain `Application.save()` path, one event per
transaction."""

from __future__ import annotations

import os
import time
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.bench.workload import CallMix
from domain.conversation import Conversation

RAW_DDL = (
    "CREATE TABLE raw_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
    " topic text, state bytea, notification_id bigserial, prev_hash bytea, chain_hash bytea,"
    " input_key text,"
    " PRIMARY KEY (originator_id, originator_version))",
    "CREATE UNIQUE INDEX raw_events_position ON raw_events (notification_id)",
)


def sample_rows(app: GroupCommitCallCenter, count: int) -> list[tuple[Any, ...]]:
    """Stored events of the same workload (same sizes), as rows of the events table."""
    mix = CallMix(200, prefix="sample", seed=3)
    conversations: dict[UUID, Conversation] = {}
    rows: list[tuple[Any, ...]] = []
    slot = 0
    while len(rows) < count:
        command = mix.next_for(slot)
        slot = (slot + 1) % 200
        cid = command.conversation_id
        conversation = conversations.get(cid)
        if conversation is None:
            conversation = conversations[cid] = Conversation.open(command.room_name, command.meta)
        command.apply(conversation)
        key = command.dedup_key  # on the command's first event, as the store keeps it
        for event in conversation.collect_events():
            stored = app.mapper.to_stored_event(event)
            rows.append(
                (
                    stored.originator_id,
                    stored.originator_version,
                    stored.topic,
                    stored.state,
                    os.urandom(32),
                    os.urandom(32),
                    key,
                )
            )
            key = None
    return rows[:count]


def _cycled(rows: list[tuple[Any, ...]], i: int) -> tuple[Any, ...]:
    """Row i of an endless supply: the sample again with versions moved on per lap."""
    lap, k = divmod(i, len(rows))
    oid, version, *rest = rows[k]
    return (oid, version + lap * 10_000_000, *rest)


def _raw_table(db: DatabaseSettings) -> None:
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_events")
        for ddl in RAW_DDL:
            conn.execute(ddl)


def baseline_single_insert(
    db: DatabaseSettings, rows: list[tuple[Any, ...]], seconds: float
) -> tuple[float, list[float]]:
    """Rows/s inserting one row per durable commit; per-commit latencies (ms)."""
    _raw_table(db)
    latencies: list[float] = []
    with psycopg.connect(db.conninfo, autocommit=True) as conn, conn.cursor() as cur:
        sql = (
            "INSERT INTO raw_events (originator_id, originator_version, topic, state,"
            " prev_hash, chain_hash, input_key) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        )
        cur.execute(sql, rows[0], prepare=True)
        start = time.perf_counter()
        n = 0
        i = 1
        while time.perf_counter() - start < seconds:
            row = _cycled(rows, i)
            t = time.perf_counter()
            cur.execute(sql, row, prepare=True)
            latencies.append((time.perf_counter() - t) * 1000)
            n += 1
            i += 1
        elapsed = time.perf_counter() - start
    return n / elapsed, latencies


def baseline_copy(
    db: DatabaseSettings, rows: list[tuple[Any, ...]], seconds: float, batch: int = 1000
) -> tuple[float, list[float]]:
    """Rows/s with binary COPY of `batch` rows per durable commit; per-batch latencies."""
    _raw_table(db)
    latencies: list[float] = []
    columns = "originator_id, originator_version, topic, state, prev_hash, chain_hash, input_key"
    with psycopg.connect(db.conninfo) as conn, conn.cursor() as cur:
        start = time.perf_counter()
        n = 0
        i = 0
        while time.perf_counter() - start < seconds:
            chunk = [_cycled(rows, k) for k in range(i, i + batch)]
            t = time.perf_counter()
            with conn.transaction():
                with cur.copy(f"COPY raw_events ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea", "bytea", "bytea", "text"])
                    for row in chunk:
                        copy.write_row(row)
            latencies.append((time.perf_counter() - t) * 1000)
            n += batch
            i += batch
        elapsed = time.perf_counter() - start
    return n / elapsed, latencies


def baseline_library_save(db: DatabaseSettings, seconds: float) -> tuple[float, list[float]]:
    """Events/s with the eventsourcing library's stock Application.save(), one event per
    transaction, applying the same workload's commands to `Conversation` aggregates."""
    env = db.eventsourcing_env()
    env.pop("APPLICATION_RECORDER_TOPIC")
    app: Application[UUID] = Application(env=env)
    try:
        mix = CallMix(200, prefix="stock", seed=5)
        conversations: dict[UUID, Conversation] = {}
        latencies: list[float] = []
        events = 0
        slot = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            command = mix.next_for(slot)
            slot = (slot + 1) % 200
            t = time.perf_counter()
            cid = command.conversation_id
            conversation = conversations.get(cid)
            if conversation is None:
                conversation = Conversation.open(command.room_name, command.meta)
                conversations[cid] = conversation
            command.apply(conversation)
            for event in conversation.collect_events():  # one event per transaction
                app.recorder.insert_events([app.mapper.to_stored_event(event)])
                events += 1
            latencies.append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - start
        return events / elapsed, latencies
    finally:
        app.close()
