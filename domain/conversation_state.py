"""The state every part of the `Conversation` aggregate reads, and the rule they share.

Public methods of the parts are commands: they check the rules first and only then record
an event (`_record`), so a refused command leaves the aggregate untouched.

An event's fields are declared once, in `domain/events.py`, and `_record` takes their values
in that order. Each part binds the classes it records, subclassing those that change state
with an `apply`; `apply` also runs when the aggregate is rebuilt from stored events, so it
never checks rules (old events must always replay). A part records its own class,
`RecordingPart.RecordingCompleted` and not `self.RecordingCompleted`: the class's module and
qualified name are the stored topic, which `tests/test_declarations.py` pins.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.errors import CallAlreadyEnded
from domain.meta import EventMeta

#: Fields every event has, set by `trigger_event` and `_record` rather than by position.
_COMMON_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "meta"})
#: Per event class, the names of its own fields, in the order `domain/events.py` gives.
_FIELDS: dict[type, tuple[str, ...]] = {}


class ConversationState(Aggregate):
    room_name: str
    status: str
    opened_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    agent_session_closed: bool
    ending: bool
    participants: dict[str, dict[str, Any]]
    user_state: str
    agent_state: str
    silence_active: bool
    recordings: dict[str, str]
    listen_ins: dict[str, str]
    control: str
    controller: str | None
    coaching_count: int
    human_requested: bool
    caller_identity: str | None
    erasures: dict[str, str]
    reveals: list[tuple[str, str]]

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """The library's `trigger_event` in fewer steps, as every command pays it: the
        event is built without its dataclass constructor (our events declare no defaults
        and no post-init checks) and with no look-up of an explicit topic (they have none).
        It then mutates the aggregate and is pending, exactly as there."""
        timestamp = kwargs.pop("timestamp", None)
        state = {
            "originator_id": self.id,
            "originator_version": self.version + 1,
            "timestamp": event_class.create_timestamp() if timestamp is None else timestamp,
        }
        state.update(kwargs)
        new_event = object.__new__(event_class)
        object.__setattr__(new_event, "__dict__", state)
        new_event.mutate(self)
        self._pending_events.append(new_event)

    def _record(self, event_class: type, meta: EventMeta, *values: Any) -> None:
        """Trigger `event_class` with `values` for its fields, in the order `domain/events.py`
        declares them, and the meta."""
        names = _FIELDS.get(event_class)
        if names is None:
            names = tuple(f.name for f in fields(event_class) if f.name not in _COMMON_FIELDS)
            _FIELDS[event_class] = names
        if len(values) != len(names):
            raise TypeError(f"{event_class.__name__} has fields {names}, given {len(values)}")
        state = dict(zip(names, values, strict=True))
        state["meta"] = meta.to_dict()
        self.trigger_event(event_class, **state)

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None

    def _require_open(self, meta: EventMeta, *, late_ok: bool = False) -> None:
        """After the end, accept closing facts, and facts that happened before the end."""
        if self.ended_at is None or late_ok or meta.occurred_at <= self.ended_at:
            return
        raise CallAlreadyEnded(
            f"call in room {self.room_name!r} ended at {self.ended_at.isoformat()}; "
            "only recording results and departures may follow"
        )
