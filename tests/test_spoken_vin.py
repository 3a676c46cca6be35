"""VINs read aloud: the characters in an utterance, the read-back, the near misses."""

from __future__ import annotations

import pytest

from adapters.inventory import Inventory
from adapters.spoken_vin import after_start_over, hear, near_misses, say_vin, says_done
from apps.usecases.dealership import DealershipServices

IN_STOCK = "WBA5R1C00TF734097"
STOCK = [v.vin for v in Inventory.load()]


@pytest.mark.parametrize(
    ("said", "chars"),
    [
        ("W B A 5 R 1 C 0 0 T F 7 3 4 0 9 7", IN_STOCK),
        ("WBA5R1COOTF734097", IN_STOCK),  # O is never in a VIN: written, it is a zero
        ("W-B-A, 5-R-1", "WBA5R1"),
        ("whiskey bravo alpha five romeo one", "WBA5R1"),
        ("B as in boy, double five", "B55"),
        ("d as in bravo", "B"),
        ("5 as in five", "5"),  # the spelling word says which letter was meant
        ("b for bravo, c for five", "BC45"),  # "for" before a digit is the digit four
        ("charlie oh oh tango", "C00T"),
        ("w b a five are one", "WBA5R1"),  # "are" beside characters is R
        ("what are you doing", ""),  # ... and elsewhere just a word
        ("I think it's three four", "34"),  # the pronoun is not a letter
        ("triple seven x ray five", "777X5"),
        ("double you b a", "WBA"),
        ("Double-U, Bee, A, five, are, one", "WBA5R1"),  # letter names as Whisper writes them
        ("Tee, Eff, See, Zee, Vee, Why, Ex", "TFCZVYX"),
    ],
)
def test_the_characters_in_an_utterance(said: str, chars: str) -> None:
    assert hear(said).chars == chars


def test_a_garbled_read_out_is_recognised_as_one() -> None:
    heard = hear(
        "i want to talk i three on an is w b audi on want c zero zero t at at one three four "
        "zero i need at one"
    )
    assert heard.looks_like_a_vin and heard.garbled
    assert not hear("w b a five are one c zero zero").garbled
    assert not hear("my number is five five five one two three four").looks_like_a_vin


def test_start_over_and_done() -> None:
    assert after_start_over("sorry, start over: w b a") == ": w b a"
    assert after_start_over("w b a") is None
    assert says_done("That's it.") and says_done("that’s all") and not says_done("it is")


def test_the_read_back_is_in_groups_a_voice_spells() -> None:
    assert say_vin(IN_STOCK) == "W B A, 5 R 1, C 0 0, T F 7, 3 4 0 9 7"
    # a lone A before another character would be read as the article: a comma keeps it a letter
    assert say_vin("1HGCM82633A004352") == "1 H G, C M 8, 2 6 3, 3 A, 0, 0 4 3 5 2"
    assert say_vin("wba5r") == "W B A, 5 R"


@pytest.mark.parametrize(
    "heard",
    [
        "WBA5R1C00TS734097",  # S for F
        "WDA5R1C00TF734097",  # D for B
        "WBA5R1C00TF73409",  # a character missed
        "WBA5R1C00TF7334097",  # one doubled
        "WBA5R1C00TF734091",  # one other character wrong
    ],
)
def test_a_near_miss_finds_the_car_in_stock(heard: str) -> None:
    assert [n.vin for n in near_misses(heard, STOCK)] == [IN_STOCK]


def test_no_near_miss_for_a_car_in_stock_or_far_away() -> None:
    assert near_misses(IN_STOCK, STOCK) == []
    assert near_misses("WBA5R1C00", STOCK) == []
    assert near_misses("1HGCM82633A004352", STOCK) == []


def test_the_lookup_names_near_misses_in_stock_when_the_vin_is_wrong_or_not_found() -> None:
    services = DealershipServices()
    wrong = services.lookup_vehicle("W B A 5 R 1 C 0 0 T S 7 3 4 0 9 7")
    assert not wrong.found and wrong.vin == "WBA5R1C00TS734097"
    assert wrong.result["candidates"] == [
        {"vin": IN_STOCK, "year": 2026, "make": "BMW", "model": "330i"}
    ]
    assert services.lookup_vehicle("1HGCM82633A004352").result["candidates"] == []
    assert "candidates" not in services.lookup_vehicle(IN_STOCK).result


def test_three_cheap_confusions_are_still_a_near_miss() -> None:
    # K for H twice and B for D: 0.4 each, exactly the limit (and no float rounding past it)
    assert [n.vin for n in near_misses("1GNSHNHB4SR626852", STOCK)] == ["1GNSKNKD4SR626852"]


@pytest.mark.parametrize(
    ("said", "chars", "alternative"),
    [
        ("VIN, PLEASE, 1FM5K8GC5RG754989", "1FM5K8GC5RG754989", ""),  # Whisper shouting
        ("1GNSK and KD4, SR626852", "1GNSKKD4SR626852", "1GNSKNKD4SR626852"),
    ],
)
def test_written_groups_and_the_sound_alikes_between_them(
    said: str, chars: str, alternative: str
) -> None:
    heard = hear(said)
    assert (heard.chars, heard.alternative) == (chars, alternative)
