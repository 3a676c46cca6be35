"""Builders for commands in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.meta import EventMeta

BASE_TIME = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def meta(
    source: str = "agent", external_id: str | None = None, at: float | None = None
) -> EventMeta:
    """Event metadata; `at` is seconds after BASE_TIME (default: now)."""
    if at is None:
        return EventMeta(source=source, external_id=external_id)
    return EventMeta(
        source=source, external_id=external_id, occurred_at=BASE_TIME + timedelta(seconds=at)
    )
