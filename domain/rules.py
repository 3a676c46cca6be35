"""Field rules shared by the conversation's commands."""

from __future__ import annotations

from domain.errors import InvalidCommand

SPEAKERS = frozenset({"customer", "assistant", "supervisor"})
PARTICIPANT_KINDS = frozenset({"customer", "agent", "supervisor", "other"})
USER_STATES = frozenset({"speaking", "listening", "away"})
AGENT_STATES = frozenset({"initializing", "idle", "listening", "thinking", "speaking"})
RECORDING_MODES = frozenset({"egress", "agent"})
MAX_TEXT = 10_000
MAX_NAME = 200


def text(value: str, what: str, *, limit: int = MAX_NAME, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(f"{what} must be a string")
    if not allow_empty and not value.strip():
        raise InvalidCommand(f"{what} must not be empty")
    if len(value) > limit:
        raise InvalidCommand(f"{what} is longer than {limit} characters")
    if "\x00" in value:  # PostgreSQL text and jsonb cannot hold it: the read side would fail
        raise InvalidCommand(f"{what} must not contain NUL characters")
    return value


def one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidCommand(f"{what} must be one of {', '.join(allowed)}")
    return value


def non_negative(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidCommand(f"{what} must be a number")
    if value < 0:
        raise InvalidCommand(f"{what} must not be negative")
    return float(value)


def confidence(value: float | None) -> float | None:
    value = non_negative(value, "confidence")
    if value is not None and value > 1:
        raise InvalidCommand("confidence must be within 0..1")
    return value


def phone(value: str) -> None:
    text(value, "phone number", limit=32)
    digits = [c for c in value if c.isdigit()]
    if len(digits) < 7 or any(not (c.isdigit() or c in "+-() .") for c in value):
        raise InvalidCommand("phone number must have at least 7 digits and only + - ( ) . spaces")
