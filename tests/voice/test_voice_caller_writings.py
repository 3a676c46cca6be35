"""What a caller said, as Whisper and pocketsphinx write it: phone numbers, times, plural
and spelled model names, price caps. (Examples written for these tests; the bench's
held-out dialogues stay out of them.)"""

from __future__ import annotations

import pytest

from adapters.voice.caller_details import extract_phone, extract_time
from adapters.voice.dealership_nlu import parse_vehicle_query, spoken_forms


@pytest.mark.parametrize(
    "said",
    [
        "you can call me at 720-441-8650",
        "(720) 441-8650",
        "it's 7, 2, 0, 4, 4, 1, 8, 6, 5, 0",
        "my cell is 72044, 186, 50",  # Whisper's grouping of a digit-by-digit read-out
        "my cell is 7.2. 0441865 0",  # ... and its pauses written as decimal points
        "seven two oh double four one eight six five oh",
        "seven two zero four four one eight six five zero",
    ],
)
def test_a_phone_number_in_every_writing(said: str) -> None:
    assert extract_phone(said) == "7204418650"


@pytest.mark.parametrize(
    ("said", "time"),
    [
        ("Thursday at 4 p.m.", "thursday at 4 pm"),
        ("Thursday at 4 PM.", "thursday at 4 pm"),
        ("thursday at four p m", "thursday at 4 pm"),
        ("Thursday, 4pm works", "thursday at 4 pm"),
        ("how about 9 a.m. on Monday", "monday at 9 am"),
        ("monday at nine in the morning", "monday at 9 am"),
        ("Monday at 9M.", "monday at 9 am"),  # Whisper's clipped "a m"
        ("monday around nine thirty", "monday at 9:30"),
        ("sunday at seven o'clock", "sunday at 7"),
        ("tomorrow morning", "tomorrow morning"),
        ("saturday at noon", "saturday at noon"),
    ],
)
def test_a_time_in_every_writing(said: str, time: str) -> None:
    assert extract_time(said) == time


def test_a_phone_number_is_not_a_time() -> None:
    assert extract_time("reach me at 5 5 5 2 1 2 9") is None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("do you sell Tacomas", {"make": "Toyota", "model": "Tacoma"}),
        ("two honda pilots", {"make": "Honda", "model": "Pilot"}),
        ("any c x fives", {"make": "Mazda", "model": "CX-5"}),
        ("the mazda cx five", {"make": "Mazda", "model": "CX-5"}),
        ("the CX-5", {"make": "Mazda", "model": "CX-5"}),
        ("an e v six", {"make": "Kia", "model": "EV6"}),
        ("the ioniq five", {"make": "Hyundai", "model": "Ioniq 5"}),
        ("a rav four", {"make": "Toyota", "model": "RAV4"}),
        (
            "no more than $24,000 for a camry",
            {"make": "Toyota", "model": "Camry", "max_price": 24000},
        ),
        ("a sedan not more than twenty four thousand", {"max_price": 24000}),
        ("at most 24k", {"max_price": 24000}),
        ("twenty four thousand or less", {"max_price": 24000}),
        ("a jeep, 24 grand tops", {"make": "Jeep", "max_price": 24000}),
        ("more than twenty four thousand", {"min_price": 24000}),
    ],
)
def test_vehicle_requests_in_every_writing(said: str, expected: dict[str, object]) -> None:
    assert parse_vehicle_query(said).as_arguments() == expected


def test_spoken_forms_of_a_model_name() -> None:
    assert spoken_forms("CX-5") == {"cx 5", "cx5", "cx five", "c x 5", "c x5", "c x five"}
    assert "model three" in spoken_forms("Model 3")
