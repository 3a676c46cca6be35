"""Per-conversation data keys behind a small interface a KMS could implement later.

A conversation's key is made the first time one of its events with personal data is
written, and deleted when the conversation is erased (crypto-shredding): the encrypted
fields stay in the log, with their hash chain, and can never be read again. The store
remembers that a key was shredded, so a late event is not sealed with a new key.

Keys never appear in logs, errors or API responses; only this module and the sealing
codec (`adapters/sealing.py`) hold them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

import psycopg

KEY_BYTES = 32  # AES-256-GCM


class Shredded:
    """The key existed and was deleted: what it sealed reads as erased."""

    def __repr__(self) -> str:
        return "SHREDDED"


SHREDDED = Shredded()


class KeyStore(Protocol):
    def key_for_writing(self, conversation_id: UUID) -> bytes | None:
        """The conversation's key, made now if it has none; None once shredded."""

    def keys_for_writing(self, conversation_ids: Iterable[UUID]) -> dict[UUID, bytes | Shredded]:
        """`key_for_writing` for many conversations at once."""

    def keys_for_reading(self, conversation_ids: Iterable[UUID]) -> dict[UUID, bytes | Shredded]:
        """The keys of those conversations that have (or had) one."""

    def shred(self, conversation_id: UUID) -> bool:
        """Delete the key for good; True if there was one to delete."""

    def portable(self) -> Any:
        """How to open the same store in another process (`open_key_store`)."""


class InMemoryKeyStore:
    """For applications on the in-memory event store (tests)."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | Shredded] = {}
        self._lock = threading.Lock()

    def key_for_writing(self, conversation_id: UUID) -> bytes | None:
        with self._lock:
            key = self._keys.setdefault(conversation_id, os.urandom(KEY_BYTES))
        return None if isinstance(key, Shredded) else key

    def keys_for_writing(self, conversation_ids: Iterable[UUID]) -> dict[UUID, bytes | Shredded]:
        with self._lock:
            return {c: self._keys.setdefault(c, os.urandom(KEY_BYTES)) for c in conversation_ids}

    def keys_for_reading(self, conversation_ids: Iterable[UUID]) -> dict[UUID, bytes | Shredded]:
        return {c: self._keys[c] for c in conversation_ids if c in self._keys}

    def shred(self, conversation_id: UUID) -> bool:
        with self._lock:
            had = isinstance(self._keys.get(conversation_id), bytes)
            self._keys[conversation_id] = SHREDDED
        return had

    def portable(self) -> Any:
        return None


SCHEMA = """
CREATE TABLE IF NOT EXISTS conversation_keys (
    conversation_id uuid PRIMARY KEY,
    data_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    shredded_at timestamptz,
    CHECK ((data_key IS NULL) = (shredded_at IS NOT NULL))
)"""

# The insert's row, or the one another process made first (a CTE's outer SELECT does not
# see the CTE's own insert, so exactly one branch returns a row).
_FOR_WRITING = """
WITH made AS (
    INSERT INTO conversation_keys (conversation_id, data_key) VALUES (%s, %s)
    ON CONFLICT (conversation_id) DO NOTHING RETURNING data_key
)
SELECT data_key FROM made
UNION ALL
SELECT data_key FROM conversation_keys WHERE conversation_id = %s"""
_MAKE_MANY = """
INSERT INTO conversation_keys (conversation_id, data_key)
SELECT * FROM unnest(%s::uuid[], %s::bytea[]) ON CONFLICT (conversation_id) DO NOTHING"""
_FOR_READING = (
    "SELECT conversation_id, data_key FROM conversation_keys WHERE conversation_id = ANY(%s)"
)
_SHRED = """
INSERT INTO conversation_keys (conversation_id, data_key, shredded_at) VALUES (%s, NULL, now())
ON CONFLICT (conversation_id) DO UPDATE SET data_key = NULL,
    shredded_at = coalesce(conversation_keys.shredded_at, now())
RETURNING (SELECT data_key IS NOT NULL FROM conversation_keys WHERE conversation_id = %s)"""


class PostgresKeyStore:
    """Keys in their own table, through one autocommit connection (reopened when lost)."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None

    def _execute(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = psycopg.connect(self.conninfo, autocommit=True)
                        _create_table(self._conn)
                    cur = self._conn.execute(sql, params)
                    return cur.fetchall() if cur.description is not None else []
                except psycopg.OperationalError:
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def key_for_writing(self, conversation_id: UUID) -> bytes | None:
        made = os.urandom(KEY_BYTES)
        rows = self._execute(_FOR_WRITING, (conversation_id, made, conversation_id))
        if not rows:  # another process made it after this statement's snapshot was taken
            rows = self._execute(_FOR_READING, ([conversation_id],))
            rows = [(key,) for _, key in rows]
        key = rows[0][0]
        return None if key is None else bytes(key)

    def keys_for_writing(self, conversation_ids: Iterable[UUID]) -> dict[UUID, bytes | Shredded]:
        ids = list(conversation_ids)
        if not ids:
            return {}
        self._execute(_MAKE_MANY, (ids, [os.urandom(KEY_BYTES) for _ in ids]))
        return self.keys_for_reading(ids)

    def keys_for_reading(self, conversation_ids: Iterable[UUID]) -> dict[UUID, bytes | Shredded]:
        ids = list(conversation_ids)
        if not ids:
            return {}
        rows = self._execute(_FOR_READING, (ids,))
        return {cid: SHREDDED if key is None else bytes(key) for cid, key in rows}

    def shred(self, conversation_id: UUID) -> bool:
        rows = self._execute(_SHRED, (conversation_id, conversation_id))
        # The deleted key's bytes stay in the table's heap until it is vacuumed.
        self._execute("VACUUM conversation_keys", ())
        return bool(rows[0][0])

    def portable(self) -> Any:
        return ("postgres", self.conninfo)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _create_table(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.execute(SCHEMA)
    except (
        psycopg.errors.DuplicateTable,
        psycopg.errors.DuplicateObject,
        psycopg.errors.UniqueViolation,
    ):
        pass  # another process made it at the same moment


def open_key_store(spec: Any) -> KeyStore:
    """The store a `portable()` spec describes (a new in-memory one for None)."""
    if spec is None:
        return InMemoryKeyStore()
    kind, conninfo = spec
    if kind != "postgres":
        raise ValueError(f"unknown key store {kind!r}")
    return PostgresKeyStore(conninfo)
