"""Personal data in what a caller says or a tool is given: phone numbers (typed or said
digit by digit), e-mail addresses (typed or said "at … dot com"), card numbers
(Luhn-checked), street addresses, and the names a caller gives. VINs and inventory data
are not personal data and are never marked.

Libraries do the recognising where one fits: Google's libphonenumber (`phonenumbers`)
for written phone numbers, `python-stdnum`'s Luhn check for cards, and `usaddress` (a
CRF address parser) for street addresses. What no library covers for speech (digits
said as words, a spoken e-mail, a name the caller gives) is read here. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers
import usaddress
from stdnum import luhn

KINDS = ("phone", "email", "card", "address", "name")

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEAT_WORDS = {"double": 2, "triple": 3}
_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")
_RUN_GLUE = frozenset("-.,()+")
#: A VIN: 17 letters and digits without I, O or Q (checked before anything else, so its
#: digits are never taken for a phone or card number).
_VIN = re.compile(r"\b[A-HJ-NPR-Z0-9]{17}\b", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9][a-z0-9._-]*(?:\s+(?:dot|underscore)\s+[a-z0-9]+)*\s+at\s+[a-z0-9-]+"
    r"(?:\s+dot\s+[a-z]{2,})+\b",
    re.IGNORECASE,
)
_NAME_GIVEN = re.compile(
    r"\b(?i:my name is|my name's|name is|this is|it's|i'm|i am|call me|under the name)"
    r"\s+([A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?)"
)
_STREET_TYPES = frozenset(
    "street st avenue ave road rd drive dr lane ln boulevard blvd way court ct place pl "
    "terrace circle cir parkway pkwy highway hwy trail square sq".split()
)
_DIGIT = re.compile(r"\d")
_DIGIT_WORD = re.compile(
    r"\b(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine)\b", re.IGNORECASE
)
_SPOKEN_AT = re.compile(r"\bat\b.*\bdot\b", re.IGNORECASE | re.DOTALL)
#: A house number, then a few words, then a street type: what an address span needs.
_STREET_WORD = re.compile(
    r"(?<!\S)\d+\s+(?:\S+\s+){1,8}?(?:" + "|".join(sorted(_STREET_TYPES)) + r")\b",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    "I Im Hi Hello Yes No Okay Ok The A An Calling Looking Interested Just Not Here Sure "
    "Honda Toyota Ford Mazda Civic Accord Camry Corolla Tesla Chevrolet Nissan Subaru Jeep "
    "CME Auto Sales".split()
)


@dataclass(frozen=True, order=True)
class PiiSpan:
    start: int
    end: int
    kind: str
    text: str


def find_pii(text: str, *, names: Iterable[str] = (), exhaustive: bool = False) -> list[PiiSpan]:
    """Every personal-data span of `text`, left to right, none overlapping. `names` are
    the names the call already knows (a booking's, the caller's): they are marked
    wherever they are said. `exhaustive` runs every recogniser on every text (the
    check that skipping them changes nothing)."""
    if not text:
        return []
    digits = exhaustive or _DIGIT.search(text) is not None
    # Each recogniser runs only where what it needs is in the text (the same results,
    # a fraction of the time: most lines hold no digit, no "@" and no name given).
    runs = _digit_runs(text) if digits or _DIGIT_WORD.search(text) else []
    if exhaustive:
        runs = _digit_runs(text)
    vins = (
        [(m.start(), m.end()) for m in _VIN.finditer(text) if _DIGIT.search(m.group())]
        if digits
        else []
    )
    found: list[PiiSpan] = []
    if exhaustive or "@" in text or _SPOKEN_AT.search(text):
        found += _emails(text)
    found += _cards(text, runs)
    # libphonenumber's matcher wants a possible number: 7 digits at least (US, local).
    found += _phones(text, runs, exhaustive or len(_DIGIT.findall(text)) >= 7)
    if exhaustive or (digits and _STREET_WORD.search(text)):
        found += _addresses(text)
    found += _names(text, names)
    chosen: list[PiiSpan] = []
    # Longer spans first, so a card is not also a phone; nothing inside a VIN.
    for span in sorted(found, key=lambda s: (-(s.end - s.start), s.start)):
        if any(span.start < e and s < span.end for s, e in vins):
            continue
        if any(span.start < c.end and c.start < span.end for c in chosen):
            continue
        chosen.append(span)
    return sorted(chosen)


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """`text` with each personal-data span replaced by its kind: `[phone]`, `[name]` …"""
    out, at = [], 0
    for span in find_pii(text, names=names):
        out.append(text[at : span.start])
        out.append(f"[{span.kind}]")
        at = span.end
    out.append(text[at:])
    return "".join(out)


def _emails(text: str) -> list[PiiSpan]:
    spans = [PiiSpan(m.start(), m.end(), "email", m.group()) for m in _EMAIL.finditer(text)]
    spans += [PiiSpan(m.start(), m.end(), "email", m.group()) for m in _SPOKEN_EMAIL.finditer(text)]
    return spans


def _digit_runs(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each run of digits, digit words ("five oh three"),
    "double"/"triple", and the punctuation people and recognisers put between them."""
    runs: list[tuple[int, int, str]] = []
    start = end = pending = -1
    digits, repeat = "", 1

    def close() -> None:
        if digits:
            runs.append((start, end, digits))

    for m in _TOKEN.finditer(text):
        tok, low = m.group(), m.group().lower()
        if tok.isdigit() or low in _DIGIT_WORDS:
            said = tok if tok.isdigit() else _DIGIT_WORDS[low]
            if low == "o" and not digits:  # a lone "o" starts nothing
                continue
            if not digits:
                start = pending if pending >= 0 else m.start()
            digits += said[0] * repeat + said[1:]
            repeat, end, pending = 1, m.end(), -1
        elif low in _REPEAT_WORDS:
            repeat = _REPEAT_WORDS[low]
            if not digits:  # "double five …" starts at "double"
                pending = m.start()
        elif tok in _RUN_GLUE and digits:
            continue
        else:
            close()
            digits, repeat, start, end, pending = "", 1, -1, -1, -1
    close()
    return runs


def _cards(text: str, runs: list[tuple[int, int, str]]) -> list[PiiSpan]:
    return [
        PiiSpan(s, e, "card", text[s:e])
        for s, e, digits in runs
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits)
    ]


def _phones(text: str, runs: list[tuple[int, int, str]], digits: bool) -> list[PiiSpan]:
    spans = (
        [
            PiiSpan(m.start, m.end, "phone", m.raw_string)
            for m in phonenumbers.PhoneNumberMatcher(
                text, "US", leniency=phonenumbers.Leniency.POSSIBLE
            )
        ]
        if digits
        else []
    )
    for s, e, run in runs:
        if 7 <= len(run) <= 12:
            spans.append(PiiSpan(s, e, "phone", text[s:e]))
    return spans


def _addresses(text: str) -> list[PiiSpan]:
    """A house number, street name words and a street type, as usaddress tags them."""
    try:
        tagged = usaddress.parse(text)
    except Exception:  # the parser refuses some inputs; they hold no address it can read
        return []
    spans: list[PiiSpan] = []
    at = 0
    positions: list[tuple[int, int, str, str]] = []
    for token, label in tagged:
        found = text.find(token, at)
        if found < 0:
            return spans
        positions.append((found, found + len(token), token, label))
        at = found + len(token)
    i = 0
    while i < len(positions):
        s, _, token, label = positions[i]
        if label == "AddressNumber" and token.isdigit():
            j = i + 1
            while j < len(positions) and positions[j][3] in (
                "StreetNamePreDirectional",
                "StreetNamePreType",
                "StreetName",
            ):
                j += 1
            is_type = j < len(positions) and positions[j][3] == "StreetNamePostType"
            if j > i + 1 and is_type and positions[j][2].lower().rstrip(".") in _STREET_TYPES:
                end = positions[j][1]
                k = j + 1
                while k < len(positions) and positions[k][3] in (
                    "OccupancyType",
                    "OccupancyIdentifier",
                ):
                    end = positions[k][1]
                    k += 1
                spans.append(PiiSpan(s, end, "address", text[s:end]))
                i = k
                continue
        i += 1
    return spans


def _names(text: str, known: Iterable[str]) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _NAME_GIVEN.finditer(text):
        words = m.group(1).split()
        kept = []
        for w in words:
            if w in _NOT_NAMES:
                break
            kept.append(w)
        if kept:
            end = m.start(1) + len(" ".join(kept))
            spans.append(PiiSpan(m.start(1), end, "name", text[m.start(1) : end]))
    for part in _name_parts(known):
        for m in re.finditer(rf"\b{re.escape(part)}\b", text, re.IGNORECASE):
            spans.append(PiiSpan(m.start(), m.end(), "name", m.group()))
    return spans


def _name_parts(names: Iterable[str]) -> Sequence[str]:
    parts = {p for name in names for p in re.split(r"[\s,]+", name or "") if len(p) >= 2}
    return sorted(parts - _NOT_NAMES, key=len, reverse=True)


def spoken_digits(text: str) -> str:
    """The digits in `text`, written or said ("five oh three" -> "503")."""
    return "".join(digits for _, _, digits in _digit_runs(text))
