"""The real read-model tables, written in batches: rows of the touched conversations are
loaded once, changed in memory by the handlers, then replaced with one DELETE and one COPY.

A rebuild writes tables nobody else writes, starting empty: there the store can carry its
rows from batch to batch (`complete=True`), so nothing is ever read back from the tables,
and rows of append-only tables are let go once written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from projections.base import ReadModel
from projections.tables import Key, Row, TableSpec

#: Column types as COPY ... (FORMAT BINARY) names them.
_BINARY_TYPES = {
    "double precision": "float8",
    "integer": "int4",
    "bigint": "int8",
    "boolean": "bool",
}
#: Rows carried by a complete store before it falls back to reading what it needs.
MAX_CARRIED_ROWS = 500_000


class SqlRowStore:
    def __init__(
        self,
        cur: Cursor[Any],
        read_model: ReadModel,
        generation: int,
        *,
        complete: bool = False,
    ) -> None:
        self._cur = cur
        self._generation = generation
        self._tables = read_model.tables
        self._rows: dict[str, dict[Key, Row]] = {t.name: {} for t in self._tables}
        self._dirty: dict[str, set[Key]] = {t.name: set() for t in self._tables}
        self._deleted: dict[str, set[Key]] = {t.name: set() for t in self._tables}
        #: Every row of the prefetched tables is in memory (tables this store built).
        self.complete = complete
        self._fetching = [t for t in self._tables if t.prefetch]

    def rebind(self, cur: Cursor[Any]) -> None:
        """Carry on in the next batch's transaction (a complete store only)."""
        self._cur = cur

    def prefetch(self, conversation_ids: Iterable[UUID]) -> None:
        if self.complete or not self._fetching:
            return
        ids = list(set(conversation_ids))
        if not ids:
            return
        for table in self._fetching:
            self._cur.execute(
                SQL("SELECT {} FROM {} WHERE conversation_id = ANY(%b)").format(
                    SQL(", ").join(map(Identifier, table.column_names)),
                    Identifier(table.physical(self._generation)),
                ),
                (ids,),
                binary=True,
            )
            names = table.column_names
            rows = self._rows[table.name]
            key_of = table.key_of
            for values in self._cur.fetchall():
                row = dict(zip(names, values, strict=True))
                rows[key_of(row)] = row

    def get(self, table: TableSpec, key: Key) -> Row | None:
        row = self._rows[table.name].get(key)
        return None if row is None else dict(row)

    def put(self, table: TableSpec, row: Row) -> None:
        key = tuple([row[k] for k in table.key])
        name = table.name
        self._rows[name][key] = dict(row)
        self._dirty[name].add(key)
        self._deleted[name].discard(key)

    def delete(self, table: TableSpec, key: Key) -> None:
        name = table.name
        self._rows[name].pop(key, None)
        self._dirty[name].discard(key)
        self._deleted[name].add(key)

    def flush(self, *, appended_only: bool = False) -> None:
        """Write what changed. With `appended_only` (a complete store), only the rows of
        append-only tables: the others stay in memory, dirty, for a later full flush (a
        rebuild's new tables are read by nobody until it switches to them)."""
        for table in self._tables:
            if appended_only and self.complete and table.prefetch:
                continue
            name = table.name
            dirty, deleted = self._dirty[name], self._deleted[name]
            # Append-only tables only ever receive new keys: nothing to delete first.
            stale = (dirty | deleted) if table.prefetch else deleted
            if stale:
                self._delete(table, sorted(stale, key=str))
            if dirty:
                rows = self._rows[name]
                self._copy(table, [rows[k] for k in dirty])
            dirty.clear()
            deleted.clear()
            if not table.prefetch:
                self._rows[name].clear()  # never read back
        if self.complete and sum(len(r) for r in self._rows.values()) > MAX_CARRIED_ROWS:
            if appended_only:
                self.flush()
            self.complete = False  # from now on, read back what a batch touches
            for rows in self._rows.values():
                rows.clear()

    def _delete(self, table: TableSpec, keys: Sequence[Key]) -> None:
        physical = Identifier(table.physical(self._generation))
        arrays = SQL(", ").join(
            SQL("%b::{}[]").format(SQL(table.column_type(k))) for k in table.key
        )
        match = SQL(" AND ").join(SQL("t.{0} = k.{0}").format(Identifier(k)) for k in table.key)
        statement = SQL("DELETE FROM {} t USING unnest({}) AS k({}) WHERE {}").format(
            physical, arrays, SQL(", ").join(map(Identifier, table.key)), match
        )
        self._cur.execute(statement, [list(col) for col in zip(*keys, strict=True)], binary=True)

    def _copy(self, table: TableSpec, rows: list[Row]) -> None:
        names = table.column_names
        types = [_BINARY_TYPES.get(t, t) for _, t in table.columns]
        jsonb = [i for i, (_, t) in enumerate(table.columns) if t == "jsonb"]
        statement = SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            Identifier(table.physical(self._generation)),
            SQL(", ").join(map(Identifier, names)),
        )
        with self._cur.copy(statement) as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                values = [row[c] for c in names]
                for i in jsonb:
                    if values[i] is not None:
                        values[i] = Jsonb(values[i])
                write(values)
