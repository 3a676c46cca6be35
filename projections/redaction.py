"""Personal data as the read side shows it: redacted, `[phone]`, `[name]` … (PII found by
`adapters/pii.py`), so read models index, and the API and the streams show, no personal
data. Only a recorded, time-limited reveal reads a call's words as said (from the log).

Each event is redacted once however many read models handle it (the last few thousand
are remembered by identity), and each distinct text once (an LRU cache): most lines hold
no candidate at all and cost a few microseconds.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import Any

from adapters.pii import redact
from domain import events as ev
from domain.privacy import ERASED, UNREADABLE, personal_fields

#: Fields that are personal data as a whole: replaced by their kind, not searched.
_WHOLE = {
    "participant_name": "[name]",
    "customer_name": "[name]",
    "phone": "[phone]",
    "client_address": "[ip]",
}
#: Keys of tool arguments whose values are personal data as a whole.
_WHOLE_ARGUMENTS = {
    "name": "[name]",
    "customer_name": "[name]",
    "first_name": "[name]",
    "last_name": "[name]",
    "phone": "[phone]",
    "phone_number": "[phone]",
    "email": "[email]",
}
_KEPT = frozenset({ERASED, UNREADABLE, ""})
_REMEMBERED = 8192


@lru_cache(maxsize=8192)
def redacted_text(text: str) -> str:
    """`text` with its personal data replaced by kinds."""
    return text if text in _KEPT else redact(text)


def redacted_value(value: Any, key: str | None = None) -> Any:
    """A tool argument (or result) with its personal data replaced, at any depth."""
    if isinstance(value, str):
        if key is not None and key.lower() in _WHOLE_ARGUMENTS and value not in _KEPT:
            return _WHOLE_ARGUMENTS[key.lower()]
        return redacted_text(value)
    if isinstance(value, dict):
        return {k: redacted_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted_value(v, key) for v in value]
    return value


def _redacted_field(event: Any, name: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and value in _KEPT):
        return value
    if name in _WHOLE:
        return _WHOLE[name]
    if name == "name" and isinstance(event, ev.ParticipantJoined):
        # Staff and the agent are named by their accounts; a caller names themself.
        return "[name]" if event.kind == "customer" else value
    if isinstance(value, str):
        return redacted_text(value)
    return redacted_value(value)


_done: OrderedDict[int, tuple[Any, Any]] = OrderedDict()


def redacted_event(event: Any) -> Any:
    """The event as the read side sees it: a copy with its personal fields redacted (the
    event itself for the many kinds that hold none)."""
    fields = personal_fields(type(event))
    if not fields:
        return event
    seen = _done.get(id(event))
    if seen is not None and seen[0] is event:
        return seen[1]
    state = event.__dict__
    copy = object.__new__(type(event))
    redacted = dict(state)
    for name in fields:
        redacted[name] = _redacted_field(event, name, state.get(name))
    object.__setattr__(copy, "__dict__", redacted)
    # The original is kept with its copy, so its id cannot be reused while remembered.
    _done[id(event)] = (event, copy)
    if len(_done) > _REMEMBERED:
        _done.popitem(last=False)
    return copy
