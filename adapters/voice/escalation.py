"""A caller asking for a person rather than the AI ("can I talk to someone", "a human
please", "get me a real person"), told apart from other uses of the words ("a personal
loan", "the person who sold me the car")."""

from __future__ import annotations

import re

_PERSON = (
    r"(?:a |an |some |the )?(?:real |live |actual )?"
    r"(?:person|human(?: being)?|someone|somebody|agent|representative|rep|operator"
    r"|salesperson|sales person|manager)"
)
_ASK = re.compile(
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+" + _PERSON + r"\b"
    r"|\b(?:get|give|put|transfer|connect)\s+me\s+(?:to\s+|through\s+to\s+|with\s+)?"
    + _PERSON
    + r"\b"
    r"|\b(?:real|live|actual)\s+(?:person|human)\b"
    r"|\bhuman,?\s+please\b|\b(?:a )?person,?\s+please\b"
    r"|\b(?:want|need)\s+(?:a |an )?(?:human|person|representative|operator)\b",
    re.IGNORECASE,
)
#: the agent's own words for it, said while a supervisor is found
HOLD_MESSAGE = (
    "Of course. I'm getting a colleague for you now; please stay on the line. "
    "Meanwhile I'm still here if I can help."
)
CALLBACK_OFFER = (
    "I'm sorry, everyone is busy right now. Can I have someone call you back? "
    "What's your name and number?"
)


def asks_for_a_person(text: str) -> bool:
    return bool(_ASK.search(text))
