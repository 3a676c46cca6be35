"""VIN normalising, validation, check digit, finding a VIN in an utterance and decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.vin import (
    ALLOWED_CHARACTERS,
    InvalidVin,
    VinCheck,
    VinDetails,
    check_digit,
    check_digit_ok,
    check_vin,
    decode_vin,
    extract_vin,
    normalise_vin,
    validate_vin,
)

ALLOWED = "".join(sorted(ALLOWED_CHARACTERS))
VALUE = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}  # fmt: skip


# ---------------------------------------------------------------- check digit


@pytest.mark.parametrize(
    "vin",
    [
        "1HGCM82633A004352",  # 2003 Honda Accord, the textbook example
        "11111111111111111",  # all ones: check digit happens to be 1
        "1M8GDM9AXKP042788",  # check digit X (the Wikipedia worked example)
    ],
)
def test_known_vins_validate(vin: str) -> None:
    assert check_digit(vin) == vin[8]
    assert validate_vin(vin) == vin


@given(st.text(alphabet=ALLOWED, min_size=17, max_size=17))
def test_check_digit_agrees_with_vininfo(vin: str) -> None:
    from vininfo import Vin

    info = Vin(vin)
    if not getattr(info.assembler, "uses_sae_checkdigit", True):
        return  # vininfo always answers False for makers without an SAE check digit
    assert info.verify_checksum(check_year=False) == (check_digit(vin) == vin[8])


def test_check_digit_ignores_position_nine() -> None:
    assert check_digit("1HGCM82603A004352") == "3"
    assert check_digit("1HGCM826X3A004352") == "3"


def test_wrong_check_digit_says_what_was_expected() -> None:
    with pytest.raises(InvalidVin) as raised:
        validate_vin("1HGCM82643A004352")
    assert raised.value.reason == "check_digit"
    assert str(raised.value) == "check digit is 3 but position 9 has 4"


vis16 = st.text(alphabet=ALLOWED, min_size=16, max_size=16)


def _with_check_digit(sixteen: str) -> str:
    draft = sixteen[:8] + "0" + sixteen[8:]
    return draft[:8] + check_digit(draft) + draft[9:]


@given(vis16)
def test_inserting_the_check_digit_gives_a_valid_vin(sixteen: str) -> None:
    vin = _with_check_digit(sixteen)
    assert len(vin) == 17
    assert validate_vin(vin) == vin
    assert check_vin(vin) == VinCheck(vin, vin, True)


@given(vis16, st.integers(min_value=0, max_value=16), st.sampled_from(ALLOWED + "X"))
def test_any_single_substitution_is_detected(sixteen: str, index: int, new: str) -> None:
    vin = _with_check_digit(sixteen)
    changed = vin[:index] + new + vin[index + 1 :]
    if index == 8:
        # Position 9 only ever holds the check digit, so any other value is wrong.
        equivalent = new == vin[8]
    else:
        # Letters that transliterate to the same digit (A=J=1, B=K=S=2...) are
        # indistinguishable to the check digit: that is a limit of ISO 3779.
        equivalent = VALUE[new] == VALUE[vin[index]]
    if equivalent:
        assert validate_vin(changed) == changed
    else:
        with pytest.raises(InvalidVin) as raised:
            validate_vin(changed)
        assert raised.value.reason == "check_digit"


# ---------------------------------------------------------------- shape errors


@pytest.mark.parametrize("letter", "IOQ")
def test_forbidden_letters(letter: str) -> None:
    vin = "1HGCM" + letter + "2633A004352"
    with pytest.raises(InvalidVin) as raised:
        validate_vin(vin)
    assert raised.value.reason == "forbidden_letters"
    assert f"found {letter} at position 6" in str(raised.value)
    assert "I, O or Q" in raised.value.message


@pytest.mark.parametrize("vin", ["1HGCM82633A0043", "1HGCM82633A0043521", ""])
def test_wrong_length(vin: str) -> None:
    with pytest.raises(InvalidVin) as raised:
        validate_vin(vin)
    assert raised.value.reason == "length"
    assert str(raised.value) == f"a VIN has 17 characters, got {len(vin)}"


def test_strange_characters() -> None:
    with pytest.raises(InvalidVin) as raised:
        validate_vin("1HGCM82633A00435#")
    assert raised.value.reason == "characters"
    assert isinstance(raised.value, ValueError)


def test_length_is_checked_before_forbidden_letters() -> None:
    with pytest.raises(InvalidVin) as raised:
        validate_vin("1HGCO8263")
    assert raised.value.reason == "length"


@given(st.text(alphabet=ALLOWED + "IOQ", max_size=20).filter(lambda s: len(s) != 17))
def test_any_wrong_length_is_reported_as_length(text: str) -> None:
    with pytest.raises(InvalidVin) as raised:
        validate_vin(text)
    assert raised.value.reason == "length"


# ---------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "one h g c m eight two six three three a zero zero four three five two",
            "1HGCM82633A004352",
        ),
        ("1hg-cm8 2633.a004352", "1HGCM82633A004352"),
        ("  1HGCM82633A004352\n", "1HGCM82633A004352"),
        ("one hotel golf charlie mike 82633 alpha oh oh 4352", "1HGCM82633A004352"),
        ("One Hotel Golf, Charlie Mike. Eight-two-six three three", "1HGCM82633"),
        ("double x triple four", "XX444"),
        ("x-ray x ray whiskey double you", "XXWW"),
        ("double u", "UU"),
        ("niner zulu", "9Z"),
        ("five y j three e one e a seven j f zero zero zero three one six", "5YJ3E1EA7JF000316"),
        ("ONE M EIGHT G D M NINE A X K P ZERO FOUR TWO SEVEN EIGHT EIGHT", "1M8GDM9AXKP042788"),
    ],
)
def test_normalise_vin(said: str, expected: str) -> None:
    assert normalise_vin(said) == expected


def test_normalise_keeps_what_it_does_not_understand() -> None:
    # Validation, not normalising, is where a bad VIN gets explained.
    assert normalise_vin("1hgc o 8") == "1HGCO8"
    assert normalise_vin("1hgc banana") == "1HGCBANANA"


def test_validate_accepts_spoken_form() -> None:
    said = "one h g c m eight two six three three a zero zero four three five two"
    assert validate_vin(said) == "1HGCM82633A004352"


# ---------------------------------------------------------------- check_vin


def test_check_vin_records_without_raising() -> None:
    result = check_vin("one h g c m eight two six four three a zero zero four three five two")
    assert result.as_said.startswith("one h g")
    assert result.normalised == "1HGCM82643A004352"
    assert not result.check_digit_valid
    assert not result.valid
    assert result.error_reason == "check_digit"
    assert result.error_message == "check digit is 3 but position 9 has 4"


def test_check_vin_valid() -> None:
    result = check_vin("1HG CM826 33A 004352")
    assert result.valid and result.check_digit_valid
    assert result.normalised == "1HGCM82633A004352"
    assert result.error_reason is None and result.error_message is None


@given(st.text(max_size=40))
def test_check_vin_never_raises(said: str) -> None:
    result = check_vin(said)
    assert result.valid == (result.error_reason is None)
    assert result.check_digit_valid == result.valid


# ---------------------------------------------------------------- decoding


def test_decode_known_honda() -> None:
    details = decode_vin("1HGCM82633A004352")
    assert isinstance(details, VinDetails)
    assert details.make == "Honda"
    assert details.country == "United States"
    assert details.region == "North America"
    assert details.model_year == 2003  # digit in position 7 means the 1980-2009 cycle
    assert details.serial == "004352"
    assert details.check_digit_valid
    assert details.to_dict()["vin"] == "1HGCM82633A004352"


def test_decode_picks_the_newer_cycle_when_position_seven_is_a_letter() -> None:
    details = decode_vin(_with_check_digit("5YJ3E1EA" + "TF000316"))
    assert (details.make, details.model_year) == ("Tesla", 2026)


def test_decode_strips_vininfo_plant_country_from_make() -> None:
    # vininfo calls 3GN "Chevrolet Mexico" and 7SA "Tesla Motors USA".
    assert decode_vin(_with_check_digit("3GNAXUEV" + "PL123456")).make == "Chevrolet"
    assert decode_vin(_with_check_digit("7SAYGDEE" + "PA123456")).make == "Tesla"
    assert decode_vin(_with_check_digit("JF1VBAF6" + "M8123456")).make == "Subaru"


def test_decode_nissan_plant_from_vininfo_details() -> None:
    details = decode_vin(_with_check_digit("5N1AT2MV" + "LC123456"))
    assert details.make == "Nissan"
    assert details.plant == "Smyrna"


def test_decode_unknown_wmi_is_not_an_error() -> None:
    details = decode_vin(_with_check_digit("7G2AAAAA" + "AA000001"))
    assert details.make == "Unknown"
    assert details.manufacturer == "Unknown"
    assert details.check_digit_valid


def test_decode_reports_bad_check_digit_instead_of_raising() -> None:
    details = decode_vin("1HGCM82643A004352")
    assert details.make == "Honda"
    assert not details.check_digit_valid


def test_decode_rejects_malformed_vin() -> None:
    with pytest.raises(InvalidVin) as raised:
        decode_vin("1HGCM8263")
    assert raised.value.reason == "length"


@given(vis16)
def test_decode_never_fails_on_a_valid_vin(sixteen: str) -> None:
    details = decode_vin(_with_check_digit(sixteen))
    assert details.check_digit_valid
    assert details.make
    assert details.model_year is None or 1980 <= details.model_year <= 2039


def test_check_digit_ok_says_no_rather_than_raising() -> None:
    assert check_digit_ok("1HGCM82633A004352")
    assert not check_digit_ok("1HGCM82643A004352")
    assert not check_digit_ok("1HGCM82633A00435")  # sixteen characters
    assert not check_digit_ok("1HGCM826O3A004352")  # an O


@pytest.mark.parametrize(
    ("said", "vin"),
    [
        ("my vin is 1HGCM82633A004352 thanks", "1HGCM82633A004352"),
        (
            "it's one h g c m eight two six three three a zero zero four three five two",
            "1HGCM82633A004352",
        ),
        # "double" repeats the character after it.
        ("vin 1 h g c m 8 2 6 3 3 a double zero 4 3 5 2", "1HGCM82633A004352"),
        ("I have 1HGCM82633A004352", "1HGCM82633A004352"),  # the pronoun is not a letter
        ("my vin is one two three", None),
    ],
)
def test_extract_vin_from_an_utterance(said: str, vin: str | None) -> None:
    assert extract_vin(said) == vin
