"""What the agent did for the customer: vehicle lookups, tool calls, bookings."""

from __future__ import annotations

from typing import Any

from domain import events as ev
from domain import rules
from domain.conversation_state import ConversationState
from domain.errors import InvalidCommand
from domain.meta import EventMeta

LOOKUP_CHANNELS = ("voice", "typed")  # how the caller gave the VIN


class ActivityPart(ConversationState):
    VehicleLookedUp = ev.VehicleLookedUp
    ToolCalled = ev.ToolCalled
    TestDriveBooked = ev.TestDriveBooked
    CallbackRequested = ev.CallbackRequested

    # --- lookups and tools ---------------------------------------------------------------

    def record_vehicle_lookup(
        self,
        vin_as_said: str,
        vin: str,
        check_digit_valid: bool,
        found: bool,
        vehicle: dict[str, Any] | None,
        decoded: dict[str, Any] | None,
        channel: str,
        meta: EventMeta,
    ) -> None:
        rules.text(vin_as_said, "VIN as said")
        if channel not in LOOKUP_CHANNELS:
            raise InvalidCommand(f"a VIN is given by {' or '.join(LOOKUP_CHANNELS)}")
        rules.text(vin, "normalised VIN", limit=64, allow_empty=True)
        if found and not vehicle:
            raise InvalidCommand("a found vehicle needs its details")
        if not found and vehicle:
            raise InvalidCommand("vehicle details given for a vehicle not found")
        self._require_open(meta)
        self._record(
            ActivityPart.VehicleLookedUp,
            meta,
            vin_as_said,
            vin,
            bool(check_digit_valid),
            bool(found),
            vehicle,
            decoded,
            channel,
        )

    def record_tool_call(
        self,
        call_id: str,
        name: str,
        arguments: dict[str, Any],
        result: str | None,
        error: str | None,
        meta: EventMeta,
    ) -> None:
        rules.text(call_id, "tool call id", allow_empty=True)
        rules.text(name, "tool name", limit=100)
        if not isinstance(arguments, dict):
            raise InvalidCommand("tool arguments must be an object")
        if result is not None:
            rules.text(result, "tool result", limit=rules.MAX_TEXT, allow_empty=True)
        if error is not None:
            rules.text(error, "tool error", limit=rules.MAX_TEXT)
        self._require_open(meta)
        self._record(ActivityPart.ToolCalled, meta, call_id, name, arguments, result, error)

    def book_test_drive(
        self,
        booking_id: str,
        customer_name: str,
        phone: str,
        vin: str | None,
        preferred_time: str,
        meta: EventMeta,
    ) -> None:
        rules.text(booking_id, "booking id")
        rules.text(customer_name, "customer name")
        rules.phone(phone)
        rules.text(preferred_time, "preferred time")
        self._require_open(meta)
        self._record(
            ActivityPart.TestDriveBooked,
            meta,
            booking_id,
            customer_name,
            phone,
            vin,
            preferred_time,
        )

    def request_callback(
        self,
        callback_id: str,
        customer_name: str,
        phone: str,
        preferred_time: str,
        topic: str,
        meta: EventMeta,
    ) -> None:
        rules.text(callback_id, "callback id")
        rules.text(customer_name, "customer name")
        rules.phone(phone)
        rules.text(preferred_time, "preferred time", allow_empty=True)
        rules.text(topic, "topic", limit=1000, allow_empty=True)
        self._require_open(meta)
        self._record(
            ActivityPart.CallbackRequested,
            meta,
            callback_id,
            customer_name,
            phone,
            preferred_time,
            topic,
        )
