"""Supervisors' listen-ins: who listened to which call, and when."""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.base import ReadModel, handles, occurred, source
from projections.store import RowStore
from projections.tables import TableSpec

LISTEN_INS = TableSpec(
    name="listen_ins",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("action", "text"),
        ("supervisor", "text"),
        ("listen_id", "text"),
        ("source", "text"),
        ("correlation_id", "text"),
        ("occurred_at", "timestamptz"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
    indexes=("supervisor, occurred_at",),
)


class ListenInsProjection(ReadModel):
    name = "listen_ins"
    tables = (LISTEN_INS,)

    def _put(self, e: Any, position: int, store: RowStore, action: str) -> None:
        store.put(
            LISTEN_INS,
            LISTEN_INS.blank(
                conversation_id=e.originator_id,
                position=position,
                action=action,
                supervisor=e.supervisor,
                listen_id=e.listen_id,
                source=source(e),
                correlation_id=e.meta.get("correlation_id"),
                occurred_at=occurred(e),
            ),
        )

    @handles(ev.ListenInStarted)
    def on_listen_in_started(self, e: Any, position: int, store: RowStore) -> None:
        self._put(e, position, store, "listen_in_started")

    @handles(ev.ListenInEnded)
    def on_listen_in_ended(self, e: Any, position: int, store: RowStore) -> None:
        self._put(e, position, store, "listen_in_ended")
