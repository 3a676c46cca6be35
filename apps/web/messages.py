"""What each domain event looks like on the Server-Sent Event streams (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from projections.base import iso, occurred
from projections.jsonable import jsonable


@dataclass
class Message:
    id: int
    event: str
    conversation_id: UUID
    data: dict[str, Any]
    needs_row: str | None = None  # a `change` name: data is completed with the conversation row
    dashboard: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: The encoded SSE event, kept once made: the same message goes to many clients.
    wire: bytes | None = field(default=None, repr=False, compare=False)


_CHANGE = {
    "CallRequested": "requested",
    "CallStarted": "started",
    "CallEnded": "ended",
}
# Events that change what the dashboard list shows (interims would flood it).
_DASHBOARD_UPDATES = {
    "ParticipantJoined",
    "ParticipantLeft",
    "ParticipantConnectionAborted",
    "AgentStateChanged",
    "UserStateChanged",
    "FinalTranscriptRecorded",
    "AgentReplied",
    "VehicleLookedUp",
    "ListenInStarted",
    "ListenInEnded",
}
_RECORDING = {
    "RecordingRequested": "requested",
    "RecordingStarted": "recording",
    "RecordingUpdated": "recording",
    "RecordingCompleted": "completed",
    "RecordingFailed": "failed",
}


def _fields(e: Any, *names: str) -> dict[str, Any]:
    return {n: jsonable(getattr(e, n)) for n in names}


def call_message(position: int, e: Any) -> Message | None:
    """The message for one call's stream, or None for events it does not show."""
    name = type(e).__name__
    cid = e.originator_id
    base = {"conversation_id": str(cid), "at": iso(occurred(e))}

    def msg(message_type: str, **data: Any) -> Message:
        return Message(position, message_type, cid, {**base, **data})

    if name == "InterimTranscriptRecorded":
        return msg("interim", **_fields(e, "speaker", "text", "segment_id", "confidence"))
    if name == "FinalTranscriptRecorded":
        return msg(
            "final",
            **_fields(
                e,
                "speaker",
                "text",
                "confidence",
                "start_time",
                "end_time",
                "language",
                "segment_id",
            ),
        )
    if name == "AgentReplied":
        return msg("reply", **_fields(e, "text", "interrupted"))
    if name in ("UserStateChanged", "AgentStateChanged"):
        who = "user" if name == "UserStateChanged" else "agent"
        return msg("state", who=who, **_fields(e, "old_state", "new_state"))
    if name == "VehicleLookedUp":
        return msg(
            "lookup",
            **_fields(e, "vin_as_said", "vin", "check_digit_valid", "found", "vehicle", "decoded"),
        )
    if name == "ToolCalled":
        return msg("tool", **_fields(e, "name", "arguments", "result", "error"))
    if name in ("SilenceDetected", "SilenceEnded"):
        return msg("silence", active=name == "SilenceDetected", silent_for_s=e.silent_for_s)
    if name in _RECORDING:
        return msg("recording", **recording_data(e))
    if name.startswith("Participant"):
        action = {"ParticipantJoined": "joined", "ParticipantLeft": "left"}.get(name, "aborted")
        data: dict[str, Any] = {"identity": e.identity, "action": action}
        if action == "joined":
            data.update(kind=e.kind, hidden=e.hidden)
        return msg("participant", **data)
    if name in _CHANGE:
        m = msg("conversation")
        m.needs_row = _CHANGE[name]
        return m
    if name == "TurnLatencyMeasured":
        return msg(
            "latency",
            **_fields(
                e,
                "speech_id",
                "end_of_utterance_delay_s",
                "llm_ttft_s",
                "tts_ttfb_s",
                "end_to_end_s",
            ),
        )
    return None


def dashboard_message(position: int, e: Any) -> Message | None:
    """The message for the dashboard feed, or None."""
    name = type(e).__name__
    cid = e.originator_id
    if name in ("SilenceDetected", "SilenceEnded"):
        return Message(
            position,
            "silence",
            cid,
            {
                "conversation_id": str(cid),
                "active": name == "SilenceDetected",
                "silent_for_s": e.silent_for_s,
                "at": iso(occurred(e)),
            },
            needs_row="silence",
        )
    if name in _RECORDING:
        return Message(
            position, "recording", cid, {"conversation_id": str(cid), **recording_data(e)}
        )
    if name in _CHANGE or name in _DASHBOARD_UPDATES:
        return Message(position, "conversation", cid, {}, needs_row=_CHANGE.get(name, "updated"))
    return None


def recording_data(e: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"recording_id": e.recording_id, "status": _RECORDING[type(e).__name__]}
    for name in (
        "bucket",
        "object_key",
        "size_bytes",
        "duration_s",
        "content_type",
        "reason",
        "mode",
    ):
        if hasattr(e, name):
            data[name] = getattr(e, name)
    return data


def complete(message: Message, row: dict[str, Any] | None) -> Message:
    """Fill a message that needs the conversation's current row."""
    if message.needs_row is None or row is None:
        return message
    if message.event == "conversation":
        message.data = {
            **row,
            "change": message.needs_row,
            **{k: v for k, v in message.data.items() if k == "at"},
        }
    elif message.event == "silence":
        message.data["room_name"] = row.get("room_name")
    return message
