"""What the application needs from its event store, beyond the eventsourcing recorder."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent


@dataclass(frozen=True)
class BatchPlan:
    """What a batch will append: its events, beside them the dedup key of each recorded
    input (on the first event the input made), and the keys of inputs recorded without
    an event."""

    events: list[StoredEvent]
    keys: list[str | None]
    quiet_keys: list[str]


@dataclass(frozen=True)
class LoggedEvent:
    """A stored event with its position in the log and its hash-chain links."""

    position: int
    event: StoredEvent
    prev_hash: bytes | None
    chain_hash: bytes | None


#: Builds a domain event from a stored event's columns (id, version, topic, state).
ColumnDecoder = Callable[[Any, int, str, bytes], DomainEventProtocol[UUID]]

#: Called inside the append transaction, with the table locked: receives the dedup keys
#: seen for the first time and, per conversation, the stored events newer than the caller
#: knows (starting with the one at the known version), and returns what to append.
Planner = Callable[[frozenset[str], dict[UUID, list[StoredEvent]]], BatchPlan]


class BatchRecorder(Protocol):
    def append_batch(
        self,
        input_keys: Sequence[str],
        known_versions: dict[UUID, int],
        plan: Planner,
    ) -> list[int]:
        """Append atomically; returns the log position of each of the plan's events."""
        ...

    def select_log(self, conversation_id: UUID) -> list[LoggedEvent]: ...

    def select_log_rows(self, conversation_id: UUID) -> list[tuple[int, int, str, bytes]]:
        """One conversation's (position, version, topic, state) in version order: what
        decoding needs and no more."""
        ...

    def iter_log(self, conversation_id: UUID | None = None) -> Iterator[LoggedEvent]: ...

    def select_heads(self) -> dict[UUID, tuple[int, bytes]]:
        """The last (version, chain hash) of every conversation, as appended."""
        ...

    def max_notification_id(self) -> int | None: ...
