"""The conversation's domain events, named in the past tense.

Each class is small and explicit, and the one place its fields are declared; the parts of
the `Conversation` aggregate bind them (their topics name the part), and the read side
dispatches on these classes.
`meta` is `EventMeta.to_dict()`: source, correlation id, external id, occurred-at.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate


class ConversationEvent(Aggregate.Event):
    meta: dict[str, Any]


# --- lifecycle -------------------------------------------------------------------------


class Opened(ConversationEvent, Aggregate.Created):
    """First event of every conversation, whichever input arrived first."""

    room_name: str


class CallRequested(ConversationEvent):
    """A customer was issued a token for the room."""

    participant_identity: str
    participant_name: str


class CallRequestRefused(ConversationEvent):
    """A security event: someone asked for a token to a room that already had a call."""

    participant_name: str
    client_address: str
    reason: str


class CallerReconnected(ConversationEvent):
    """The caller came back into their own call with its reconnect ticket."""

    participant_identity: str


class CallStarted(ConversationEvent):
    room_sid: str


class CallEnded(ConversationEvent):
    reason: str
    duration_s: float


class RoomFinished(ConversationEvent):
    """LiveKit closed the room (its `room_finished` webhook); the call may have ended before."""


class AgentSessionClosed(ConversationEvent):
    reason: str


class CallSummarised(ConversationEvent):
    """An LLM wrote a summary of the ended call (`apps/usecases/summaries.py`)."""

    text: str
    model: str


# --- participants ----------------------------------------------------------------------


class ParticipantJoined(ConversationEvent):
    identity: str
    name: str
    kind: str  # customer | agent | supervisor
    hidden: bool
    sid: str


class ParticipantLeft(ConversationEvent):
    identity: str
    sid: str


class ParticipantConnectionAborted(ConversationEvent):
    identity: str
    sid: str


class TrackPublished(ConversationEvent):
    identity: str
    track_sid: str
    kind: str  # audio | video
    source: str  # microphone, ...


class TrackUnpublished(ConversationEvent):
    identity: str
    track_sid: str


# --- speech ----------------------------------------------------------------------------


class InterimTranscriptRecorded(ConversationEvent):
    speaker: str
    text: str
    segment_id: str
    confidence: float | None


class FinalTranscriptRecorded(ConversationEvent):
    """Version 2 added `language` and `segment_id`; version 1 events are upcast."""

    class_version = 2

    speaker: str
    text: str
    confidence: float | None
    start_time: float | None
    end_time: float | None
    language: str
    segment_id: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["language"] = "en"
        state["segment_id"] = ""


class AgentReplied(ConversationEvent):
    text: str
    interrupted: bool


class UserStateChanged(ConversationEvent):
    old_state: str
    new_state: str


class AgentStateChanged(ConversationEvent):
    old_state: str
    new_state: str


# --- lookups and tools -----------------------------------------------------------------


class VehicleLookedUp(ConversationEvent):
    """Version 2 added `channel`: how the caller gave the VIN, "voice" (said aloud, every
    version 1 event) or "typed" (on the customer page)."""

    class_version = 2

    vin_as_said: str
    vin: str
    check_digit_valid: bool
    found: bool
    vehicle: dict[str, Any] | None
    decoded: dict[str, Any] | None
    channel: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["channel"] = "voice"


class ToolCalled(ConversationEvent):
    call_id: str
    name: str
    arguments: dict[str, Any]
    result: str | None
    error: str | None


class TestDriveBooked(ConversationEvent):
    __test__ = False  # not a pytest test class despite its name

    booking_id: str
    customer_name: str
    phone: str
    vin: str | None
    preferred_time: str


class CallbackRequested(ConversationEvent):
    callback_id: str
    customer_name: str
    phone: str
    preferred_time: str
    topic: str


# --- recording -------------------------------------------------------------------------


class RecordingRequested(ConversationEvent):
    recording_id: str
    mode: str  # egress | agent


class RecordingStarted(ConversationEvent):
    recording_id: str
    egress_id: str | None


class RecordingUpdated(ConversationEvent):
    recording_id: str
    status: str


class RecordingCompleted(ConversationEvent):
    recording_id: str
    bucket: str
    object_key: str
    size_bytes: int
    duration_s: float
    content_type: str


class RecordingFailed(ConversationEvent):
    recording_id: str
    reason: str


# --- monitoring ------------------------------------------------------------------------


class SilenceDetected(ConversationEvent):
    silent_for_s: float


class SilenceEnded(ConversationEvent):
    silent_for_s: float


class ListenInStarted(ConversationEvent):
    listen_id: str
    supervisor: str


class ListenInEnded(ConversationEvent):
    listen_id: str
    supervisor: str


# --- supervision -----------------------------------------------------------------------


class SupervisorCoached(ConversationEvent):
    supervisor: str
    text: str
    position: int  # the 1-based count of coaching notes on this call


class SupervisorBargedIn(ConversationEvent):
    supervisor: str
    participant_identity: str


class SupervisorTookOver(ConversationEvent):
    supervisor: str
    participant_identity: str
    via: str  # "takeover" | "escalation"


class CallHandedBack(ConversationEvent):
    supervisor: str
    reason: str  # "supervisor" | "supervisor_left"


class CallEndedBySupervisor(ConversationEvent):
    supervisor: str


class HumanRequested(ConversationEvent):
    utterance: str


class EscalationExpired(ConversationEvent):
    waited_s: float  # nobody took the call this long after the caller asked for a person


# --- quality ---------------------------------------------------------------------------


class TurnLatencyMeasured(ConversationEvent):
    speech_id: str
    end_of_utterance_delay_s: float | None
    llm_ttft_s: float | None
    tts_ttfb_s: float | None
    end_to_end_s: float | None


class ErrorReported(ConversationEvent):
    component: str
    message: str
    recoverable: bool


# --- erasure ---------------------------------------------------------------------------


class ErasureRequested(ConversationEvent):
    """Someone (or the retention policy) asked for the conversation's personal data to be
    erased: `scope` "all" (its data key and recordings) or "recordings" (audio only).
    Who and why, never what."""

    requested_by: str
    reason: str
    scope: str


class ErasureCompleted(ConversationEvent):
    """What was asked is gone (for "all": the key, the recordings, and the read models
    rebuilt without them)."""

    requested_by: str
    scope: str
    recordings_deleted: int


class PersonalDataRevealed(ConversationEvent):
    """Someone was shown the call's personal data until `until` (ISO time), for a
    stated reason; the grant is theirs alone and for this call alone."""

    revealed_by: str
    reason: str
    until: str
