"""Helpers that read read-model tables back, for comparison with the pure fold."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import psycopg

from adapters.call_center import GroupCommitCallCenter
from projections.fold import fold
from projections.registry import READ_MODELS
from projections.store import MemoryRowStore
from projections.tables import Key, Row, TableSpec

ALL_TABLES: list[TableSpec] = [t for m in READ_MODELS.values() for t in m.tables]


def db_rows(
    conninfo: str, ids: Iterable[UUID], tables: Iterable[TableSpec] = ALL_TABLES
) -> dict[str, dict[Key, Row]]:
    ids = list(ids)
    out: dict[str, dict[Key, Row]] = {}
    with psycopg.connect(conninfo) as conn:
        for table in tables:
            cur = conn.execute(
                f"SELECT {', '.join(table.column_names)} FROM {table.name} WHERE conversation_id = ANY(%s)",
                (ids,),
            )
            rows = [dict(zip(table.column_names, r, strict=True)) for r in cur.fetchall()]
            out[table.name] = {table.key_of(r): r for r in rows}
    return out


def fold_rows(app: GroupCommitCallCenter, ids: Iterable[UUID]) -> dict[str, dict[Key, Row]]:
    events: list[tuple[int, Any]] = []
    for cid in ids:
        events.extend((logged.position, e) for logged, e in app.log_of(cid))
    events.sort(key=lambda pe: pe[0])
    store: MemoryRowStore = fold(events)
    return {t.name: dict(store.tables.get(t.name, {})) for t in ALL_TABLES}


def wait_for_position(conninfo: str, position: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT min(position) FROM projection_generations WHERE active"
            ).fetchone()
            if row and row[0] is not None and row[0] >= position:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"projections did not reach position {position}")
            time.sleep(0.02)
