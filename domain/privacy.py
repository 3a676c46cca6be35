"""Which fields of the conversation's events hold personal data, and what stands in for
them once they can no longer be read.

The event store encrypts exactly these fields with the conversation's data key
(`adapters/sealing.py`); erasing a conversation deletes the key, after which each field
reads as `ERASED` (text) or `ERASED_MAPPING` (a mapping). Adding a field here encrypts it
in every event written from then on; events already written keep what they have.
"""

from __future__ import annotations

from typing import Any

from domain import events as ev

#: The personal-data fields of each event class (VINs and inventory data are not).
PERSONAL_FIELDS: dict[type, tuple[str, ...]] = {
    ev.CallRequested: ("participant_name",),
    ev.CallRequestRefused: ("participant_name", "client_address"),
    ev.ParticipantJoined: ("name",),
    ev.InterimTranscriptRecorded: ("text",),
    ev.FinalTranscriptRecorded: ("text",),
    ev.AgentReplied: ("text",),
    ev.ToolCalled: ("arguments", "result", "error"),
    ev.TestDriveBooked: ("customer_name", "phone"),
    ev.CallbackRequested: ("customer_name", "phone", "topic"),
    ev.SupervisorCoached: ("text",),
    ev.HumanRequested: ("utterance",),
    ev.CallSummarised: ("text",),
    ev.ErrorReported: ("message",),
}

#: What an erased field reads as.
ERASED = "[erased]"
ERASED_MAPPING: dict[str, Any] = {"erased": True}
#: What a field reads as when its key is there but does not open it (a wrong key).
UNREADABLE = "[unreadable]"
UNREADABLE_MAPPING: dict[str, Any] = {"unreadable": True}

#: Fields whose values are mappings (the rest are text).
MAPPING_FIELDS: tuple[tuple[type, str], ...] = ((ev.ToolCalled, "arguments"),)


def placeholder(cls: type, field: str, *, erased: bool) -> Any:
    """What stands in for `cls.field` when its value cannot be read."""
    if any(issubclass(cls, owner) and field == name for owner, name in MAPPING_FIELDS):
        return dict(ERASED_MAPPING if erased else UNREADABLE_MAPPING)
    return ERASED if erased else UNREADABLE


def personal_fields(cls: type) -> tuple[str, ...]:
    """The personal-data fields of an event class (through its bases), or ()."""
    for base in cls.__mro__:
        fields = PERSONAL_FIELDS.get(base)
        if fields is not None:
            return fields
    return ()
