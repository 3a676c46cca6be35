"""A read model is a named set of tables and the handlers that fold events into them.

The read side names events only by the classes of `domain/events.py`: a handler says which
it folds with `@handles(ev.CallEnded)`, and other tables keyed by event are `EventTable`s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from domain import events as ev
from projections.store import RowStore
from projections.tables import TableSpec

V = TypeVar("V")
F = TypeVar("F", bound=Callable[..., Any])


def is_declared_event(cls: Any) -> bool:
    """Whether `cls` is one of the event classes `domain/events.py` declares."""
    return (
        isinstance(cls, type)
        and issubclass(cls, ev.ConversationEvent)
        and getattr(ev, cls.__name__, None) is cls
    )


class EventTable(dict[type, V | None]):
    """Values keyed by the event classes of `domain/events.py`. Stored events are of the
    aggregate's subclasses of them (their topics name the part that records them), so a
    class is looked up through its bases once, then by one dict lookup. Read it with
    `table[type(event)]` (None when the table has no entry), not with `in` or `get`."""

    def __init__(self, entries: Mapping[Any, V]) -> None:
        for cls in entries:
            if not is_declared_event(cls):
                raise TypeError(f"{cls!r} is not an event class of domain/events.py")
        super().__init__(entries)
        self.declared = frozenset(entries)

    def __missing__(self, cls: type) -> V | None:
        value = next((self[base] for base in cls.__mro__ if base in self.declared), None)
        self[cls] = value
        return value


def handles(*event_classes: type) -> Callable[[F], F]:
    """Marks a read model's method as the handler of these events."""

    def mark(method: F) -> F:
        method.handles = event_classes  # type: ignore[attr-defined]
        return method

    return mark


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
    #: The methods marked with `@handles`, by the event class they fold.
    handlers: ClassVar[EventTable[Callable[..., None]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[type, Callable[..., None]] = {}
        for name in dir(cls):  # the most derived definition of each name
            method = getattr(cls, name)
            for event_class in getattr(method, "handles", ()):
                found[event_class] = method
        cls.handlers = EventTable(found)

    def handle(self, event: Any, position: int, store: RowStore) -> None:
        handler = self.handler_for(type(event))
        if handler is not None:
            handler(event, position, store)

    def handler_for(self, event_type: type) -> Any:
        """This model's bound handler for a stored event class, or None (looked up once
        per class)."""
        bound: dict[type, Any] = self.__dict__.setdefault("_handlers", {})
        try:
            return bound[event_type]
        except KeyError:
            method = type(self).handlers[event_type]
            handler = bound[event_type] = None if method is None else method.__get__(self)
            return handler
