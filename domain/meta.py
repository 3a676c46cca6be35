"""Metadata carried by every domain event: where it came from and when it happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from domain.errors import InvalidCommand

SOURCES = frozenset({"agent", "webhook", "api", "supervisor", "system"})


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EventMeta:
    """Who said it (source), which flow it belongs to, and the outside id it came from.

    `occurred_at` is when the fact happened at its source; the event's own timestamp is
    when it was recorded. They differ for buffered agent events and late webhooks.
    """

    source: str
    correlation_id: str = field(default_factory=lambda: uuid4().hex)
    external_id: str | None = None
    occurred_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise InvalidCommand(f"unknown event source {self.source!r}")
        if self.occurred_at.tzinfo is None:
            raise InvalidCommand("occurred_at must be timezone-aware")
        if self.external_id is not None and not (0 < len(self.external_id) <= 200):
            raise InvalidCommand("external_id must be 1..200 characters")
        if "\x00" in self.correlation_id or "\x00" in (self.external_id or ""):
            raise InvalidCommand("correlation_id and external_id must not contain NUL characters")

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "correlation_id": self.correlation_id,
            "external_id": self.external_id,
            "occurred_at": self.occurred_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventMeta:
        return cls(
            source=data["source"],
            correlation_id=data["correlation_id"],
            external_id=data.get("external_id"),
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
        )
