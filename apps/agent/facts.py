"""Turning what the agent saw into domain commands, each with an id unique to the fact.

Every command the agent sends carries `EventMeta(source="agent")` with an external id
`<session key>/<fact>`: the session key is unique per agent session (the LiveKit job id),
the fact part names what happened (a conversation item, a tool call, a counter). A batch
retried after an unacknowledged commit is then recorded once. `occurred_at` is when it
happened, not when it was written: after the call ended the domain only accepts facts
that happened before the end.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.commands import Command
from domain.errors import DomainError
from domain.meta import EventMeta

log = logging.getLogger(__name__)

MAX_EXTERNAL_ID = 200


def at(timestamp: float | datetime | None) -> datetime:
    """A UTC datetime from a unix timestamp (what livekit events carry), or now."""
    if timestamp is None:
        return datetime.now(UTC)
    if isinstance(timestamp, datetime):
        return timestamp
    return datetime.fromtimestamp(timestamp, UTC)


class Facts:
    """Builds and queues the commands of one agent session in one room."""

    def __init__(self, room_name: str, session_key: str, put: Callable[[Command], None]) -> None:
        self.room_name = room_name
        self.session_key = session_key
        self._put = put
        self._counters: dict[str, int] = {}

    def next(self, kind: str) -> str:
        """`kind/<n>`: for facts with no id of their own (state changes, errors)."""
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        return f"{kind}/{n}"

    def external_id(self, fact: str) -> str:
        value = f"{self.session_key}/{fact}"
        if len(value) > MAX_EXTERNAL_ID:  # provider ids can be long: keep them unique, shorter
            value = value[:160] + "#" + hashlib.sha256(value.encode()).hexdigest()[:32]
        return value

    def record(
        self,
        command_type: type[Command],
        fact: str,
        when: float | datetime | None = None,
        **fields: Any,
    ) -> Command | None:
        """Queue one command; a malformed one is logged, never raised into the audio loop."""
        try:
            meta = EventMeta(
                source="agent",
                correlation_id=self.session_key,
                external_id=self.external_id(fact),
                occurred_at=at(when),
            )
            command = command_type(room_name=self.room_name, meta=meta, **fields)
            self._put(command)
        except (DomainError, TypeError, RuntimeError) as e:
            log.warning("not recording %s (%s): %s", command_type.__name__, fact, e)
            return None
        return command
