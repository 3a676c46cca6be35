"""A caller's name, phone number and preferred time, as any recogniser writes them.

Whisper writes the same spoken digits as "312-555-0147", "3, 1, 2, 5, ...", "31255, 501"
or "6.1. 755"; times as "10 a.m.", "10 AM", "10am", "ten in the morning" or, for a
clipped "a m", "10M". pocketsphinx writes words ("three one two", "ten a m"). Every
extractor reads them all. Pure functions, no I/O.
"""

from __future__ import annotations

import re

from .dealership_nlu import Num, tokenize, words

_NAME_STOP = frozenset(
    "and i my is calling looking here the a an to from about with please at on "
    "interested wondering just not sure".split()
)


def extract_name(text: str) -> str | None:
    """Caller's name from "my name is ...", "my name's ..." or a leading "this is ..."."""
    m = re.search(
        r"(?:\bmy name is|\bmy name's|\bname is|^(?:hi |hello |hey )?this is)"
        r"\s+([a-z][a-z'\-]*)(?:\s+([a-z][a-z'\-]*))?",
        text.lower().strip(),
    )
    if not m or m.group(1) in _NAME_STOP:
        return None
    parts = [m.group(1)]
    if m.group(2) and m.group(2) not in _NAME_STOP:
        parts.append(m.group(2))
    return " ".join(p.capitalize() for p in parts)


# Between digits, a dot or comma is how Whisper writes a pause, not a decimal point.
_DIGIT_PAUSE = re.compile(r"(?<=\d)[.,](?=\s*\d)")
_REPEATS = {"double": 2, "triple": 3}


# Sound-alikes Whisper writes for a digit ("41, fine, fine, fine, 386"): digits only
# between digits.
_DIGIT_SOUNDS = {"fine": "5", "won": "1", "to": "2", "too": "2", "for": "4", "free": "3",
                 "tree": "3", "ate": "8"}  # fmt: skip


def _digit_sounds(text: str) -> str:
    """`text` with the digit sound-alikes that stand between digits written as digits."""
    tokens = re.findall(r"[a-z]+|\d+|[^a-z\d\s]+", text)
    said = [i for i, t in enumerate(tokens) if t.isalnum() and t not in _DIGIT_SOUNDS]
    for i, tok in enumerate(tokens):
        if tok in _DIGIT_SOUNDS:
            left = [tokens[j] for j in said if j < i][-1:]
            right = [tokens[j] for j in said if j > i][:1]
            if left and right and left[0].isdigit() and right[0].isdigit():
                tokens[i] = _DIGIT_SOUNDS[tok]
    return " ".join(tokens)


def extract_phone(text: str) -> str | None:
    """Digits of a 7-11 digit phone number said digit by digit or typed."""
    folded = _DIGIT_PAUSE.sub(" ", text.lower())
    folded = re.sub(r"\b(?:o|oh)\b", " zero ", folded)  # "five oh three"
    folded = _digit_sounds(re.sub(r"(?<=\d)-(?=\d)", " ", folded))
    best = ""
    run = ""
    repeat = 1
    for tok in tokenize(folded):
        if isinstance(tok, Num) and not tok.money and (tok.digits or tok.value == 0):
            said = tok.digits or str(tok.value)
            run += said[0] * repeat + said[1:]  # "double five" is 55
            repeat = 1
            continue
        if tok in _REPEATS:
            repeat = _REPEATS[tok]
            continue
        repeat = 1
        if 7 <= len(run) <= 11 and len(run) > len(best):
            best = run
        run = ""
    if 7 <= len(run) <= 11 and len(run) > len(best):
        best = run
    return best or None


def phone_complete(digits: str) -> bool:
    """A whole North American number: 10 digits (11 with the leading 1), or 7 local ones.

    Whisper often writes "five five five" as "55": a number a digit short is asked for
    again, never booked.
    """
    return len(digits) in (7, 10) or (len(digits) == 11 and digits.startswith("1"))


_DAYS = (
    "today", "tonight", "tomorrow", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "weekend", "next week",
)  # fmt: skip
_PARTS = ("morning", "afternoon", "evening", "noon", "lunchtime")
# words that put a bare hour on the clock: "at 3", "around four", "by 10"
_CLOCK_CUES = ("at", "around", "about", "by", "for")
_AM = ("a m", "am", "in the morning", "o clock in the morning")
_PM = ("p m", "pm", "in the afternoon", "in the evening", "at night", "tonight")


def _time_text(text: str) -> str:
    text = text.lower().replace("o'clock", "o clock")
    # "10M": Whisper's clipped "ten a m" (a "p" it keeps)
    return re.sub(r"\b(1[0-2]|[1-9])\s?m\b", r"\1 am", text)


def _clock(tokens: list[object], ws: list[str], i: int) -> str | None:
    """The time starting at the hour `tokens[i]`, if it is one: "10", "10:30", "2 pm"."""
    hour = tokens[i]
    if not isinstance(hour, Num) or not 1 <= hour.value <= 12 or hour.money:
        return None
    if all(isinstance(t, Num) for t in tokens[i + 1 : i + 3]) and i + 2 < len(tokens):
        return None  # "at 5 5 5 1 2 ...": a phone number's digits
    clock = str(hour.value)
    rest = ws[i + 1 : i + 6]
    minute = tokens[i + 1] if i + 1 < len(tokens) else None
    if isinstance(minute, Num) and 0 <= minute.value < 60 and not minute.money:
        clock += f":{minute.value:02d}"
        rest = ws[i + 2 : i + 7]
    tail = " ".join(rest)
    if tail.startswith(_AM):
        return clock + " am"
    if tail.startswith(_PM):
        return clock + " pm"
    cued = i > 0 and ws[i - 1] in _CLOCK_CUES
    return clock if cued or tail.startswith("o clock") else None


def extract_time(text: str) -> str | None:
    """A preferred time like "tomorrow at 10 am" or "saturday morning"."""
    said = tokenize(_time_text(text))
    tokens: list[object] = list(said)
    ws = words(said)
    joined = f" {' '.join(ws)} "
    day = next((d for d in _DAYS if f" {d} " in joined), None)
    clock = next((c for i in range(len(tokens)) if (c := _clock(tokens, ws, i))), None)
    parts = ["this weekend" if day == "weekend" else day] if day else []
    if clock:
        parts.append(f"at {clock}")
    elif part := next((p for p in _PARTS if p in ws), None):
        parts.append("at noon" if part == "noon" else part)
    return " ".join(parts) if parts else None
