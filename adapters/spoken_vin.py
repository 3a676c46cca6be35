"""VINs read aloud over a phone line: what was heard, how to read it back, what was meant.

A caller on the lot reads 17 characters; speech-to-text writes letters as letters, names
("bee"), sound-alikes ("are", "won"), spelling words ("bravo", "B as in boy") or noise.
This module turns one utterance into the VIN characters it holds (`hear`), writes a VIN
back in groups a text-to-speech voice reads clearly (`say_vin`), and finds the cars in
stock a misheard VIN was probably meant to be (`near_misses`): a few typical confusions,
or a character missed or doubled, and always a valid check digit. The character rules
themselves (`normalise_vin`, the check digit) are `adapters.vin`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.vin import (
    _GLUE,
    _LETTER_NAMES,
    _NATO,
    _NUMBER_WORDS,
    FORBIDDEN_LETTERS,
    VIN_LENGTH,
    VinNormaliser,
    check_digit_ok,
    normalise_vin,
)

# --- hearing ------------------------------------------------------------------------------

# Said on their own these are VIN characters, whatever the neighbours.
_STRICT_WORDS: dict[str, str] = {
    **{w: c for w, c in _NATO.items() if c not in FORBIDDEN_LETTERS},
    **_NUMBER_WORDS,
    **{w: c for w, c in _LETTER_NAMES.items() if w not in ("see", "you", "are", "why", "el")},
    "aitch": "H", "dee": "D", "tee": "T", "vee": "V", "ay": "A", "ess": "S", "eff": "F",
}  # fmt: skip

# Sound-alikes that are common words too: VIN characters only beside another character.
_WEAK_WORDS: dict[str, str] = {
    "see": "C", "sea": "C", "you": "U", "are": "R", "our": "R", "why": "Y", "el": "L",
    "be": "B", "tea": "T", "pea": "P", "won": "1", "to": "2", "too": "2", "for": "4",
    "ate": "8", "fore": "4", "and": "N", "an": "N", "hey": "A", "eh": "A",
}  # fmt: skip

_REPEATS = ("double", "triple")
_DOUBLE_U = re.compile(r"\bdouble\s+u\b")

# "B as in boy", "b for bravo", "B like bravo": the word says which letter was meant.
_SPELLED = re.compile(r"\b([a-z0-9])\s+(as\s+in|for|like)\s+([a-z]{2,})\b")

# Words a caller says around the characters without it being noise.
_FILLERS = frozenset(
    "my the vin v i n is it's its it that's thats number numbers and then next ok okay so uh "
    "um er ah hmm as in like letter digit capital dash space comma yes yeah right sorry "
    "continuing after rest last part group wait let me see a of more".split()
)

# All-capital tokens a recogniser writes for spelled letters ("WBA"), minus real words
# (Whisper also capitalises whole words: "VIN, PLEASE").
_CAPS_WORDS = frozenset(
    "OK BMW VIN SUV AM PM GMC USA TV ID PLEASE HERE THANKS THANK HELLO HEY CHECK LOOK CAN "
    "YOU UP THIS WHAT NEED HAVE CAR".split()
) | frozenset(w.upper() for w in _FILLERS if len(w) > 1)

_TOKEN = re.compile(r"[A-Za-z0-9']+")

# How many non-VIN words inside the read-out make it too garbled to trust.
_MAX_NOISE_WORDS = 2


@dataclass(frozen=True)
class Heard:
    """The VIN characters in one utterance and how much else was mixed in with them."""

    chars: str
    noise: int  # unexplained words between the first and the last character
    longest_run: int  # characters in the longest stretch with no unexplained word in it
    spelled: int  # characters said one by one ("w", "bravo", "five"), not written as words
    spelled_letters: int  # letters among them, bar "a" (a phone number or a price has none)
    # the characters if sound-alikes beside written groups count too ("00 and N4": 00NN4);
    # whether "and" was an N or a pause, only the check digit can tell
    alternative: str = ""

    @property
    def garbled(self) -> bool:
        return self.noise > _MAX_NOISE_WORDS and self.noise * 3 > len(self.chars)

    @property
    def looks_like_a_vin(self) -> bool:
        """Someone reading a VIN, unasked: most of one in a stretch, or many characters
        spelled one by one, letters among them (a car's name or a price is neither)."""
        return (
            self.longest_run >= 12
            and self.spelled_letters + _letters(self.chars) >= 2
            or (self.spelled >= 10 and self.spelled_letters >= 3)
        )


def _letters(chars: str) -> int:
    return sum(c.isalpha() for c in chars)


def _spelling(match: re.Match[str]) -> str:
    said, link, word = match.group(1), match.group(2), match.group(3)
    if word in _NUMBER_WORDS and link != "for":  # "5 as in five"
        return f" {word} "
    if word in _NUMBER_WORDS or word in _WEAK_WORDS:  # "c for five": the digit four, then five
        return match.group(0)
    letter = _NATO.get(word, word[0].upper())
    return f" {letter.lower() if letter not in FORBIDDEN_LETTERS else said} "


def _compact(token: str) -> str | None:
    """A written run of VIN characters ("5R1", "1HGCM82633A004352", "WBA"), or None.

    O, I and Q never occur in a VIN: written inside such a run they are 0, 1 and 0.
    """
    if token.isdigit():
        return token
    if any(c.isdigit() for c in token) and token.isalnum():
        return token.upper().translate(str.maketrans("OIQ", "010"))
    if token.isupper() and 2 <= len(token) <= VIN_LENGTH and token not in _CAPS_WORDS:
        return token.translate(str.maketrans("OIQ", "010"))
    return None


def _spelled(token: str) -> str | None:
    """The canonical form of a token that is one VIN character on its own, else None."""
    if len(token) == 1 and token.isalnum():
        if token in ("i", "q", "a"):
            return None  # "I" is the pronoun, "a" the article (weak: see _WEAK_WORDS)
        return "0" if token == "o" else token
    if token in _STRICT_WORDS or token in _REPEATS:
        return token
    return None


def hear(text: str, normaliser: VinNormaliser = normalise_vin) -> Heard:
    """The VIN characters said in `text`, in order, with the words that were not."""
    folded = text.replace("-", " ").lower()
    for pattern, replacement in _GLUE:  # "x ray", "double you": one character each
        folded = pattern.sub(replacement, folded)
    # Whisper writes the letter's name as "Double U": a W (VINs start WBA, WDD, WVW...)
    folded = _DOUBLE_U.sub("w", folded)
    folded = _SPELLED.sub(_spelling, folded)
    raws = _TOKEN.findall(_SPELLED.sub(_spelling, text.replace("-", " ")))
    tokens = _TOKEN.findall(folded)
    if len(raws) != len(tokens):  # a spelling was rewritten: casing no longer lines up
        raws = tokens
    spelled = [_spelled(t) for t in tokens]
    kinds = [k or _compact(r) for k, r in zip(spelled, raws, strict=True)]
    written = list(kinds)  # kinds, and sound-alikes beside written groups as well
    for i, token in enumerate(tokens):  # sound-alikes count beside a spelled character
        weak = "A" if token == "a" else _WEAK_WORDS.get(token)
        if kinds[i] is None and weak is not None:
            beside = [spelled[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
            if any(k is not None and k not in _REPEATS for k in beside):
                kinds[i] = spelled[i] = written[i] = weak
            elif all(0 <= j < len(tokens) and written[j] for j in (i - 1, i + 1)):
                written[i] = weak
    if not any(kinds):
        return Heard("", 0, 0, 0, 0)
    runs: list[list[str]] = [[]]  # stretches of characters, split by unexplained words
    noise = unexplained = 0  # unexplained words between characters; since the last one
    for kind, token in zip(kinds, tokens, strict=True):
        if kind is not None:
            noise += unexplained
            unexplained = 0
            runs[-1].append(kind)
        elif token not in _FILLERS and runs[0]:
            unexplained += 1
            if runs[-1]:
                runs.append([])
    if not runs[-1]:
        runs.pop()

    def chars_of(said: list[str]) -> str:
        return "".join(c for c in normaliser(" ".join(said)).upper() if c.isalnum())

    one_by_one = chars_of([k for k in spelled if k is not None])
    chars = chars_of([k for run in runs for k in run])
    first = next(i for i, k in enumerate(kinds) if k is not None)
    last = max(i for i, k in enumerate(kinds) if k is not None)
    alternative = chars_of([k for k in written[first : last + 1] if k is not None])
    return Heard(
        chars=chars,
        noise=noise,
        longest_run=max(len(chars_of(run)) for run in runs),
        spelled=len(one_by_one),
        spelled_letters=_letters(one_by_one.replace("A", "")),
        alternative=alternative if alternative != chars else "",
    )


_START_OVER = re.compile(
    r"\b(?:start(?:ing)? (?:over|again)|from the (?:top|beginning|start)|scratch that|"
    r"let me (?:start|try) again|reset)\b"
)
_DONE = re.compile(r"\b(?:that'?s (?:it|all|everything|the whole thing)|that is (?:it|all))\b")


def after_start_over(text: str) -> str | None:
    """What the caller said after asking to start over, or None if they did not ask."""
    matches = list(_START_OVER.finditer(text.lower()))
    return text[matches[-1].end() :] if matches else None


def says_done(text: str) -> bool:
    """ "That's it", "that's all": the caller has read every character they mean to."""
    return bool(_DONE.search(text.lower().replace("’", "'")))


# --- reading back ---------------------------------------------------------------------------

GROUPS = (3, 3, 3, 3, 5)  # W B A, 5 R 1, C 0 0, T F 7, 3 4 0 9 7: the serial stays whole


def groups(vin: str) -> list[str]:
    """The characters in read-back groups (a partial VIN in threes)."""
    sizes = GROUPS if len(vin) == VIN_LENGTH else (3,) * (len(vin) // 3 + 1)
    out, at = [], 0
    for size in sizes:
        if at < len(vin):
            out.append(vin[at : at + size])
        at += size
    return out


def say_vin(vin: str) -> str:
    """'W B A, 5 R 1, C 0 0, T F 7, 3 4 0 9 7': spaced so a voice spells it.

    espeak-ng (and Piper, which phonemises with it) reads a lone "A" followed by another
    character as the article; a comma after it keeps the letter's name.
    """
    spoken = []
    for group in groups(vin.upper()):
        chars = list(group)
        for i in range(len(chars) - 1):
            if chars[i] == "A":
                chars[i] = "A,"
        spoken.append(" ".join(chars))
    return ", ".join(spoken)


# --- what was meant ------------------------------------------------------------------------

# Characters a recogniser (or a bad line) swaps for one another.
_CONFUSABLE_SETS = ("BCDEGPTVZ3", "MN", "A8HJK", "SFX5", "2U", "59")
_CONFUSABLE = frozenset(
    (a, b) for group in _CONFUSABLE_SETS for a in group for b in group if a != b
)
_COST_CONFUSED = 0.4
_COST_OTHER = 1.0
_COST_MISSED = 0.6  # a character the recogniser dropped
_COST_EXTRA = 0.6  # a character it invented
_COST_DOUBLED = 0.3  # the same character written twice
MAX_NEAR_MISS_COST = 1.2


def _substitution(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return _COST_CONFUSED if (a, b) in _CONFUSABLE else _COST_OTHER


def mishearing_cost(heard: str, vin: str) -> float:
    """How far `heard` is from `vin` if it was misheard: confusable swaps cost little."""
    n, m = len(heard), len(vin)
    row = [j * _COST_MISSED for j in range(m + 1)]
    for i in range(1, n + 1):
        prev, row[0] = row[0], i * _COST_EXTRA
        for j in range(1, m + 1):
            extra = _COST_DOUBLED if i > 1 and heard[i - 1] == heard[i - 2] else _COST_EXTRA
            prev, row[j] = (
                row[j],
                min(
                    prev + _substitution(heard[i - 1], vin[j - 1]),
                    row[j] + extra,
                    row[j - 1] + _COST_MISSED,
                ),
            )
    return row[m]


@dataclass(frozen=True)
class NearMiss:
    vin: str
    cost: float


def near_misses(
    heard: str, known_vins: Iterable[str], max_cost: float = MAX_NEAR_MISS_COST
) -> list[NearMiss]:
    """VINs in `known_vins` with a valid check digit that `heard` may have been, closest first.

    The VIN as heard itself is not one of them: these are what to ask about.
    """
    heard = heard.upper()
    if abs(len(heard) - VIN_LENGTH) > 2:
        return []
    found = []
    for vin in known_vins:
        if vin == heard or not check_digit_ok(vin):
            continue
        cost = mishearing_cost(heard, vin)
        if cost <= max_cost + 1e-9:  # three confusions at 0.4 each are 1.2000000000000002
            found.append(NearMiss(vin, round(cost, 2)))
    return sorted(found, key=lambda near: (near.cost, near.vin))
