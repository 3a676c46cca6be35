"""VINs as customers say them: normalise, validate and decode.

A caller reads a VIN out loud, speech-to-text writes down whatever it heard,
and the agent has to turn that into the 17 characters printed on the car.
This adapter keeps three steps apart so the domain can record each honestly:

* ``normalise_vin`` -- words and separators to a candidate string (no judgement);
* ``validate_vin`` -- length, alphabet and the ISO 3779 / North American
  check digit, raising ``InvalidVin`` with a reason the agent can read back;
* ``decode_vin`` -- make, country and model year via the ``vininfo`` package.

``extract_vin`` finds a VIN read out in the middle of an utterance (the dialogue
policy's use). This module is the one place with VIN rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from vininfo import Vin, VininfoException

VIN_LENGTH = 17
CHECK_DIGIT_POSITION = 9  # 1-based, as it is printed in every VIN reference

InvalidVinReason = Literal["length", "forbidden_letters", "characters", "check_digit"]

# ISO 3779 transliteration: letters count as digits; I, O and Q are absent
# because they are never used (too easily mistaken for 1 and 0).
_TRANSLITERATION: dict[str, int] = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
FORBIDDEN_LETTERS = frozenset("IOQ")
ALLOWED_CHARACTERS = frozenset(_TRANSLITERATION)

# Model-year codes (VIN position 10) repeat every 30 years, starting 1980.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


# --------------------------------------------------------------------------
# Normalising what was said
# --------------------------------------------------------------------------

_NATO = {
    "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D",
    "echo": "E", "foxtrot": "F", "golf": "G", "hotel": "H", "india": "I",
    "juliet": "J", "juliett": "J", "kilo": "K", "lima": "L", "mike": "M",
    "november": "N", "oscar": "O", "papa": "P", "quebec": "Q", "romeo": "R",
    "sierra": "S", "tango": "T", "uniform": "U", "victor": "V",
    "whiskey": "W", "whisky": "W", "xray": "X", "yankee": "Y", "zulu": "Z",
}  # fmt: skip

_NUMBER_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "niner": "9",
}  # fmt: skip

# How speech-to-text tends to spell letter names it heard on their own.
_LETTER_NAMES = {
    "bee": "B", "cee": "C", "see": "C", "dee": "D", "eff": "F", "gee": "G",
    "aitch": "H", "jay": "J", "kay": "K", "el": "L", "ell": "L", "em": "M",
    "en": "N", "pee": "P", "ar": "R", "are": "R", "ess": "S", "tee": "T",
    "you": "U", "vee": "V", "ex": "X", "why": "Y", "zed": "Z", "zee": "Z",
}  # fmt: skip

_SPOKEN = {**_NATO, **_NUMBER_WORDS, **_LETTER_NAMES}
_REPEATS = {"double": 2, "triple": 3}

# Multi-word spellings are glued together first so tokenising cannot split them.
_GLUE = (
    (re.compile(r"\bx[\s\-.]*ray\b"), "xray"),
    (re.compile(r"\bdouble(?:\s+you|-you|you|-u)\b"), "w"),
)
_SEPARATORS = re.compile(r"[\s\-.,;:/_]+")


def normalise_vin(said: str) -> str:
    """Turn a VIN as spoken or typed into a 17-character candidate.

    Strips separators, uppercases, and maps number words (zero/oh..nine),
    NATO words, letter names and "double x"/"triple x". Does not validate:
    anything unrecognised is kept so ``validate_vin`` can say what is wrong.
    "double you" / "double-u" is the letter W; "double u" is UU.
    """
    text = said.lower()
    for pattern, replacement in _GLUE:
        text = pattern.sub(replacement, text)
    out: list[str] = []
    repeat = 1
    for token in _SEPARATORS.split(text):
        if not token:
            continue
        if token in _REPEATS:
            repeat = _REPEATS[token]
            continue
        piece = _SPOKEN.get(token, token.upper())
        # "double" applies to the next character only: "double four two" is 442.
        out.append(piece[0] * repeat + piece[1:])
        repeat = 1
    return "".join(out)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


class InvalidVin(ValueError):
    """A VIN that cannot be right, with a machine ``reason`` and a spoken-friendly message."""

    def __init__(self, reason: InvalidVinReason, message: str) -> None:
        super().__init__(message)
        self.reason: InvalidVinReason = reason
        self.message = message


def _check_shape(vin: str) -> None:
    """Raise for wrong characters, wrong length or I/O/Q, in that order."""
    strange = [c for c in vin if not ("A" <= c <= "Z" or "0" <= c <= "9")]
    if strange:
        shown = ", ".join(repr(c) for c in dict.fromkeys(strange))
        raise InvalidVin("characters", f"a VIN has only letters and digits, found {shown}")
    if len(vin) != VIN_LENGTH:
        raise InvalidVin("length", f"a VIN has {VIN_LENGTH} characters, got {len(vin)}")
    for position, char in enumerate(vin, start=1):
        if char in FORBIDDEN_LETTERS:
            raise InvalidVin(
                "forbidden_letters",
                f"VINs never contain the letters I, O or Q (found {char} at position {position})",
            )


def check_digit(vin17: str) -> str:
    """Compute the ISO 3779 / North American check digit ('0'-'9' or 'X').

    Position 9 itself has weight 0, so whatever it holds is ignored.
    """
    vin = vin17.upper()
    if len(vin) != VIN_LENGTH:
        raise InvalidVin("length", f"a VIN has {VIN_LENGTH} characters, got {len(vin)}")
    total = 0
    for position, (char, weight) in enumerate(zip(vin, _WEIGHTS, strict=True), start=1):
        if position == CHECK_DIGIT_POSITION:
            continue
        if char in FORBIDDEN_LETTERS:
            raise InvalidVin(
                "forbidden_letters",
                f"VINs never contain the letters I, O or Q (found {char} at position {position})",
            )
        if char not in _TRANSLITERATION:
            raise InvalidVin("characters", f"a VIN has only letters and digits, found {char!r}")
        total += _TRANSLITERATION[char] * weight
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(vin: str) -> str:
    """Return the normalised VIN if it is valid, else raise ``InvalidVin``."""
    candidate = normalise_vin(vin)
    _check_shape(candidate)
    expected = check_digit(candidate)
    actual = candidate[CHECK_DIGIT_POSITION - 1]
    if actual != expected:
        raise InvalidVin(
            "check_digit",
            f"check digit is {expected} but position {CHECK_DIGIT_POSITION} has {actual}",
        )
    return candidate


@dataclass(frozen=True)
class VinCheck:
    """What the domain records about a VIN the caller gave: never raises."""

    as_said: str
    normalised: str
    check_digit_valid: bool
    error_reason: InvalidVinReason | None = None
    error_message: str | None = None

    @property
    def valid(self) -> bool:
        return self.error_reason is None


def check_vin(said: str) -> VinCheck:
    """Normalise and validate without raising, for recording in an event."""
    normalised = normalise_vin(said)
    try:
        validate_vin(normalised)
    except InvalidVin as error:
        return VinCheck(said, normalised, False, error.reason, error.message)
    return VinCheck(said, normalised, True)


def check_digit_ok(vin: str) -> bool:
    """Whether 17 VIN characters carry the right check digit; False for anything else."""
    if len(vin) != VIN_LENGTH or not set(vin) <= ALLOWED_CHARACTERS:
        return False
    return check_digit(vin) == vin[CHECK_DIGIT_POSITION - 1]


# --------------------------------------------------------------------------
# Finding a VIN in an utterance
# --------------------------------------------------------------------------

VinNormaliser = Callable[[str], str]
"""Spoken or typed VIN text -> candidate characters (``normalise_vin``'s contract)."""

# Words that may be part of a VIN read out: never one for I, O or Q, which a VIN lacks
# (and so the pronoun "I" is not glued on).
_VIN_WORDS = frozenset(
    w for w, c in {**_NATO, **_NUMBER_WORDS}.items() if c not in FORBIDDEN_LETTERS
) | frozenset(_REPEATS)
_UTTERANCE_SPLIT = re.compile(r"[\s,;:!?]+|(?<!\w)-|-(?!\w)|\.(?=\s|$)")


def _vin_token(token: str) -> bool:
    if len(token) == 1:
        return token.isalnum() and token.upper() not in FORBIDDEN_LETTERS
    return token in _VIN_WORDS or (token.isalnum() and any(c.isdigit() for c in token))


def extract_vin(text: str, normaliser: VinNormaliser = normalise_vin) -> str | None:
    """The 17-character VIN in an utterance, or None.

    Looks at runs of VIN-like tokens; when a run is longer than 17 characters
    (an article, a stray letter) the window with a valid check digit wins,
    otherwise the last 17 characters, since fillers come before a VIN.
    """
    tokens = [t.strip(".-") for t in _UTTERANCE_SPLIT.split(text.lower()) if t]
    runs: list[list[str]] = [[]]
    for tok in filter(None, tokens):
        if _vin_token(tok.replace("-", "")):
            runs[-1].append(tok)
        elif runs[-1]:
            runs.append([])
    candidates: list[str] = []
    for run in runs:
        if not run:
            continue
        chars = "".join(c for c in normaliser(" ".join(run)).upper() if c.isalnum())
        if len(chars) < VIN_LENGTH:
            continue
        windows = [chars[i : i + VIN_LENGTH] for i in range(len(chars) - VIN_LENGTH + 1)]
        valid = [w for w in windows if check_digit_ok(w)]
        candidates.append(valid[0] if valid else windows[-1])
    return candidates[-1] if candidates else None


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------

UNKNOWN = "Unknown"

# vininfo's manufacturer titles carry plant country and sub-brands
# ("Chevrolet Mexico", "Tesla Motors USA", "BMW M", "Subaru / Scion");
# callers want the badge on the car, so match the brand by prefix.
_KNOWN_MAKES = (
    "Acura", "Alfa Romeo", "Aston Martin", "Audi", "Bentley", "BMW", "Buick",
    "Cadillac", "Chevrolet", "Chrysler", "Dodge", "Ferrari", "Fiat", "Ford",
    "Genesis", "GMC", "Honda", "Hyundai", "Infiniti", "Jaguar", "Jeep", "Kia",
    "Lamborghini", "Land Rover", "Lexus", "Lincoln", "Lucid", "Maserati",
    "Mazda", "Mercedes-Benz", "Mini", "Mitsubishi", "Nissan", "Polestar",
    "Porsche", "Ram", "Rivian", "Subaru", "Tesla", "Toyota", "Volkswagen", "Volvo",
)  # fmt: skip


@dataclass(frozen=True)
class VinDetails:
    """What a VIN says about the vehicle, as far as ``vininfo`` knows."""

    vin: str
    make: str
    manufacturer: str
    country: str
    region: str
    model_year: int | None
    plant: str | None
    serial: str
    check_digit_valid: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Titles that name a group rather than a badge.
_MAKE_ALIASES = {"daimlerchrysler": "Mercedes-Benz", "daimler": "Mercedes-Benz"}


def _make_from_manufacturer(manufacturer: str) -> str:
    for prefix, make in _MAKE_ALIASES.items():
        if manufacturer.lower().startswith(prefix):
            return make
    for make in sorted(_KNOWN_MAKES, key=len, reverse=True):
        if manufacturer.lower().startswith(make.lower()):
            return make
    return manufacturer


def _model_year(vin: str, year_code: str) -> int | None:
    """Pick the model year from the 30-year cycle.

    US rule (49 CFR 565): a letter in position 7 means 2010-2039, a digit
    means 1980-2009. vininfo lists every candidate instead of choosing.
    """
    if year_code not in _YEAR_CODES:
        return None
    base = 2010 if vin[6].isalpha() else 1980
    return base + _YEAR_CODES.index(year_code)


def _detail_name(detail: Any) -> str | None:
    """vininfo detail names are str, a list of candidates, or missing."""
    name = getattr(detail, "name", None)
    if isinstance(name, list):
        return " or ".join(str(n) for n in name) or None
    return str(name) if name else None


def decode_vin(vin: str) -> VinDetails:
    """Decode make, country, region, model year and plant from a VIN.

    Raises ``InvalidVin`` only if the VIN is malformed (length, characters,
    I/O/Q); a wrong check digit is reported in ``check_digit_valid`` because
    the rest of the VIN is still worth reading back to the caller.
    """
    candidate = normalise_vin(vin)
    _check_shape(candidate)
    digit_ok = check_digit(candidate) == candidate[CHECK_DIGIT_POSITION - 1]
    serial = candidate[11:]  # positions 12-17 in the North American layout
    try:
        info = Vin(candidate)
        assembler = info.assembler
        manufacturer = str(info.manufacturer)
        if type(assembler).__name__ == "UnsupportedBrand":
            # vininfo does not raise for an unknown WMI; it returns this placeholder.
            manufacturer = UNKNOWN
        details = info.details
        plant = _detail_name(details.plant) if details is not None else None
        if details is not None and details.serial:
            serial = str(details.serial.code) or serial
        year_code = str(info.years_code)
        country = str(info.country or UNKNOWN)
        region = str(info.region or UNKNOWN)
    except (VininfoException, LookupError, AttributeError, TypeError):
        # The library's tables are data, not a contract; an odd VIN must not break a call.
        manufacturer, plant, country, region = UNKNOWN, None, UNKNOWN, UNKNOWN
        year_code = candidate[9]
    make = UNKNOWN if manufacturer == UNKNOWN else _make_from_manufacturer(manufacturer)
    return VinDetails(
        vin=candidate,
        make=make,
        manufacturer=manufacturer,
        country=country,
        region=region,
        model_year=_model_year(candidate, year_code),
        plant=plant,
        serial=serial,
        check_digit_valid=digit_ok,
    )
