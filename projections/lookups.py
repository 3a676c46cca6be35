"""Vehicle lookups, tool calls and bookings made during calls."""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.base import ReadModel, handles, occurred
from projections.store import RowStore
from projections.tables import TableSpec

VEHICLE_LOOKUPS = TableSpec(
    name="vehicle_lookups",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("vin_as_said", "text"),
        ("vin", "text"),
        ("check_digit_valid", "boolean"),
        ("found", "boolean"),
        ("make", "text"),
        ("model", "text"),
        ("year", "integer"),
        ("vehicle", "jsonb"),
        ("decoded", "jsonb"),
        ("occurred_at", "timestamptz"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
    indexes=("vin",),
)

TOOL_CALLS = TableSpec(
    name="tool_calls",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("call_id", "text"),
        ("name", "text"),
        ("arguments", "jsonb"),
        ("result", "text"),
        ("error", "text"),
        ("occurred_at", "timestamptz"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
)

BOOKINGS = TableSpec(
    name="bookings",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("kind", "text"),
        ("booking_id", "text"),
        ("customer_name", "text"),
        ("phone", "text"),
        ("vin", "text"),
        ("preferred_time", "text"),
        ("topic", "text"),
        ("occurred_at", "timestamptz"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
)


class LookupsProjection(ReadModel):
    name = "lookups"
    tables = (VEHICLE_LOOKUPS, TOOL_CALLS, BOOKINGS)

    @handles(ev.VehicleLookedUp)
    def on_vehicle_looked_up(self, e: Any, position: int, store: RowStore) -> None:
        vehicle = e.vehicle or {}
        decoded = e.decoded or {}
        year = vehicle.get("year") or decoded.get("model_year")
        store.put(
            VEHICLE_LOOKUPS,
            VEHICLE_LOOKUPS.blank(
                conversation_id=e.originator_id,
                position=position,
                vin_as_said=e.vin_as_said,
                vin=e.vin,
                check_digit_valid=e.check_digit_valid,
                found=e.found,
                make=vehicle.get("make") or decoded.get("make"),
                model=vehicle.get("model"),
                year=int(year) if isinstance(year, int) else None,
                vehicle=e.vehicle,
                decoded=e.decoded,
                occurred_at=occurred(e),
            ),
        )

    @handles(ev.ToolCalled)
    def on_tool_called(self, e: Any, position: int, store: RowStore) -> None:
        store.put(
            TOOL_CALLS,
            TOOL_CALLS.blank(
                conversation_id=e.originator_id,
                position=position,
                call_id=e.call_id,
                name=e.name,
                arguments=e.arguments,
                result=e.result,
                error=e.error,
                occurred_at=occurred(e),
            ),
        )

    @handles(ev.TestDriveBooked)
    def on_test_drive_booked(self, e: Any, position: int, store: RowStore) -> None:
        store.put(
            BOOKINGS,
            BOOKINGS.blank(
                conversation_id=e.originator_id,
                position=position,
                kind="test_drive",
                booking_id=e.booking_id,
                customer_name=e.customer_name,
                phone=e.phone,
                vin=e.vin,
                preferred_time=e.preferred_time,
                occurred_at=occurred(e),
            ),
        )

    @handles(ev.CallbackRequested)
    def on_callback_requested(self, e: Any, position: int, store: RowStore) -> None:
        store.put(
            BOOKINGS,
            BOOKINGS.blank(
                conversation_id=e.originator_id,
                position=position,
                kind="callback",
                booking_id=e.callback_id,
                customer_name=e.customer_name,
                phone=e.phone,
                preferred_time=e.preferred_time,
                topic=e.topic,
                occurred_at=occurred(e),
            ),
        )
