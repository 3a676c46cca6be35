"""What the dealership does for a caller, whichever entry point asks (the agent's tools or
the HTTP API): VIN checks and decoding (`adapters.vin`), the stock list (`adapters.inventory`),
and the domain's own field rules for bookings. Pure functions of their input: the caller
records the outcome as events where there is a call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from adapters.inventory import Inventory
from adapters.spoken_vin import near_misses
from adapters.vin import InvalidVin, check_vin, decode_vin
from domain import rules
from domain.errors import InvalidCommand

MAX_RESULTS = 5


@dataclass(frozen=True)
class VehicleLookup:
    vin_as_said: str
    vin: str
    check_digit_valid: bool
    found: bool
    vehicle: dict[str, Any] | None
    decoded: dict[str, Any] | None
    result: dict[str, Any]


@dataclass(frozen=True)
class Booking:
    """A test drive or callback the caller asked for; `error` when a detail is unusable."""

    booking_id: str
    customer_name: str
    phone: str
    preferred_time: str
    vin: str | None = None
    topic: str = ""
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


class DealershipServices:
    def __init__(self, inventory: Inventory | None = None) -> None:
        self.inventory = inventory or Inventory.load()

    def lookup_vehicle(self, vin_as_said: str) -> VehicleLookup:
        """Normalise and validate the VIN, decode it, and find it on the lot.

        A VIN that is invalid or not on the lot comes back with `candidates`: the cars in
        stock it was probably meant to be (a misheard character or two, a valid check
        digit), for the agent to ask about, never to take in its place.
        """
        said = vin_as_said.strip() or "?"
        check = check_vin(said)
        decoded: dict[str, Any] | None = None
        try:
            decoded = decode_vin(check.normalised).to_dict()
        except InvalidVin:
            pass  # malformed: nothing to decode, the check says why
        if not check.valid:
            result = {
                "found": False,
                "vin": check.normalised,
                "error": check.error_reason,
                "message": check.error_message,
                "candidates": self.near_misses(check.normalised),
            }
            return VehicleLookup(said, check.normalised, False, False, None, decoded, result)
        vehicle = self.inventory.by_vin(check.normalised)
        found = vehicle.to_dict() if vehicle else None
        result = {
            "found": found is not None,
            "vin": check.normalised,
            "check_digit_valid": True,
            "vehicle": found,
            # "year" as well: what a listener (and the local dialogue policy) calls it
            "decoded": decoded and {**decoded, "year": decoded.get("model_year")},
        }
        if found is None:
            result["candidates"] = self.near_misses(check.normalised)
        return VehicleLookup(
            said, check.normalised, True, found is not None, found, decoded, result
        )

    def near_misses(self, heard: str) -> list[dict[str, Any]]:
        """Cars in stock whose VIN `heard` may be a mishearing of, closest first."""
        out = []
        for near in near_misses(heard, (v.vin for v in self.inventory)):
            car = self.inventory.by_vin(near.vin)
            if car is not None and car.status == "available":
                out.append({"vin": car.vin, "year": car.year, "make": car.make, "model": car.model})
        return out

    def search_inventory(
        self,
        make: str | None = None,
        model: str | None = None,
        year: int | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
    ) -> dict[str, Any]:
        """Available vehicles matching every filter, cheapest first (a few of them)."""
        try:
            found = self.inventory.search(
                make=make or None,
                model=model or None,
                year=year,
                min_price=min_price,
                max_price=max_price,
                limit=1000,
            )
        except ValueError as e:
            return {"vehicles": [], "count": 0, "error": "invalid_filter", "message": str(e)}
        return {
            "vehicles": [v.to_dict() for v in found[:MAX_RESULTS]],
            "count": len(found),
        }

    def book_test_drive(
        self, customer_name: str, phone: str, preferred_time: str, vin: str | None
    ) -> Booking:
        booking = Booking(
            booking_id=f"td-{uuid.uuid4().hex[:12]}",
            customer_name=customer_name.strip(),
            phone=phone.strip(),
            preferred_time=preferred_time.strip(),
            vin=check_vin(vin).normalised if vin and vin.strip() else None,
        )
        return _checked(booking, "test_drive", time_required=True)

    def request_callback(
        self, customer_name: str, phone: str, preferred_time: str, topic: str
    ) -> Booking:
        booking = Booking(
            booking_id=f"cb-{uuid.uuid4().hex[:12]}",
            customer_name=customer_name.strip(),
            phone=phone.strip(),
            preferred_time=preferred_time.strip(),
            topic=topic.strip(),
        )
        return _checked(booking, "callback", time_required=False)


def _checked(b: Booking, kind: str, *, time_required: bool) -> Booking:
    """Apply the domain's rules before promising anything to the caller."""
    try:
        rules.text(b.customer_name, "customer name")
        rules.phone(b.phone)
        rules.text(b.preferred_time, "preferred time", allow_empty=not time_required)
        rules.text(b.topic, "topic", limit=1000, allow_empty=True)
    except InvalidCommand as e:
        result = {"booked": False, "error": "invalid_details", "message": e.message}
        return Booking(**{**b.__dict__, "error": e.message, "result": result})
    result = {
        "booked": True,
        "kind": kind,
        "booking_id": b.booking_id,
        "customer_name": b.customer_name,
        "phone": b.phone,
        "preferred_time": b.preferred_time,
    }
    if b.vin:
        result["vin"] = b.vin
    if b.topic:
        result["topic"] = b.topic
    return Booking(**{**b.__dict__, "result": result})
