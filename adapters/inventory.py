"""The dealership's stock list: a read-only adapter over a JSON file.

The demo inventory ships inside the package (``adapters/data/inventory.json``)
so the agent can answer "do you have a 2022 RAV4 under 30k?" with no database.
Every VIN in it carries a correct check digit, so it decodes like a real one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from adapters.vin import normalise_vin

DEFAULT_PATH = Path(__file__).parent / "data" / "inventory.json"


@dataclass(frozen=True)
class Vehicle:
    """One car on the lot."""

    vin: str
    make: str
    model: str
    year: int
    trim: str
    body: str
    color: str
    price: int  # whole dollars: nobody quotes cents on a call
    mileage: int
    condition: str  # "new", "used" or "certified"
    status: str  # "available" for everything the agent may offer

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vehicle:
        return cls(
            vin=str(data["vin"]).upper(),
            make=str(data["make"]),
            model=str(data["model"]),
            year=int(data["year"]),
            trim=str(data["trim"]),
            body=str(data["body"]),
            color=str(data["color"]),
            price=int(data["price"]),
            mileage=int(data["mileage"]),
            condition=str(data["condition"]),
            status=str(data["status"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_range(name: str, low: int | None, high: int | None) -> None:
    for label, value in ((f"min_{name}", low), (f"max_{name}", high)):
        if value is not None and value < 0:
            raise ValueError(f"{label} must not be negative, got {value}")
    if low is not None and high is not None and low > high:
        raise ValueError(f"min_{name} ({low}) is greater than max_{name} ({high})")


class Inventory:
    """Vehicles by VIN, with the simple filtered search a caller asks for."""

    def __init__(self, vehicles: Iterable[Vehicle]) -> None:
        self._by_vin: dict[str, Vehicle] = {}
        for vehicle in vehicles:
            if vehicle.vin in self._by_vin:
                raise ValueError(f"duplicate VIN in inventory: {vehicle.vin}")
            self._by_vin[vehicle.vin] = vehicle

    @classmethod
    def load(cls, path: str | Path | None = None) -> Inventory:
        """Read the inventory JSON (the packaged demo stock by default)."""
        raw = json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))
        # Accept a bare list too, so a hand-written test file stays short.
        rows = raw["vehicles"] if isinstance(raw, dict) else raw
        return cls(Vehicle.from_dict(row) for row in rows)

    def __len__(self) -> int:
        return len(self._by_vin)

    def __iter__(self) -> Iterator[Vehicle]:
        return iter(self._by_vin.values())

    def all(self) -> list[Vehicle]:
        return list(self._by_vin.values())

    def by_vin(self, vin: str) -> Vehicle | None:
        """Find a vehicle by VIN as typed or spoken; None if not on the lot."""
        return self._by_vin.get(normalise_vin(vin))

    def search(
        self,
        make: str | None = None,
        model: str | None = None,
        year: int | None = None,
        min_year: int | None = None,
        max_year: int | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
        limit: int = 10,
    ) -> list[Vehicle]:
        """Available vehicles matching every given filter, cheapest first.

        Make and model match case-insensitively, ignoring spaces and dashes
        ("crv" finds "CR-V", "f150" finds "F-150"), because that is how
        speech-to-text writes them; model is a substring match, so
        "silverado" finds "Silverado 1500".
        """
        _check_range("price", min_price, max_price)
        _check_range("year", min_year, max_year)
        if year is not None and year < 0:
            raise ValueError(f"year must not be negative, got {year}")
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        want_make = _fold(make) if make else None
        want_model = _fold(model) if model else None

        def matches(v: Vehicle) -> bool:
            return (
                v.status == "available"
                and (want_make is None or _fold(v.make) == want_make)
                and (want_model is None or want_model in _fold(v.model))
                and (year is None or v.year == year)
                and (min_year is None or v.year >= min_year)
                and (max_year is None or v.year <= max_year)
                and (min_price is None or v.price >= min_price)
                and (max_price is None or v.price <= max_price)
            )

        found = sorted(filter(matches, self._by_vin.values()), key=lambda v: (v.price, v.vin))
        return found[:limit]


def _fold(text: str) -> str:
    """Compare names the way people say them: no case, spaces or dashes."""
    return "".join(c for c in text.casefold() if c.isalnum())
