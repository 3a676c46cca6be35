"""The real read-model tables, written in batches: rows of the touched conversations are
loaded once, changed in memory by the handlers, then replaced with one DELETE and one COPY."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from projections.base import ReadModel
from projections.tables import Key, Row, TableSpec


class SqlRowStore:
    def __init__(self, cur: Cursor[Any], read_model: ReadModel, generation: int) -> None:
        self._cur = cur
        self._generation = generation
        self._tables = read_model.tables
        self._rows: dict[str, dict[Key, Row]] = {t.name: {} for t in self._tables}
        self._dirty: dict[str, set[Key]] = {t.name: set() for t in self._tables}
        self._deleted: dict[str, set[Key]] = {t.name: set() for t in self._tables}

    def prefetch(self, conversation_ids: Iterable[UUID]) -> None:
        ids = list(set(conversation_ids))
        for table in self._tables:
            if not table.prefetch or not ids:
                continue
            self._cur.execute(
                SQL("SELECT {} FROM {} WHERE conversation_id = ANY(%s)").format(
                    SQL(", ").join(map(Identifier, table.column_names)),
                    Identifier(table.physical(self._generation)),
                ),
                (ids,),
            )
            names = table.column_names
            rows = self._rows[table.name]
            for values in self._cur.fetchall():
                row = dict(zip(names, values, strict=True))
                rows[table.key_of(row)] = row

    def get(self, table: TableSpec, key: Key) -> Row | None:
        row = self._rows[table.name].get(key)
        return None if row is None else dict(row)

    def put(self, table: TableSpec, row: Row) -> None:
        key = table.key_of(row)
        self._rows[table.name][key] = dict(row)
        self._dirty[table.name].add(key)
        self._deleted[table.name].discard(key)

    def delete(self, table: TableSpec, key: Key) -> None:
        self._rows[table.name].pop(key, None)
        self._dirty[table.name].discard(key)
        self._deleted[table.name].add(key)

    def flush(self) -> None:
        for table in self._tables:
            dirty, deleted = self._dirty[table.name], self._deleted[table.name]
            # Append-only tables only ever receive new keys: nothing to delete first.
            stale = (dirty | deleted) if table.prefetch else deleted
            if stale:
                self._delete(table, sorted(stale, key=str))
            if dirty:
                self._copy(table, [self._rows[table.name][k] for k in dirty])

    def _delete(self, table: TableSpec, keys: Sequence[Key]) -> None:
        physical = Identifier(table.physical(self._generation))
        arrays = SQL(", ").join(
            SQL("%s::{}[]").format(SQL(table.column_type(k))) for k in table.key
        )
        match = SQL(" AND ").join(SQL("t.{0} = k.{0}").format(Identifier(k)) for k in table.key)
        statement = SQL("DELETE FROM {} t USING unnest({}) AS k({}) WHERE {}").format(
            physical, arrays, SQL(", ").join(map(Identifier, table.key)), match
        )
        self._cur.execute(statement, [list(col) for col in zip(*keys, strict=True)])

    def _copy(self, table: TableSpec, rows: list[Row]) -> None:
        names = table.column_names
        jsonb = {c for c, t in table.columns if t == "jsonb"}
        statement = SQL("COPY {} ({}) FROM STDIN").format(
            Identifier(table.physical(self._generation)),
            SQL(", ").join(map(Identifier, names)),
        )
        with self._cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [Jsonb(row[c]) if c in jsonb and row[c] is not None else row[c] for c in names]
                )
