"""The analytics read model: one row per call with what the analytics page sums (handle
time, whether a person took part, bookings, lookups, silence alerts, speech-to-text
confidence and the customer's sentiment), and one row per answered turn with its
voice-to-voice latency. `GET /api/analytics` aggregates them into hour or day buckets.

A call is *contained* when it ended and no person spoke on it for the dealership: no
supervisor took it over, barged in or ended it. A caller who asked for a person but was
answered by the AI alone is still contained (the escalation is counted apart).
"""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.base import ReadModel, handles, occurred
from projections.sentiment import sentiment_score
from projections.store import RowStore
from projections.tables import Row, TableSpec

ANALYTICS_CALLS = TableSpec(
    name="analytics_calls",
    columns=(
        ("conversation_id", "uuid"),
        ("opened_at", "timestamptz"),
        ("ended_at", "timestamptz"),
        ("handle_s", "double precision"),
        ("human_acts", "integer"),
        ("escalations", "integer"),
        ("bookings", "integer"),
        ("lookups", "integer"),
        ("silence_alerts", "integer"),
        ("confidence_sum", "double precision"),
        ("confidence_n", "integer"),
        ("sentiment_sum", "double precision"),
        ("sentiment_n", "integer"),
    ),
    key=("conversation_id",),
    indexes=("opened_at",),
)

ANALYTICS_TURNS = TableSpec(
    name="analytics_turns",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("occurred_at", "timestamptz"),
        ("end_to_end_s", "double precision"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
    indexes=("occurred_at",),
)

_COUNTERS = ("human_acts", "escalations", "bookings", "lookups", "silence_alerts")


class AnalyticsProjection(ReadModel):
    name = "analytics"
    tables = (ANALYTICS_CALLS, ANALYTICS_TURNS)

    def _call(self, event: Any, store: RowStore) -> Row:
        row = store.get(ANALYTICS_CALLS, (event.originator_id,))
        if row is None:
            row = ANALYTICS_CALLS.blank(
                conversation_id=event.originator_id,
                opened_at=occurred(event),
                confidence_sum=0.0,
                confidence_n=0,
                sentiment_sum=0.0,
                sentiment_n=0,
                **dict.fromkeys(_COUNTERS, 0),
            )
        return row

    def _count(self, event: Any, store: RowStore, column: str) -> None:
        row = self._call(event, store)
        row[column] += 1
        store.put(ANALYTICS_CALLS, row)

    @handles(ev.Opened)
    def on_opened(self, e: Any, position: int, store: RowStore) -> None:
        store.put(ANALYTICS_CALLS, self._call(e, store))

    @handles(ev.CallEnded)
    def on_call_ended(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["ended_at"] = occurred(e)
        row["handle_s"] = float(e.duration_s)
        store.put(ANALYTICS_CALLS, row)

    @handles(ev.SupervisorTookOver, ev.SupervisorBargedIn, ev.CallEndedBySupervisor)
    def on_person_acted(self, e: Any, position: int, store: RowStore) -> None:
        self._count(e, store, "human_acts")

    @handles(ev.HumanRequested)
    def on_human_requested(self, e: Any, position: int, store: RowStore) -> None:
        self._count(e, store, "escalations")

    @handles(ev.TestDriveBooked)
    def on_test_drive_booked(self, e: Any, position: int, store: RowStore) -> None:
        self._count(e, store, "bookings")

    @handles(ev.VehicleLookedUp)
    def on_vehicle_looked_up(self, e: Any, position: int, store: RowStore) -> None:
        self._count(e, store, "lookups")

    @handles(ev.SilenceDetected)
    def on_silence_detected(self, e: Any, position: int, store: RowStore) -> None:
        self._count(e, store, "silence_alerts")

    @handles(ev.FinalTranscriptRecorded)
    def on_final_transcript_recorded(self, e: Any, position: int, store: RowStore) -> None:
        if e.speaker != "customer":
            return
        row = self._call(e, store)
        if e.confidence is not None:
            row["confidence_sum"] += float(e.confidence)
            row["confidence_n"] += 1
        row["sentiment_sum"] += sentiment_score(e.text)
        row["sentiment_n"] += 1
        store.put(ANALYTICS_CALLS, row)

    @handles(ev.TurnLatencyMeasured)
    def on_turn_latency_measured(self, e: Any, position: int, store: RowStore) -> None:
        if e.end_to_end_s is None:
            return
        store.put(
            ANALYTICS_TURNS,
            ANALYTICS_TURNS.blank(
                conversation_id=e.originator_id,
                position=position,
                occurred_at=occurred(e),
                end_to_end_s=float(e.end_to_end_s),
            ),
        )
