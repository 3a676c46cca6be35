"""Commands: what the outside world asks of a conversation.

Each command names its room (the conversation id derives from it), carries `EventMeta`,
and knows which aggregate method it calls. `dedup_key` makes redelivered inputs
(a webhook with the same id, an agent item seen twice) record once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from uuid import UUID

from domain.conversation import Conversation
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta


@dataclass(frozen=True, kw_only=True)
class Command:
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
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class RequestCall(Command):
    participant_identity: str
    participant_name: str = ""

    def apply(self, c: Conversation) -> None:
        c.request_call(self.participant_identity, self.participant_name, self.meta)


@dataclass(frozen=True, kw_only=True)
class ReconnectCaller(Command):
    participant_identity: str

    def apply(self, c: Conversation) -> None:
        c.reconnect_caller(self.participant_identity, self.meta)


@dataclass(frozen=True, kw_only=True)
class RefuseCallRequest(Command):
    participant_name: str
    client_address: str
    reason: str

    def apply(self, c: Conversation) -> None:
        c.refuse_call_request(self.participant_name, self.client_address, self.reason, self.meta)


@dataclass(frozen=True, kw_only=True)
class StartCall(Command):
    room_sid: str = ""

    def apply(self, c: Conversation) -> None:
        c.start(self.room_sid, self.meta)


@dataclass(frozen=True, kw_only=True)
class EndCall(Command):
    reason: str
    duration_s: float | None = None

    def apply(self, c: Conversation) -> None:
        c.end(self.reason, self.meta, self.duration_s)


@dataclass(frozen=True, kw_only=True)
class FinishRoom(Command):
    def apply(self, c: Conversation) -> None:
        c.finish_room(self.meta)


@dataclass(frozen=True, kw_only=True)
class CloseAgentSession(Command):
    reason: str

    def apply(self, c: Conversation) -> None:
        c.close_agent_session(self.reason, self.meta)


@dataclass(frozen=True, kw_only=True)
class JoinParticipant(Command):
    identity: str
    name: str = ""
    kind: str = "customer"
    hidden: bool = False
    sid: str = ""

    def apply(self, c: Conversation) -> None:
        c.join(self.identity, self.name, self.kind, self.hidden, self.sid, self.meta)


@dataclass(frozen=True, kw_only=True)
class LeaveParticipant(Command):
    identity: str
    sid: str = ""
    aborted: bool = False

    def apply(self, c: Conversation) -> None:
        c.leave(self.identity, self.sid, self.meta, aborted=self.aborted)


@dataclass(frozen=True, kw_only=True)
class PublishTrack(Command):
    identity: str
    track_sid: str
    kind: str = "audio"
    source: str = "microphone"

    def apply(self, c: Conversation) -> None:
        c.publish_track(self.identity, self.track_sid, self.kind, self.source, self.meta)


@dataclass(frozen=True, kw_only=True)
class UnpublishTrack(Command):
    identity: str
    track_sid: str

    def apply(self, c: Conversation) -> None:
        c.unpublish_track(self.identity, self.track_sid, self.meta)


@dataclass(frozen=True, kw_only=True)
class RecordInterimTranscript(Command):
    speaker: str
    text: str
    segment_id: str = ""
    confidence: float | None = None

    def apply(self, c: Conversation) -> None:
        c.record_interim(self.speaker, self.text, self.segment_id, self.confidence, self.meta)


@dataclass(frozen=True, kw_only=True)
class RecordFinalTranscript(Command):
    speaker: str
    text: str
    confidence: float | None = None
    start_time: float | None = None
    end_time: float | None = None
    language: str = "en"
    segment_id: str = ""

    def apply(self, c: Conversation) -> None:
        c.record_final(
            self.speaker,
            self.text,
            self.meta,
            confidence=self.confidence,
            start_time=self.start_time,
            end_time=self.end_time,
            language=self.language,
            segment_id=self.segment_id,
        )


@dataclass(frozen=True, kw_only=True)
class RecordAgentReply(Command):
    text: str
    interrupted: bool = False

    def apply(self, c: Conversation) -> None:
        c.record_reply(self.text, self.interrupted, self.meta)


@dataclass(frozen=True, kw_only=True)
class ChangeUserState(Command):
    new_state: str

    def apply(self, c: Conversation) -> None:
        c.change_user_state(self.new_state, self.meta)


@dataclass(frozen=True, kw_only=True)
class ChangeAgentState(Command):
    new_state: str

    def apply(self, c: Conversation) -> None:
        c.change_agent_state(self.new_state, self.meta)


@dataclass(frozen=True, kw_only=True)
class RecordVehicleLookup(Command):
    vin_as_said: str
    vin: str
    check_digit_valid: bool
    found: bool
    vehicle: dict[str, Any] | None = None
    decoded: dict[str, Any] | None = None

    def apply(self, c: Conversation) -> None:
        c.record_vehicle_lookup(
            self.vin_as_said,
            self.vin,
            self.check_digit_valid,
            self.found,
            self.vehicle,
            self.decoded,
            self.meta,
        )


@dataclass(frozen=True, kw_only=True)
class RecordToolCall(Command):
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    result: str | None = None
    error: str | None = None
    call_id: str = ""

    def apply(self, c: Conversation) -> None:
        c.record_tool_call(
            self.call_id, self.name, self.arguments, self.result, self.error, self.meta
        )


@dataclass(frozen=True, kw_only=True)
class BookTestDrive(Command):
    booking_id: str
    customer_name: str
    phone: str
    preferred_time: str
    vin: str | None = None

    def apply(self, c: Conversation) -> None:
        c.book_test_drive(
            self.booking_id,
            self.customer_name,
            self.phone,
            self.vin,
            self.preferred_time,
            self.meta,
        )


@dataclass(frozen=True, kw_only=True)
class RequestCallback(Command):
    callback_id: str
    customer_name: str
    phone: str
    preferred_time: str = ""
    topic: str = ""

    def apply(self, c: Conversation) -> None:
        c.request_callback(
            self.callback_id,
            self.customer_name,
            self.phone,
            self.preferred_time,
            self.topic,
            self.meta,
        )


@dataclass(frozen=True, kw_only=True)
class RequestRecording(Command):
    recording_id: str
    mode: str

    def apply(self, c: Conversation) -> None:
        c.request_recording(self.recording_id, self.mode, self.meta)


@dataclass(frozen=True, kw_only=True)
class StartRecording(Command):
    recording_id: str
    egress_id: str | None = None

    def apply(self, c: Conversation) -> None:
        c.start_recording(self.recording_id, self.egress_id, self.meta)


@dataclass(frozen=True, kw_only=True)
class UpdateRecording(Command):
    recording_id: str
    status: str

    def apply(self, c: Conversation) -> None:
        c.update_recording(self.recording_id, self.status, self.meta)


@dataclass(frozen=True, kw_only=True)
class CompleteRecording(Command):
    recording_id: str
    bucket: str
    object_key: str
    size_bytes: int
    duration_s: float
    content_type: str

    def apply(self, c: Conversation) -> None:
        c.complete_recording(
            self.recording_id,
            self.bucket,
            self.object_key,
            self.size_bytes,
            self.duration_s,
            self.content_type,
            self.meta,
        )


@dataclass(frozen=True, kw_only=True)
class FailRecording(Command):
    recording_id: str
    reason: str

    def apply(self, c: Conversation) -> None:
        c.fail_recording(self.recording_id, self.reason, self.meta)


@dataclass(frozen=True, kw_only=True)
class DetectSilence(Command):
    silent_for_s: float

    def apply(self, c: Conversation) -> None:
        c.detect_silence(self.silent_for_s, self.meta)


@dataclass(frozen=True, kw_only=True)
class EndSilence(Command):
    silent_for_s: float

    def apply(self, c: Conversation) -> None:
        c.end_silence(self.silent_for_s, self.meta)


@dataclass(frozen=True, kw_only=True)
class StartListenIn(Command):
    listen_id: str
    supervisor: str

    def apply(self, c: Conversation) -> None:
        c.start_listen_in(self.listen_id, self.supervisor, self.meta)


@dataclass(frozen=True, kw_only=True)
class EndListenIn(Command):
    listen_id: str

    def apply(self, c: Conversation) -> None:
        c.end_listen_in(self.listen_id, self.meta)


@dataclass(frozen=True, kw_only=True)
class MeasureTurn(Command):
    speech_id: str = ""
    end_of_utterance_delay_s: float | None = None
    llm_ttft_s: float | None = None
    tts_ttfb_s: float | None = None
    end_to_end_s: float | None = None

    def apply(self, c: Conversation) -> None:
        c.measure_turn(
            self.speech_id,
            self.meta,
            end_of_utterance_delay_s=self.end_of_utterance_delay_s,
            llm_ttft_s=self.llm_ttft_s,
            tts_ttfb_s=self.tts_ttfb_s,
            end_to_end_s=self.end_to_end_s,
        )


@dataclass(frozen=True, kw_only=True)
class ReportError(Command):
    component: str
    message: str
    recoverable: bool = True

    def apply(self, c: Conversation) -> None:
        c.report_error(self.component, self.message, self.recoverable, self.meta)
