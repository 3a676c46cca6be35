"""The pure fold: read models computed in memory from a sequence of events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from projections.base import ReadModel
from projections.registry import READ_MODELS
from projections.store import MemoryRowStore


def fold(
    events: Iterable[tuple[int, Any]],
    models: Sequence[ReadModel] | None = None,
    copies: bool = True,
) -> MemoryRowStore:
    store = MemoryRowStore(copies)
    chosen = list(READ_MODELS.values()) if models is None else list(models)
    for position, event in events:
        for model in chosen:
            model.handle(event, position, store)
    return store
