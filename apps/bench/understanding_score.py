"""Word error rate for `callcenter bench understanding`, and where the errors fall.

References are written as callers say them ("twenty five thousand", "w b a five"). Whisper
writes numbers as digits ("$25,000", "555-0147", "2023") and pocketsphinx writes words, so
both sides are brought to spoken words before jiwer aligns them: a year-like number is
said as a year, a money amount or a round number as a cardinal, anything else digit by
digit (phone numbers, VIN groups).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import jiwer

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_DIGIT_WORDS = frozenset(_ONES[:10]) | {"oh"}


def _under_thousand(n: int) -> list[str]:
    out: list[str] = []
    if n >= 100:
        out += [_ONES[n // 100], "hundred"]
        n %= 100
        if n == 0:
            return out
    if n < 20:
        return out + [_ONES[n]]
    return out + [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])


def cardinal(n: int) -> list[str]:
    """0 <= n < 10**9 in words, without "and"."""
    if n == 0:
        return ["zero"]
    out: list[str] = []
    for scale, word in ((10**6, "million"), (1000, "thousand")):
        if n >= scale:
            out += _under_thousand(n // scale) + [word]
            n %= scale
    return out + (_under_thousand(n) if n else [])


def year(n: int) -> list[str]:
    """2023 as "twenty twenty three", 2008 as "two thousand eight"."""
    high, low = divmod(n, 100)
    if 2000 <= n < 2010:
        return cardinal(n)
    return _under_thousand(high) + (["hundred"] if low == 0 else _under_thousand(low))


def _number_words(token: str, money: bool) -> list[str]:
    digits = token.replace(",", "")
    n = int(digits)
    if money or "," in token or (len(digits) >= 3 and digits.endswith("00") and n):
        return cardinal(n)
    if len(digits) == 4 and 1990 <= n <= 2039:
        return year(n)
    if len(digits) <= 2 and not digits.startswith("0"):
        return cardinal(n)
    return [_ONES[int(d)] for d in digits]


_CONTRACTIONS = jiwer.ExpandCommonEnglishContractions()
_TOKEN = re.compile(r"\$?\d[\d,]*(?:\.\d+)?k?|[a-z]+(?:'[a-z]+)*")


def spoken_words(text: str) -> list[str]:
    """Lower-case words with numbers as said and contractions expanded ("I'm" is "i am");
    hyphens, dots and other marks split words."""
    text = _CONTRACTIONS(text.lower().replace("’", "'"))
    text = text.replace("-", " ").replace("%", " percent")
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if not token[0].isdigit() and token[0] != "$":
            # "CR-V", "BMW": letters said one by one, however a recogniser glues them
            spelled = 2 <= len(token) <= 4 and not set(token) & set("aeiouy'")
            out += list(token) if spelled else [token]
            continue
        money = token.startswith("$")
        token = token.lstrip("$")
        thousands = token.endswith("k")
        token = token.rstrip("k").split(".")[0]
        if not token.replace(",", "").isdigit():
            continue
        out += _number_words(token, money)
        if thousands:
            out.append("thousand")
    return out


def normalise(text: str) -> str:
    return " ".join(spoken_words(text))


@dataclass
class ErrorTally:
    """Word errors summed over utterances, and which reference words were missed."""

    errors: int = 0
    words: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    missed: Counter[str] = field(default_factory=Counter)

    @property
    def wer(self) -> float:
        return self.errors / self.words if self.words else float("nan")

    def add(self, reference: str, hypothesis: str) -> None:
        ref, hyp = normalise(reference), normalise(hypothesis)
        if not ref:
            return
        # jiwer needs a word on each side: a placeholder costs what deleting them all does
        out = jiwer.process_words(ref, hyp or "<nothing>")
        self.substitutions += out.substitutions
        self.deletions += out.deletions
        self.insertions += out.insertions
        self.errors += out.substitutions + out.deletions + out.insertions
        ref_words = ref.split()
        self.words += len(ref_words)
        for chunk in out.alignments[0]:
            if chunk.type in ("substitute", "delete"):
                self.missed.update(ref_words[chunk.ref_start_idx : chunk.ref_end_idx])


# what kind of word a caller's word is, for saying where the errors come from
_NUMBER_WORDS = frozenset(_ONES) | frozenset(_TENS[2:]) | {"hundred", "thousand", "oh"}


def word_class(word: str, makes_and_models: Iterable[str]) -> str:
    if word in _NUMBER_WORDS:
        return "numbers"
    if len(word) == 1 and word not in ("a", "i"):
        return "spelled letters"
    if word in set(makes_and_models):
        return "makes and models"
    return "other words"


def missed_by_class(missed: Counter[str], vocabulary: Sequence[str]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for word, n in missed.items():
        out[word_class(word, vocabulary)] += n
    return dict(out.most_common())
