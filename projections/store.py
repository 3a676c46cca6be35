"""Row stores: where a read model's handlers read and write rows.

The same handler code runs against `MemoryRowStore` (a pure fold, for tests and for
auditor replay) and against `SqlRowStore` (the real tables), so what the database holds
is by construction what the fold computes.
"""

from __future__ import annotations

from typing import Protocol

from projections.tables import Key, Row, TableSpec


class RowStore(Protocol):
    def get(self, table: TableSpec, key: Key) -> Row | None: ...

    def put(self, table: TableSpec, row: Row) -> None: ...

    def delete(self, table: TableSpec, key: Key) -> None: ...


class MemoryRowStore:
    """Rows in dictionaries: the pure fold of events into read models."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = {}

    def get(self, table: TableSpec, key: Key) -> Row | None:
        row = self.tables.get(table.name, {}).get(key)
        return None if row is None else dict(row)

    def put(self, table: TableSpec, row: Row) -> None:
        self.tables.setdefault(table.name, {})[table.key_of(row)] = dict(row)

    def delete(self, table: TableSpec, key: Key) -> None:
        self.tables.get(table.name, {}).pop(key, None)

    def rows(self, table: TableSpec) -> list[Row]:
        rows = self.tables.get(table.name, {})
        return [rows[k] for k in sorted(rows)]
