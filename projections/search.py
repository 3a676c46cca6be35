"""The search read model: every final transcript line with a full-text document (a
generated tsvector under a GIN index), and one row per call with what the call history
filters on (its outcomes and its lowest speech-to-text confidence).

A line keeps its offset in seconds from the call's first event, so a search hit opens the
timeline at the moment the words were said.
"""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.base import ReadModel, handles, occurred
from projections.store import RowStore
from projections.tables import Row, TableSpec

#: The text search configuration of the documents and of every query against them.
TEXT_SEARCH_CONFIG = "english"

SEARCH_LINES = TableSpec(
    name="search_lines",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("room_name", "text"),
        ("speaker", "text"),
        ("text", "text"),
        ("offset_s", "double precision"),
        ("occurred_at", "timestamptz"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
    generated=(
        (
            "document",
            f"tsvector GENERATED ALWAYS AS (to_tsvector('{TEXT_SEARCH_CONFIG}', text)) STORED",
        ),
    ),
    indexes=("USING gin (document)", "position"),
)

SEARCH_CALLS = TableSpec(
    name="search_calls",
    columns=(
        ("conversation_id", "uuid"),
        ("room_name", "text"),
        ("opened_at", "timestamptz"),
        ("bookings", "integer"),
        ("vehicles_found", "integer"),
        ("callbacks", "integer"),
        ("escalations", "integer"),
        ("customer_finals", "integer"),
        ("min_confidence", "double precision"),
    ),
    key=("conversation_id",),
    indexes=("min_confidence",),
)

OUTCOMES = ("booking", "vehicle_found", "callback", "escalated", "abandoned")


def outcomes_of(call: Row, *, ended: bool) -> list[str]:
    """A call's outcomes; an ended call with none of the others was abandoned."""
    found = [
        name
        for name, column in (
            ("booking", "bookings"),
            ("vehicle_found", "vehicles_found"),
            ("callback", "callbacks"),
            ("escalated", "escalations"),
        )
        if call[column]
    ]
    if ended and not found:
        found.append("abandoned")
    return found


class SearchProjection(ReadModel):
    name = "search"
    tables = (SEARCH_LINES, SEARCH_CALLS)

    def _call(self, event: Any, store: RowStore) -> Row:
        row = store.get(SEARCH_CALLS, (event.originator_id,))
        if row is None:
            row = SEARCH_CALLS.blank(
                conversation_id=event.originator_id,
                room_name=getattr(event, "room_name", None),
                opened_at=occurred(event),
                bookings=0,
                vehicles_found=0,
                callbacks=0,
                escalations=0,
                customer_finals=0,
            )
        return row

    def _count(self, event: Any, store: RowStore, column: str) -> None:
        row = self._call(event, store)
        row[column] += 1
        store.put(SEARCH_CALLS, row)

    @handles(ev.HumanRequested, ev.SupervisorTookOver)
    def on_escalated(self, e: Any, position: int, store: RowStore) -> None:
        """A call handed to a person: asked for by the caller, or taken by a supervisor."""
        self._count(e, store, "escalations")

    @handles(ev.Opened)
    def on_opened(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["room_name"] = e.room_name
        store.put(SEARCH_CALLS, row)

    @handles(ev.FinalTranscriptRecorded)
    def on_final_transcript_recorded(self, e: Any, position: int, store: RowStore) -> None:
        call = self._call(e, store)
        if e.speaker == "customer":
            call["customer_finals"] += 1
        if e.confidence is not None and (
            call["min_confidence"] is None or e.confidence < call["min_confidence"]
        ):
            call["min_confidence"] = e.confidence
        store.put(SEARCH_CALLS, call)
        at = occurred(e)
        store.put(
            SEARCH_LINES,
            SEARCH_LINES.blank(
                conversation_id=e.originator_id,
                position=position,
                room_name=call["room_name"],
                speaker=e.speaker,
                text=e.text,
                offset_s=max(0.0, (at - call["opened_at"]).total_seconds()),
                occurred_at=at,
            ),
        )

    @handles(ev.TestDriveBooked)
    def on_test_drive_booked(self, e: Any, position: int, store: RowStore) -> None:
        self._count(e, store, "bookings")

    @handles(ev.CallbackRequested)
    def on_callback_requested(self, e: Any, position: int, store: RowStore) -> None:
        self._count(e, store, "callbacks")

    @handles(ev.VehicleLookedUp)
    def on_vehicle_looked_up(self, e: Any, position: int, store: RowStore) -> None:
        if e.found:
            self._count(e, store, "vehicles_found")
