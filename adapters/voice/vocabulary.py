"""The words a dealership caller uses that a general recogniser gets wrong.

Whisper takes them as its decoding prompt: the inventory's makes and models, and the
dealership's own words. The prompt is written as a sentence, the kind of text Whisper
was trained to continue: a bare list of names made tiny.en answer short or unclear
audio by reciting the list. Whisper reads at most 223 prompt tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from adapters.inventory import Inventory, Vehicle

DEALERSHIP_NAME = "CME Auto Sales"
DEALERSHIP_WORDS = (
    "a test drive",
    "financing",
    "a lease",
    "a trade-in",
    "the mileage",
    "a callback",
    "their VIN",
)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def makes_and_models(vehicles: Iterable[Vehicle]) -> list[str]:
    """'the Toyota Camry, Corolla and RAV4'-style groups, one per make, in a stable order."""
    models: dict[str, list[str]] = {}
    for v in vehicles:
        names = models.setdefault(v.make, [])
        if v.model not in names:
            names.append(v.model)
    return [f"the {make} {_and(sorted(names))}" for make, names in sorted(models.items())]


def dealership_prompt(inventory: Inventory | None = None) -> str:
    """The decoding prompt: the dealership's name, its cars and its words, as a sentence."""
    cars = makes_and_models(inventory if inventory is not None else Inventory.load())
    return (
        f"A caller asks {DEALERSHIP_NAME} about {'; '.join(cars)}, "
        f"or about {_and(list(DEALERSHIP_WORDS))}."
    )


# Whisper tiny.en sometimes answers short or unclear audio by reciting the prompt's frame
# ("CME Auto Sales," for a time it could not make out; "Yes, go ahead. I'm CME Auto
# Sales."). Callers say car names and the dealership's words themselves, so only the
# frame counts as an echo: the dealership's name, with how Whisper introduces it.
_ECHO = re.compile(
    rf"(?:\b(?:i'?m|i am|this is|at|from|with)\s+)?\b{re.escape(DEALERSHIP_NAME)}\b[\s,.!?]*"
    r"|\ba caller asks\b[\s,.]*",
    re.IGNORECASE,
)


def strip_prompt_echo(transcript: str) -> str:
    """The transcript without the decoding prompt's frame recited into it ("" if that
    was all of it)."""
    stripped = _ECHO.sub(" ", transcript)
    if stripped == transcript:
        return transcript
    stripped = " ".join(stripped.split()).strip(" ,")
    return stripped if any(c.isalnum() for c in stripped) else ""
