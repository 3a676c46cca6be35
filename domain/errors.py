"""Errors the domain raises when a command breaks one of its rules."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "reason": self.message}


class InvalidCommand(DomainError):
    """A command's own fields are wrong (empty text, confidence out of range...)."""

    code = "invalid_command"


class InvalidTransition(DomainError):
    """The command does not fit the conversation's current state."""

    code = "invalid_transition"


class CallAlreadyEnded(InvalidTransition):
    """Only late facts (recording results, departures) may follow the end of a call."""

    code = "call_already_ended"


class RoomUnavailable(InvalidTransition):
    """A call was already requested in this room: a new caller may not join it by name."""

    code = "room_unavailable"
