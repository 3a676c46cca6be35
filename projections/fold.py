"""The pure fold: read models computed in memory from a sequence of events, each seen
redacted as every read model sees it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from projections.base import ReadModel
from projections.redaction import redacted_event
from projections.registry import READ_MODELS
from projections.store import MemoryRowStore


def fold(
    events: Iterable[tuple[int, Any]],
    models: Sequence[ReadModel] | None = None,
    copies: bool = True,
    *,
    redacted: bool = True,
) -> MemoryRowStore:
    """`redacted=False` folds the events as given (already redacted, or a reveal)."""
    store = MemoryRowStore(copies)
    chosen = list(READ_MODELS.values()) if models is None else list(models)
    for position, event in events:
        seen = redacted_event(event) if redacted else event  # read models hold no PII
        for model in chosen:
            model.handle(seen, position, store)
    return store
