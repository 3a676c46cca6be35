"""Supervisors' acts on calls (who did what, when: the audit read model) and the
escalation queue (callers who asked for a person, until someone takes the call)."""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.base import ReadModel, handles, occurred
from projections.store import RowStore
from projections.tables import TableSpec

SUPERVISOR_ACTS = TableSpec(
    name="supervisor_acts",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("action", "text"),
        ("supervisor", "text"),
        ("detail", "text"),
        ("occurred_at", "timestamptz"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
    indexes=("supervisor, occurred_at",),
)
ESCALATIONS = TableSpec(
    name="escalations",
    columns=(
        ("conversation_id", "uuid"),
        ("state", "text"),  # waiting | accepted | expired | abandoned
        ("utterance", "text"),
        ("requested_at", "timestamptz"),
        ("accepted_by", "text"),
        ("settled_at", "timestamptz"),
    ),
    key=("conversation_id",),
    indexes=("state, requested_at",),
)


class SupervisionProjection(ReadModel):
    name = "supervision"
    tables = (SUPERVISOR_ACTS, ESCALATIONS)

    def _act(
        self, e: Any, position: int, store: RowStore, action: str, supervisor: str, detail: str
    ) -> None:
        store.put(
            SUPERVISOR_ACTS,
            SUPERVISOR_ACTS.blank(
                conversation_id=e.originator_id,
                position=position,
                action=action,
                supervisor=supervisor,
                detail=detail,
                occurred_at=occurred(e),
            ),
        )

    @handles(ev.SupervisorCoached)
    def on_coached(self, e: Any, position: int, store: RowStore) -> None:
        self._act(e, position, store, "coach", e.supervisor, e.text)

    @handles(ev.SupervisorBargedIn)
    def on_barged_in(self, e: Any, position: int, store: RowStore) -> None:
        self._act(e, position, store, "barge", e.supervisor, e.participant_identity)

    @handles(ev.SupervisorTookOver)
    def on_took_over(self, e: Any, position: int, store: RowStore) -> None:
        action = "accept" if e.via == "escalation" else "takeover"
        self._act(e, position, store, action, e.supervisor, e.participant_identity)
        self._settle(e, store, "accepted", e.supervisor)

    @handles(ev.CallHandedBack)
    def on_handed_back(self, e: Any, position: int, store: RowStore) -> None:
        self._act(e, position, store, "handback", e.supervisor, e.reason)

    @handles(ev.CallEndedBySupervisor)
    def on_ended_by_supervisor(self, e: Any, position: int, store: RowStore) -> None:
        self._act(e, position, store, "end", e.supervisor, "")

    @handles(ev.HumanRequested)
    def on_human_requested(self, e: Any, position: int, store: RowStore) -> None:
        store.put(
            ESCALATIONS,
            ESCALATIONS.blank(
                conversation_id=e.originator_id,
                state="waiting",
                utterance=e.utterance,
                requested_at=occurred(e),
            ),
        )

    @handles(ev.EscalationExpired)
    def on_escalation_expired(self, e: Any, position: int, store: RowStore) -> None:
        self._settle(e, store, "expired", None)

    @handles(ev.CallEnded)
    def on_call_ended(self, e: Any, position: int, store: RowStore) -> None:
        self._settle(e, store, "abandoned", None)

    @staticmethod
    def _settle(e: Any, store: RowStore, state: str, by: str | None) -> None:
        row = store.get(ESCALATIONS, (e.originator_id,))
        if row is None or row["state"] != "waiting":
            return
        store.put(
            ESCALATIONS, {**row, "state": state, "accepted_by": by, "settled_at": occurred(e)}
        )
