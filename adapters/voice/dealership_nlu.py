"""Rule-based understanding of what a dealership caller said.

Works on both cloud transcripts ("Any Toyota under $25,000?") and pocketsphinx
output ("any toyota under twenty five thousand"): every extractor first turns
number words and digit strings into integers. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# --- numbers -----------------------------------------------------------------------

_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_THOUSAND_SUFFIXES = frozenset({"k", "grand", "thousand"})

_TOKEN_RE = re.compile(r"\$|\d[\d,]*(?:\.\d+)?k?\b|[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Num:
    """A number the caller said, with whether it was marked as money."""

    value: int
    money: bool = False
    digits: str = ""  # as said, for phone numbers: "oh five" keeps its zero


Token = str | Num


def tokenize(text: str) -> list[Token]:
    """Lower-case tokens with spoken and written numbers folded into :class:`Num`."""
    text = re.sub(r"(\d{1,2}):(\d{2})", r"\1 \2", text.lower())
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text)
    text = re.sub(r"(\d)(am|pm)\b", r"\1 \2", text)
    raw = _TOKEN_RE.findall(text.replace("-", " "))
    out: list[Token] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok[0].isdigit():
            k = tok.endswith("k")
            digits = tok.rstrip("k").replace(",", "").split(".")[0]
            out.append(Num(int(digits) * (1000 if k else 1), money=k, digits=digits))
            i += 1
        elif tok in _UNITS or tok in _TEENS or tok in _TENS:
            num, i = _parse_number_words(raw, i)
            out.append(num)
        else:
            out.append(tok)
            i += 1
    return _mark_money(out)


def _parse_number_words(raw: Sequence[str], i: int) -> tuple[Num, int]:
    """Longest well-formed English number starting at ``raw[i]``.

    Digit-by-digit speech stays split ("five five five" is 5, 5, 5) because a unit
    may not follow a unit; that is what lets phone numbers and years be rebuilt.
    """
    total, current, last = 0, 0, ""
    while i < len(raw):
        w = raw[i]
        if w in _UNITS and last in ("", "tens", "hundred", "thousand"):
            current += _UNITS[w]
            last = "unit"
        elif w in _TEENS and last in ("", "hundred", "thousand"):
            current += _TEENS[w]
            last = "teen"
        elif w in _TENS and last in ("", "hundred", "thousand"):
            current += _TENS[w]
            last = "tens"
        elif w == "hundred" and last in ("unit", "teen") and current < 100:
            current *= 100
            last = "hundred"
        elif w == "thousand" and last in ("unit", "teen", "tens", "hundred"):
            total += current * 1000
            current = 0
            last = "thousand"
        elif w == "and" and last in ("hundred", "thousand") and _is_number_word(raw, i + 1):
            pass  # "two thousand and five"
        else:
            break
        i += 1
    value = total + current
    return Num(value, money=last == "thousand", digits=str(value)), i


def _is_number_word(raw: Sequence[str], i: int) -> bool:
    return i < len(raw) and (raw[i] in _UNITS or raw[i] in _TEENS or raw[i] in _TENS)


def _mark_money(tokens: list[Token]) -> list[Token]:
    """Fold "$", "dollars", "k", "grand", "thousand" into the adjacent number."""
    out: list[Token] = []
    money_next = False
    for tok in tokens:
        if tok == "$":
            money_next = True
            continue
        if isinstance(tok, Num):
            out.append(Num(tok.value, tok.money or money_next, tok.digits))
            money_next = False
            continue
        prev = out[-1] if out else None
        if isinstance(prev, Num) and tok in _THOUSAND_SUFFIXES and prev.value < 1000:
            out[-1] = Num(prev.value * 1000, True)
        elif isinstance(prev, Num) and tok in ("dollars", "dollar", "bucks"):
            out[-1] = Num(prev.value, True, prev.digits)
        else:
            out.append(tok)
    return out


def words(tokens: Sequence[Token]) -> list[str]:
    """Tokens as plain strings (numbers as digits), for phrase matching."""
    return [str(t.value) if isinstance(t, Num) else t for t in tokens]


def has_phrase(text: str, *phrases: str) -> bool:
    """Whole-word match of any phrase in lower-cased, punctuation-free text."""
    folded = " " + " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))) + " "
    return any(f" {p} " in folded for p in phrases)


# --- vehicles ------------------------------------------------------------------------

MAKES: dict[str, str] = {
    "toyota": "Toyota", "honda": "Honda", "ford": "Ford", "chevrolet": "Chevrolet",
    "chevy": "Chevrolet", "nissan": "Nissan", "hyundai": "Hyundai", "kia": "Kia",
    "subaru": "Subaru", "mazda": "Mazda", "volkswagen": "Volkswagen", "vw": "Volkswagen",
    "bmw": "BMW", "b m w": "BMW", "mercedes": "Mercedes-Benz", "mercedes benz": "Mercedes-Benz",
    "audi": "Audi", "lexus": "Lexus", "acura": "Acura", "jeep": "Jeep", "dodge": "Dodge",
    "ram": "Ram", "gmc": "GMC", "g m c": "GMC", "tesla": "Tesla", "buick": "Buick",
    "cadillac": "Cadillac", "chrysler": "Chrysler", "volvo": "Volvo", "lincoln": "Lincoln",
    "mitsubishi": "Mitsubishi", "infiniti": "Infiniti", "porsche": "Porsche",
}  # fmt: skip

# spoken and written aliases -> (make, canonical model); longest alias wins
MODELS: dict[str, tuple[str, str]] = {
    "civic": ("Honda", "Civic"), "accord": ("Honda", "Accord"), "pilot": ("Honda", "Pilot"),
    "odyssey": ("Honda", "Odyssey"), "crv": ("Honda", "CR-V"), "cr v": ("Honda", "CR-V"),
    "c r v": ("Honda", "CR-V"), "camry": ("Toyota", "Camry"), "corolla": ("Toyota", "Corolla"),
    "rav4": ("Toyota", "RAV4"), "rav 4": ("Toyota", "RAV4"), "rav four": ("Toyota", "RAV4"),
    "r a v four": ("Toyota", "RAV4"), "r a v 4": ("Toyota", "RAV4"),
    "tacoma": ("Toyota", "Tacoma"), "tundra": ("Toyota", "Tundra"),
    "highlander": ("Toyota", "Highlander"), "prius": ("Toyota", "Prius"),
    "f150": ("Ford", "F-150"), "f 150": ("Ford", "F-150"), "f one fifty": ("Ford", "F-150"),
    "mustang": ("Ford", "Mustang"), "explorer": ("Ford", "Explorer"),
    "escape": ("Ford", "Escape"), "bronco": ("Ford", "Bronco"),
    "silverado": ("Chevrolet", "Silverado"), "equinox": ("Chevrolet", "Equinox"),
    "malibu": ("Chevrolet", "Malibu"), "tahoe": ("Chevrolet", "Tahoe"),
    "bolt": ("Chevrolet", "Bolt"), "altima": ("Nissan", "Altima"), "sentra": ("Nissan", "Sentra"),
    "rogue": ("Nissan", "Rogue"), "frontier": ("Nissan", "Frontier"),
    "elantra": ("Hyundai", "Elantra"), "sonata": ("Hyundai", "Sonata"),
    "tucson": ("Hyundai", "Tucson"), "santa fe": ("Hyundai", "Santa Fe"),
    "ioniq": ("Hyundai", "Ioniq"), "forte": ("Kia", "Forte"), "sportage": ("Kia", "Sportage"),
    "telluride": ("Kia", "Telluride"), "sorento": ("Kia", "Sorento"), "soul": ("Kia", "Soul"),
    "outback": ("Subaru", "Outback"), "forester": ("Subaru", "Forester"),
    "crosstrek": ("Subaru", "Crosstrek"), "wrx": ("Subaru", "WRX"),
    "cx5": ("Mazda", "CX-5"), "cx 5": ("Mazda", "CX-5"), "c x five": ("Mazda", "CX-5"),
    "mazda3": ("Mazda", "Mazda3"), "mazda 3": ("Mazda", "Mazda3"),
    "mazda three": ("Mazda", "Mazda3"), "model 3": ("Tesla", "Model 3"),
    "model three": ("Tesla", "Model 3"), "model y": ("Tesla", "Model Y"),
    "model s": ("Tesla", "Model S"), "wrangler": ("Jeep", "Wrangler"),
    "grand cherokee": ("Jeep", "Grand Cherokee"), "cherokee": ("Jeep", "Cherokee"),
    "jetta": ("Volkswagen", "Jetta"), "charger": ("Dodge", "Charger"),
    "x3": ("BMW", "X3"), "x5": ("BMW", "X5"), "330i": ("BMW", "330i"), "ev6": ("Kia", "EV6"),
    "ioniq 5": ("Hyundai", "Ioniq 5"), "mach e": ("Ford", "Mustang Mach-E"),
}  # fmt: skip

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def spoken_forms(name: str) -> set[str]:
    """How a recogniser may write a model name: "CX-5" as "cx 5", "cx5", "c x five"...

    Letters and digits part ("rav4" is "rav 4"); a digit may come as its word; a short
    run of letters may be spelled out ("cx" as "c x").
    """
    parts = re.findall(r"[a-z]+|\d+", name.lower())
    choices: list[set[str]] = []
    for part in parts:
        forms = {part}
        if part.isdigit():
            forms.add(" ".join(_DIGIT_WORDS[int(d)] for d in part))
        elif len(part) <= 3:
            forms.add(" ".join(part))
        choices.append(forms)
    out = {""}
    for i, forms in enumerate(choices):
        out = {
            f"{o}{glue}{f}".strip()
            for o in out
            for f in forms
            # written glued only letters to digits: "cx5", "rav4", "330i"
            for glue in ((" ", "") if i and (f.isdigit() or o[-1:].isdigit()) else (" ",))
        }
    return {o for o in out if o}


# every alias in every spoken form ("cx five", "ev 6", "mazda3"); the hand-written ones win
MODELS = {
    **{form: car for alias, car in MODELS.items() for form in spoken_forms(alias)},
    **{form: car for car in set(MODELS.values()) for form in spoken_forms(car[1])},
    **MODELS,
}


def _fold_text(text: str) -> str:
    # money first, so "$25,000" survives folding as "25000 dollars"
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())
    text = re.sub(r"\$\s?(\d+(?:\.\d+)?k?)", r"\1 dollars", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.replace("'", "")))


@dataclass(frozen=True)
class VehicleQuery:
    """Search filters heard in one utterance; None means not mentioned."""

    make: str | None = None
    model: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    year: int | None = None

    def is_empty(self) -> bool:
        return self == VehicleQuery()

    def as_arguments(self) -> dict[str, str | int]:
        """Tool arguments: only the filters the caller gave."""
        fields = {
            "make": self.make,
            "model": self.model,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "year": self.year,
        }
        return {k: v for k, v in fields.items() if v is not None}


def _alias_pattern(alias: str) -> re.Pattern[str]:
    # a plural counts: "any foresters", "two mustangs", "the tacomas"
    return re.compile(rf"(?<!\S){re.escape(alias)}(?:s|es)?(?!\S)")


def _find_alias(
    folded: str, table: dict[str, tuple[str, str]] | dict[str, str]
) -> tuple[str, re.Match[str]] | None:
    """The longest alias of `table` said in `folded` (singular or plural), and where."""
    for alias in sorted(table, key=lambda a: (-len(a), a)):
        if alias in folded and (found := _alias_pattern(alias).search(folded)):
            return alias, found
    return None


_CAP_CUES = (
    "under", "below", "less than", "up to", "max", "maximum", "at most", "no more than",
    "not more than", "no higher than", "not over", "cheaper than", "within",
    "budget is", "budget of", "at the most", "tops out at",
)  # fmt: skip
# an amount after these is a budget too, unless a cap is said outright as well
_MAX_CUES = (*_CAP_CUES, "around", "about", "for")
_MIN_CUES = ("over", "above", "more than", "at least", "minimum", "starting at", "from")
# said after the amount: "twenty thousand or less", "30k max", "forty grand tops"
_MAX_AFTER = ("or less", "or under", "or below", "or cheaper", "max", "maximum", "tops")


def _cue(before: str, cues: Sequence[str]) -> int:
    """The length of the longest cue `before` ends with (0: none)."""
    return max((len(c) for c in cues if f" {before}".endswith(f" {c}")), default=0)


def parse_vehicle_query(text: str) -> VehicleQuery:
    """Make, model, price range and model year from a caller's request."""
    folded = _fold_text(text)
    make = model = None
    if said := _find_alias(folded, MODELS):
        make, model = MODELS[said[0]]
        at = said[1]
        folded = f"{folded[: at.start()]} {folded[at.end() :]}".strip()  # "f 150": no price
    if said := _find_alias(folded, MAKES):
        make = MAKES[said[0]]
    tokens = _combine_years(tokenize(folded))
    min_price, max_price = _prices(tokens)
    years = [t.value for t in tokens if isinstance(t, _Year)]
    return VehicleQuery(make, model, min_price, max_price, years[0] if years else None)


@dataclass(frozen=True)
class _Year(Num):
    pass


def _combine_years(tokens: list[Token]) -> list[Token]:
    """Turn "twenty twenty two" (20, 22) and bare 2019-style numbers into years."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if (
            isinstance(tok, Num)
            and isinstance(nxt, Num)
            and tok.value in (19, 20)
            and not tok.money
            and not nxt.money
            and 10 <= nxt.value <= 99
        ):
            out.append(_Year(tok.value * 100 + nxt.value))
            i += 2
            continue
        if isinstance(tok, Num) and not tok.money and 1980 <= tok.value <= 2035:
            out.append(_Year(tok.value))
        else:
            out.append(tok)
        i += 1
    return out


_MAX_CAR_PRICE = 1_000_000  # above this a bare number is a phone number, not a price


def _is_price(tok: Token, cued: bool) -> bool:
    """Money-marked numbers, or big bare numbers right after a price cue."""
    if not isinstance(tok, Num) or isinstance(tok, _Year) or tok.value > _MAX_CAR_PRICE:
        return False
    return tok.money or (cued and tok.value >= 1000)


def _prices(tokens: Sequence[Token]) -> tuple[int | None, int | None]:
    ws = words(tokens)
    for i, w in enumerate(ws[:-3]):
        a, link, b = tokens[i + 1], ws[i + 2], tokens[i + 3]
        if w == "between" and link in ("and", "to") and isinstance(a, Num) and _is_price(b, True):
            assert isinstance(b, Num)
            # "between fifteen and twenty thousand": the first number borrows the unit
            low = a.value * 1000 if a.value < 1000 <= b.value and b.money else a.value
            return min(low, b.value), max(low, b.value)
    lo: int | None = None
    hi: int | None = None
    hi_said_as_cap = False
    for i, tok in enumerate(tokens):
        before = " ".join(ws[max(0, i - 3) : i])
        after = " ".join(ws[i + 1 : i + 3])
        # the longer cue wins: "no more than" is a cap, "more than" a floor
        at_least, at_most = _cue(before, _MIN_CUES), _cue(before, _MAX_CUES)
        capped_after = any(f"{after} ".startswith(f"{c} ") for c in _MAX_AFTER)
        is_min = at_least > at_most and not capped_after
        is_max = not is_min and bool(at_most or capped_after)
        if not _is_price(tok, is_min or is_max):
            continue
        assert isinstance(tok, Num)
        as_cap = capped_after or _cue(before, _CAP_CUES) > 0
        if is_min:
            lo = tok.value
        elif hi is None or (as_cap and not hi_said_as_cap):
            # "under 25k", or "$20,000" said as a budget; a cap said outright wins over
            # an amount after "for" ("a civic, 9k for, under 18,000")
            hi, hi_said_as_cap = tok.value, as_cap
    return lo, hi


# --- VINs (the rules for the characters themselves are adapters.vin's) ----------------


def mentions_vin(text: str) -> bool:
    return has_phrase(text, "vin", "v i n", "vin number", "vehicle identification number")
