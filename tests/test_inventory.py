"""The packaged demo inventory and its search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.inventory import DEFAULT_PATH, Inventory, Vehicle
from adapters.vin import decode_vin, validate_vin

INVENTORY = Inventory.load()
VEHICLES = INVENTORY.all()
MAKES = sorted({v.make for v in VEHICLES})


def test_inventory_is_big_and_varied() -> None:
    assert len(INVENTORY) >= 60
    assert len(MAKES) >= 10
    assert {v.condition for v in VEHICLES} == {"new", "used", "certified"}
    assert {v.status for v in VEHICLES} == {"available"}
    assert all(2018 <= v.year <= 2026 for v in VEHICLES)
    assert all(15_000 <= v.price <= 90_000 for v in VEHICLES)
    assert len({v.vin for v in VEHICLES}) == len(VEHICLES)


def test_data_file_lives_inside_the_package() -> None:
    # hatchling ships everything under adapters/, so the JSON goes with the wheel.
    assert DEFAULT_PATH.is_file()
    assert DEFAULT_PATH.parent.parent.name == "adapters"


@pytest.mark.parametrize("vehicle", VEHICLES, ids=lambda v: v.vin)
def test_every_vin_validates_and_decodes_to_its_listing(vehicle: Vehicle) -> None:
    assert validate_vin(vehicle.vin) == vehicle.vin
    details = decode_vin(vehicle.vin)
    assert details.check_digit_valid
    assert details.make == vehicle.make
    assert details.model_year == vehicle.year


def test_new_cars_have_delivery_miles_only() -> None:
    for v in VEHICLES:
        if v.condition == "new":
            assert v.mileage < 100
        else:
            assert v.mileage >= 1000


# ---------------------------------------------------------------- lookups


def test_by_vin_finds_every_vehicle_even_as_spoken() -> None:
    vehicle = VEHICLES[0]
    assert INVENTORY.by_vin(vehicle.vin) == vehicle
    assert INVENTORY.by_vin(vehicle.vin.lower()) == vehicle
    assert INVENTORY.by_vin(" ".join(vehicle.vin)) == vehicle


def test_by_vin_unknown_is_none() -> None:
    assert INVENTORY.by_vin("1HGCM82633A004352") is None
    assert INVENTORY.by_vin("not a vin") is None


def test_to_dict_round_trips() -> None:
    for v in VEHICLES:
        assert Vehicle.from_dict(v.to_dict()) == v
    assert set(VEHICLES[0].to_dict()) == {
        "vin", "make", "model", "year", "trim", "body", "color",
        "price", "mileage", "condition", "status",
    }  # fmt: skip


def test_load_from_explicit_path(tmp_path: Path) -> None:
    rows = [VEHICLES[0].to_dict(), VEHICLES[1].to_dict()]
    path = tmp_path / "stock.json"
    path.write_text(json.dumps(rows))
    assert Inventory.load(path).all() == VEHICLES[:2]
    path.write_text(json.dumps({"vehicles": rows}))
    assert len(Inventory.load(str(path))) == 2


def test_duplicate_vins_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate VIN"):
        Inventory([VEHICLES[0], VEHICLES[0]])


# ---------------------------------------------------------------- search


def test_search_default_is_ten_cheapest() -> None:
    found = INVENTORY.search()
    assert len(found) == 10
    assert [v.price for v in found] == sorted(v.price for v in VEHICLES)[:10]


@pytest.mark.parametrize("make", MAKES)
def test_search_by_make_is_case_insensitive(make: str) -> None:
    expected = sorted((v for v in VEHICLES if v.make == make), key=lambda v: (v.price, v.vin))
    assert INVENTORY.search(make=make.upper(), limit=100) == expected
    assert INVENTORY.search(make=make.lower(), limit=100) == expected
    assert expected


def test_search_model_forgives_spacing_and_dashes() -> None:
    crv = INVENTORY.search(model="crv", limit=100)
    assert crv and all(v.model == "CR-V" for v in crv)
    f150 = INVENTORY.search(make="ford", model="f 150", limit=100)
    assert f150 and all(v.model == "F-150" for v in f150)


def test_search_by_year_and_year_range() -> None:
    year = VEHICLES[0].year
    assert all(v.year == year for v in INVENTORY.search(year=year, limit=100))
    ranged = INVENTORY.search(min_year=2022, max_year=2024, limit=100)
    assert ranged
    assert all(2022 <= v.year <= 2024 for v in ranged)
    assert len(ranged) == sum(2022 <= v.year <= 2024 for v in VEHICLES)


def test_search_nothing_matches() -> None:
    assert INVENTORY.search(make="Ferrari") == []
    assert INVENTORY.search(max_price=1) == []


def test_search_limit() -> None:
    assert len(INVENTORY.search(limit=3)) == 3
    assert INVENTORY.search(limit=0) == []


@given(
    st.one_of(st.none(), st.sampled_from(MAKES)),
    st.one_of(st.none(), st.integers(10_000, 95_000)),
    st.one_of(st.none(), st.integers(10_000, 95_000)),
    st.integers(1, 80),
)
def test_search_filters_and_sorts(
    make: str | None, low: int | None, high: int | None, limit: int
) -> None:
    if low is not None and high is not None and low > high:
        low, high = high, low
    found = INVENTORY.search(make=make, min_price=low, max_price=high, limit=limit)
    matching = [
        v
        for v in VEHICLES
        if (make is None or v.make == make)
        and (low is None or v.price >= low)
        and (high is None or v.price <= high)
    ]
    assert len(found) == min(limit, len(matching))
    assert [v.price for v in found] == sorted(v.price for v in found)
    assert set(found) <= set(matching)
    assert make is None or all(v.make == make for v in found)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_price": -1}, "min_price must not be negative"),
        ({"max_price": -5}, "max_price must not be negative"),
        ({"min_price": 50_000, "max_price": 20_000}, "min_price .50000. is greater than max_price"),
        ({"min_year": 2025, "max_year": 2020}, "min_year .2025. is greater than max_year"),
        ({"limit": -1}, "limit must not be negative"),
    ],
)
def test_bad_search_input_is_a_clear_value_error(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        INVENTORY.search(**kwargs)  # type: ignore[arg-type]
