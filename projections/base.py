"""A read model is a named set of tables and handlers `when_<EventName>` that fold events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from projections.store import RowStore
from projections.tables import TableSpec


def occurred(event: Any) -> datetime:
    """When the fact happened at its source (falls back to when it was recorded)."""
    value = (getattr(event, "meta", None) or {}).get("occurred_at")
    if not value:
        return event.timestamp.astimezone(UTC)  # type: ignore[no-any-return]
    moment = datetime.fromisoformat(value)
    # Nearly every stored instant is UTC already; converting costs more than parsing.
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


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
        handler = self.handler_for(type(event))
        if handler is not None:
            handler(event, position, store)

    def handler_for(self, event_type: type) -> Any:
        """`when_<EventName>` for this event class, or None (looked up once per class)."""
        handlers: dict[type, Any] = self.__dict__.setdefault("_handlers", {})
        try:
            return handlers[event_type]
        except KeyError:
            handler = handlers[event_type] = getattr(self, "when_" + event_type.__name__, None)
            return handler
