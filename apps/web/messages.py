"""What each domain event looks like on the Server-Sent Event streams (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain import events as ev
from projections.base import EventTable, iso, occurred
from projections.jsonable import jsonable
from projections.redaction import redacted_event


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


#: Events that change a call's status: the dashboard gets the row, with this change.
_CHANGE: EventTable[str] = EventTable(
    {ev.CallRequested: "requested", ev.CallStarted: "started", ev.CallEnded: "ended"}
)
#: Events that change what the dashboard list shows (interims would flood it).
_DASHBOARD_UPDATES: EventTable[bool] = EventTable(
    dict.fromkeys(
        (
            ev.ParticipantJoined,
            ev.ParticipantLeft,
            ev.ParticipantConnectionAborted,
            ev.AgentStateChanged,
            ev.UserStateChanged,
            ev.FinalTranscriptRecorded,
            ev.AgentReplied,
            ev.VehicleLookedUp,
            ev.ListenInStarted,
            ev.ListenInEnded,
            ev.HumanRequested,
            ev.SupervisorTookOver,
        ),
        True,
    )
)
#: The status a recording event reports.
_RECORDING: EventTable[str] = EventTable(
    {
        ev.RecordingRequested: "requested",
        ev.RecordingStarted: "recording",
        ev.RecordingUpdated: "recording",
        ev.RecordingCompleted: "completed",
        ev.RecordingFailed: "failed",
    }
)
_SILENCE_ACTIVE: EventTable[bool] = EventTable({ev.SilenceDetected: True, ev.SilenceEnded: False})


def _fields(e: Any, *names: str) -> dict[str, Any]:
    return {n: jsonable(getattr(e, n)) for n in names}


#: What the call stream shows of an event: its message type and data.
_Render = Callable[[Any], tuple[str, dict[str, Any]]]


def _state(who: str) -> _Render:
    return lambda e: ("state", {"who": who, **_fields(e, "old_state", "new_state")})


def _participant(action: str) -> _Render:
    def render(e: Any) -> tuple[str, dict[str, Any]]:
        # The source lets the feed show one line for a join both LiveKit and the agent report.
        source = (getattr(e, "meta", None) or {}).get("source", "")
        data: dict[str, Any] = {"identity": e.identity, "action": action, "source": source}
        if action == "joined":
            data.update(kind=e.kind, hidden=e.hidden)
        return "participant", data

    return render


def _silence(e: Any) -> tuple[str, dict[str, Any]]:
    return "silence", {"active": _SILENCE_ACTIVE[type(e)], "silent_for_s": e.silent_for_s}


def _recording(e: Any) -> tuple[str, dict[str, Any]]:
    return "recording", recording_data(e)


def _supervisor(action: str, *names: str) -> _Render:
    """A supervisor's act: who, which act, and its details (the coaching text, the
    identity they speak as, why the call was handed back)."""
    return lambda e: ("supervisor", {"action": action, **_fields(e, "supervisor", *names)})


_CALL: EventTable[_Render] = EventTable(
    {
        ev.InterimTranscriptRecorded: lambda e: (
            "interim",
            _fields(e, "speaker", "text", "segment_id", "confidence"),
        ),
        ev.FinalTranscriptRecorded: lambda e: (
            "final",
            _fields(
                e,
                "speaker",
                "text",
                "confidence",
                "start_time",
                "end_time",
                "language",
                "segment_id",
            ),
        ),
        ev.AgentReplied: lambda e: ("reply", _fields(e, "text", "interrupted")),
        ev.UserStateChanged: _state("user"),
        ev.AgentStateChanged: _state("agent"),
        ev.VehicleLookedUp: lambda e: (
            "lookup",
            _fields(
                e,
                "vin_as_said",
                "vin",
                "check_digit_valid",
                "found",
                "vehicle",
                "decoded",
                "channel",
            ),
        ),
        ev.ToolCalled: lambda e: ("tool", _fields(e, "name", "arguments", "result", "error")),
        ev.SilenceDetected: _silence,
        ev.SilenceEnded: _silence,
        **dict.fromkeys(_RECORDING.declared, _recording),
        ev.ParticipantJoined: _participant("joined"),
        ev.ParticipantLeft: _participant("left"),
        ev.ParticipantConnectionAborted: _participant("aborted"),
        ev.SupervisorCoached: _supervisor("coach", "text", "position"),
        ev.SupervisorBargedIn: _supervisor("barge", "participant_identity"),
        ev.SupervisorTookOver: lambda e: (
            "supervisor",
            {
                "action": "accept" if e.via == "escalation" else "takeover",
                **_fields(e, "supervisor", "participant_identity"),
            },
        ),
        ev.CallHandedBack: _supervisor("handback", "reason"),
        ev.CallEndedBySupervisor: _supervisor("end"),
        ev.HumanRequested: lambda e: ("escalation", _fields(e, "utterance")),
        ev.EscalationExpired: lambda e: ("escalation", {"expired": True, **_fields(e, "waited_s")}),
        ev.TurnLatencyMeasured: lambda e: (
            "latency",
            _fields(
                e,
                "speech_id",
                "end_of_utterance_delay_s",
                "llm_ttft_s",
                "tts_ttfb_s",
                "end_to_end_s",
            ),
        ),
    }
)


def call_message(position: int, e: Any) -> Message | None:
    """The message for one call's stream, or None for events it does not show."""
    cls = type(e)
    change, render = _CHANGE[cls], _CALL[cls]
    if change is None and render is None:
        return None
    cid = e.originator_id
    base = {"conversation_id": str(cid), "at": iso(occurred(e))}
    if change is not None:  # the client gets the conversation's row
        return Message(position, "conversation", cid, base, needs_row=change)
    assert render is not None
    message_type, data = render(redacted_event(e))  # streams carry no personal data
    return Message(position, message_type, cid, {**base, **data})


def dashboard_message(position: int, e: Any) -> Message | None:
    """The message for the dashboard feed, or None."""
    cls = type(e)
    cid = e.originator_id
    active = _SILENCE_ACTIVE[cls]
    if active is not None:
        return Message(
            position,
            "silence",
            cid,
            {
                "conversation_id": str(cid),
                "active": active,
                "silent_for_s": e.silent_for_s,
                "at": iso(occurred(e)),
            },
            needs_row="silence",
        )
    if _RECORDING[cls] is not None:
        return Message(
            position, "recording", cid, {"conversation_id": str(cid), **recording_data(e)}
        )
    change = _CHANGE[cls]
    if change is not None or _DASHBOARD_UPDATES[cls]:
        return Message(position, "conversation", cid, {}, needs_row=change or "updated")
    return None


def recording_data(e: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"recording_id": e.recording_id, "status": _RECORDING[type(e)]}
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
