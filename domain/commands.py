"""Commands: what the outside world asks of a conversation.

Each command names its room (the conversation id derives from it), carries `EventMeta`,
and names the aggregate method it calls (`method`): its other fields are that method's
arguments, by name, and `Command.apply` passes them with the meta. `dedup_key` makes
redelivered inputs (a webhook with the same id, an agent item seen twice) record once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, ClassVar
from uuid import UUID

from domain.conversation import Conversation
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta

#: Per command class, the names of the fields its method takes (all but room and meta).
_ARGUMENTS: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True, kw_only=True)
class Command:
    #: The `Conversation` method this command calls.
    method: ClassVar[Callable[..., None]]

    room_name: str
    meta: EventMeta

    @property
    def conversation_id(self) -> UUID:
        return conversation_id_for_room(self.room_name)

    @cached_property  # asked for more than once per write
    def dedup_key(self) -> str | None:
        if self.meta.external_id is None:
            return None
        return f"{self.meta.source}/{type(self).__name__}/{self.meta.external_id}"

    def apply(self, conversation: Conversation) -> None:
        """Call the command's method with its fields: the method checks the rules first
        and records only if they hold."""
        cls = type(self)
        names = _ARGUMENTS.get(cls)
        if names is None:
            skip = {"room_name", "meta"}
            names = _ARGUMENTS[cls] = tuple(f.name for f in fields(self) if f.name not in skip)
        state = self.__dict__
        cls.method(conversation, meta=self.meta, **{n: state[n] for n in names})


@dataclass(frozen=True, kw_only=True)
class RequestCall(Command):
    method = Conversation.request_call
    participant_identity: str
    participant_name: str = ""


@dataclass(frozen=True, kw_only=True)
class ReconnectCaller(Command):
    method = Conversation.reconnect_caller
    participant_identity: str


@dataclass(frozen=True, kw_only=True)
class RefuseCallRequest(Command):
    method = Conversation.refuse_call_request
    participant_name: str
    client_address: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class StartCall(Command):
    method = Conversation.start
    room_sid: str = ""


@dataclass(frozen=True, kw_only=True)
class EndCall(Command):
    method = Conversation.end
    reason: str
    duration_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class FinishRoom(Command):
    method = Conversation.finish_room


@dataclass(frozen=True, kw_only=True)
class RecordSummary(Command):
    method = Conversation.record_summary
    text: str
    model: str


@dataclass(frozen=True, kw_only=True)
class CloseAgentSession(Command):
    method = Conversation.close_agent_session
    reason: str


@dataclass(frozen=True, kw_only=True)
class JoinParticipant(Command):
    method = Conversation.join
    identity: str
    name: str = ""
    kind: str = "customer"
    hidden: bool = False
    sid: str = ""


@dataclass(frozen=True, kw_only=True)
class LeaveParticipant(Command):
    method = Conversation.leave
    identity: str
    sid: str = ""
    aborted: bool = False


@dataclass(frozen=True, kw_only=True)
class PublishTrack(Command):
    method = Conversation.publish_track
    identity: str
    track_sid: str
    kind: str = "audio"
    source: str = "microphone"


@dataclass(frozen=True, kw_only=True)
class UnpublishTrack(Command):
    method = Conversation.unpublish_track
    identity: str
    track_sid: str


@dataclass(frozen=True, kw_only=True)
class RecordInterimTranscript(Command):
    method = Conversation.record_interim
    speaker: str
    text: str
    segment_id: str = ""
    confidence: float | None = None


@dataclass(frozen=True, kw_only=True)
class RecordFinalTranscript(Command):
    method = Conversation.record_final
    speaker: str
    text: str
    confidence: float | None = None
    start_time: float | None = None
    end_time: float | None = None
    language: str = "en"
    segment_id: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordAgentReply(Command):
    method = Conversation.record_reply
    text: str
    interrupted: bool = False


@dataclass(frozen=True, kw_only=True)
class ChangeUserState(Command):
    method = Conversation.change_user_state
    new_state: str


@dataclass(frozen=True, kw_only=True)
class ChangeAgentState(Command):
    method = Conversation.change_agent_state
    new_state: str


@dataclass(frozen=True, kw_only=True)
class RecordVehicleLookup(Command):
    method = Conversation.record_vehicle_lookup
    vin_as_said: str
    vin: str
    check_digit_valid: bool
    found: bool
    vehicle: dict[str, Any] | None = None
    decoded: dict[str, Any] | None = None
    channel: str = "voice"  # or "typed": on the customer page


@dataclass(frozen=True, kw_only=True)
class RecordToolCall(Command):
    method = Conversation.record_tool_call
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    result: str | None = None
    error: str | None = None
    call_id: str = ""


@dataclass(frozen=True, kw_only=True)
class BookTestDrive(Command):
    method = Conversation.book_test_drive
    booking_id: str
    customer_name: str
    phone: str
    preferred_time: str
    vin: str | None = None


@dataclass(frozen=True, kw_only=True)
class RequestCallback(Command):
    method = Conversation.request_callback
    callback_id: str
    customer_name: str
    phone: str
    preferred_time: str = ""
    topic: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestRecording(Command):
    method = Conversation.request_recording
    recording_id: str
    mode: str


@dataclass(frozen=True, kw_only=True)
class StartRecording(Command):
    method = Conversation.start_recording
    recording_id: str
    egress_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateRecording(Command):
    method = Conversation.update_recording
    recording_id: str
    status: str


@dataclass(frozen=True, kw_only=True)
class CompleteRecording(Command):
    method = Conversation.complete_recording
    recording_id: str
    bucket: str
    object_key: str
    size_bytes: int
    duration_s: float
    content_type: str


@dataclass(frozen=True, kw_only=True)
class FailRecording(Command):
    method = Conversation.fail_recording
    recording_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class DetectSilence(Command):
    method = Conversation.detect_silence
    silent_for_s: float


@dataclass(frozen=True, kw_only=True)
class EndSilence(Command):
    method = Conversation.end_silence
    silent_for_s: float


@dataclass(frozen=True, kw_only=True)
class StartListenIn(Command):
    method = Conversation.start_listen_in
    listen_id: str
    supervisor: str


@dataclass(frozen=True, kw_only=True)
class EndListenIn(Command):
    method = Conversation.end_listen_in
    listen_id: str


@dataclass(frozen=True, kw_only=True)
class CoachAgent(Command):
    method = Conversation.coach
    supervisor: str
    text: str


@dataclass(frozen=True, kw_only=True)
class BargeIn(Command):
    method = Conversation.barge_in
    supervisor: str
    participant_identity: str


@dataclass(frozen=True, kw_only=True)
class TakeOver(Command):
    method = Conversation.take_over
    supervisor: str
    participant_identity: str
    via: str = "takeover"


@dataclass(frozen=True, kw_only=True)
class HandBack(Command):
    method = Conversation.hand_back
    supervisor: str
    reason: str = "supervisor"


@dataclass(frozen=True, kw_only=True)
class EndCallBySupervisor(Command):
    method = Conversation.end_by_supervisor
    supervisor: str


@dataclass(frozen=True, kw_only=True)
class RequestHuman(Command):
    method = Conversation.request_human
    utterance: str


@dataclass(frozen=True, kw_only=True)
class ExpireEscalation(Command):
    method = Conversation.expire_escalation
    waited_s: float


@dataclass(frozen=True, kw_only=True)
class MeasureTurn(Command):
    method = Conversation.measure_turn
    speech_id: str = ""
    end_of_utterance_delay_s: float | None = None
    llm_ttft_s: float | None = None
    tts_ttfb_s: float | None = None
    end_to_end_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class ReportError(Command):
    method = Conversation.report_error
    component: str
    message: str
    recoverable: bool = True


@dataclass(frozen=True, kw_only=True)
class RequestErasure(Command):
    method = Conversation.request_erasure
    requested_by: str
    reason: str
    scope: str = "all"


@dataclass(frozen=True, kw_only=True)
class CompleteErasure(Command):
    method = Conversation.complete_erasure
    requested_by: str
    scope: str = "all"
    recordings_deleted: int


@dataclass(frozen=True, kw_only=True)
class RevealPersonalData(Command):
    method = Conversation.reveal
    revealed_by: str
    reason: str
    until: str  # ISO 8601, with its zone
