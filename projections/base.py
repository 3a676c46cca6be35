"""A read model is a named set of tables and handlers `when_<EventName>` that fold events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from projections.store import RowStore
from projections.tables import TableSpec


def occurred(event: Any) -> datetime:
    """When the fact happened at its source (falls back to when it was recorded)."""
    value = (getattr(event, "meta", None) or {}).get("occurred_at")
    moment: datetime = datetime.fromisoformat(value) if value else event.timestamp
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """A sortable text form, for timestamps kept inside JSON."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def source(event: Any) -> str:
    return str((getattr(event, "meta", None) or {}).get("source", ""))


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


class ReadModel:
    name: ClassVar[str]
    tables: ClassVar[tuple[TableSpec, ...]]

    def handle(self, event: Any, position: int, store: RowStore) -> None:
        handler = getattr(self, "when_" + type(event).__name__, None)
        if handler is not None:
            handler(event, position, store)
