"""Read-model tables: their columns, keys, and the names of their blue/green generations."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class TableSpec:
    """A read-model table. Readers use the view `name`; rows live in `name_g<N>`.

    Every table's key starts with `conversation_id`, so one query per batch loads the
    rows of every conversation the batch touches (`prefetch`). Append-only tables are
    never read back while projecting, so they are not prefetched.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    prefetch: bool = True
    indexes: tuple[str, ...] = ()
    #: Columns PostgreSQL computes from the others (`name`, `type GENERATED ALWAYS AS
    #: (...) STORED`): not written by the handlers nor by COPY, only read by queries.
    generated: tuple[tuple[str, str], ...] = ()

    @cached_property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def key_of(self, row: Row) -> Key:
        # No generator: a fold calls this for every row it puts (it was a tenth of the
        # replay fold's time).
        if len(self.key) == 1:
            return (row[self.key[0]],)
        return self._key_getter(row)  # type: ignore[no-any-return]

    @cached_property
    def _key_getter(self) -> itemgetter[Any]:
        return itemgetter(*self.key)

    def physical(self, generation: int) -> str:
        return f"{self.name}_g{generation}"

    def column_type(self, column: str) -> str:
        return dict(self.columns)[column]

    def create_sql(self, generation: int) -> list[str]:
        table = self.physical(generation)
        cols = ", ".join(f"{c} {t}" for c, t in self.columns + self.generated)
        statements = [
            f"CREATE TABLE IF NOT EXISTS {table} ({cols}, PRIMARY KEY ({', '.join(self.key)}))"
        ]
        for i, index in enumerate(self.indexes):
            # "USING gin (...)" names its own method; a plain index lists columns.
            spec = index if index.startswith("USING ") else f"({index})"
            statements.append(f"CREATE INDEX IF NOT EXISTS {table}_i{i} ON {table} {spec}")
        return statements

    def blank(self, **values: Any) -> Row:
        row: Row = dict.fromkeys(self.column_names)
        row.update(values)
        return row
