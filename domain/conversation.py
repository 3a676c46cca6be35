"""The `Conversation` aggregate: one per call, its id derived from the LiveKit room name.

Public methods are commands: they check the rules first and only then trigger an event,
so a refused command leaves the aggregate untouched. The `@event` methods below them only
change state; they also run when the aggregate is rebuilt from stored events, so they never
check rules (old events must always replay).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import events as ev
from domain.errors import CallAlreadyEnded, InvalidCommand, InvalidTransition
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta

SPEAKERS = frozenset({"customer", "assistant"})
PARTICIPANT_KINDS = frozenset({"customer", "agent", "supervisor", "other"})
USER_STATES = frozenset({"speaking", "listening", "away"})
AGENT_STATES = frozenset({"initializing", "idle", "listening", "thinking", "speaking"})
RECORDING_MODES = frozenset({"egress", "agent"})
MAX_TEXT = 10_000
MAX_NAME = 200


def _text(value: str, what: str, *, limit: int = MAX_NAME, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(f"{what} must be a string")
    if not allow_empty and not value.strip():
        raise InvalidCommand(f"{what} must not be empty")
    if len(value) > limit:
        raise InvalidCommand(f"{what} is longer than {limit} characters")
    return value


def _non_negative(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidCommand(f"{what} must be a number")
    if value < 0:
        raise InvalidCommand(f"{what} must not be negative")
    return float(value)


def _confidence(value: float | None) -> float | None:
    value = _non_negative(value, "confidence")
    if value is not None and value > 1:
        raise InvalidCommand("confidence must be within 0..1")
    return value


class Conversation(Aggregate):
    """A call, from the token request to the last recording result."""

    # Bind the explicit event classes so `@event` can find them by name.
    Opened = ev.Opened
    CallRequested = ev.CallRequested
    CallStarted = ev.CallStarted
    CallEnded = ev.CallEnded
    AgentSessionClosed = ev.AgentSessionClosed
    ParticipantJoined = ev.ParticipantJoined
    ParticipantLeft = ev.ParticipantLeft
    ParticipantConnectionAborted = ev.ParticipantConnectionAborted
    TrackPublished = ev.TrackPublished
    TrackUnpublished = ev.TrackUnpublished
    InterimTranscriptRecorded = ev.InterimTranscriptRecorded
    FinalTranscriptRecorded = ev.FinalTranscriptRecorded
    AgentReplied = ev.AgentReplied
    UserStateChanged = ev.UserStateChanged
    AgentStateChanged = ev.AgentStateChanged
    VehicleLookedUp = ev.VehicleLookedUp
    ToolCalled = ev.ToolCalled
    TestDriveBooked = ev.TestDriveBooked
    CallbackRequested = ev.CallbackRequested
    RecordingRequested = ev.RecordingRequested
    RecordingStarted = ev.RecordingStarted
    RecordingUpdated = ev.RecordingUpdated
    RecordingCompleted = ev.RecordingCompleted
    RecordingFailed = ev.RecordingFailed
    SilenceDetected = ev.SilenceDetected
    SilenceEnded = ev.SilenceEnded
    ListenInStarted = ev.ListenInStarted
    ListenInEnded = ev.ListenInEnded
    TurnLatencyMeasured = ev.TurnLatencyMeasured
    ErrorReported = ev.ErrorReported

    @staticmethod
    def create_id(room_name: str, meta: dict[str, Any]) -> UUID:
        return conversation_id_for_room(room_name)

    @classmethod
    def open(cls, room_name: str, meta: EventMeta) -> Conversation:
        conversation_id_for_room(room_name)  # validates the name before anything is created
        return cls(room_name=room_name, meta=meta.to_dict())

    @event(Opened)
    def __init__(self, room_name: str, meta: dict[str, Any]) -> None:
        self.room_name = room_name
        self.status = "opened"
        self.opened_at = datetime.fromisoformat(meta["occurred_at"])
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.participants: dict[str, dict[str, Any]] = {}
        self.user_state = "listening"
        self.agent_state = "initializing"
        self.silence_active = False
        self.recordings: dict[str, str] = {}
        self.listen_ins: dict[str, str] = {}

    # --- rules shared by commands --------------------------------------------------------

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None

    def _require_open(self, meta: EventMeta, *, late_ok: bool = False) -> None:
        """After the end, accept closing facts, and facts that happened before the end."""
        if self.ended_at is None or late_ok or meta.occurred_at <= self.ended_at:
            return
        raise CallAlreadyEnded(
            f"call in room {self.room_name!r} ended at {self.ended_at.isoformat()}; "
            "only recording results and departures may follow"
        )

    # --- lifecycle -----------------------------------------------------------------------

    def request_call(self, participant_identity: str, participant_name: str, meta: EventMeta) -> None:
        _text(participant_identity, "participant identity")
        _text(participant_name, "participant name", allow_empty=True)
        self._require_open(meta)
        self._call_requested(participant_identity, participant_name, meta.to_dict())

    @event(CallRequested)
    def _call_requested(self, participant_identity: str, participant_name: str, meta: dict[str, Any]) -> None:
        if self.status == "opened":
            self.status = "requested"

    def start(self, room_sid: str, meta: EventMeta) -> None:
        _text(room_sid, "room sid", allow_empty=True)
        self._require_open(meta)
        if self.started_at is not None:
            raise InvalidTransition(f"call in room {self.room_name!r} already started")
        self._call_started(room_sid, meta.to_dict())

    @event(CallStarted)
    def _call_started(self, room_sid: str, meta: dict[str, Any]) -> None:
        self.started_at = datetime.fromisoformat(meta["occurred_at"])
        if self.status != "ended":
            self.status = "active"

    def end(self, reason: str, meta: EventMeta, duration_s: float | None = None) -> None:
        _text(reason, "end reason")
        if self.ended_at is not None:
            raise InvalidTransition(f"call in room {self.room_name!r} already ended")
        if duration_s is None:
            began = self.started_at or self.opened_at
            duration_s = max(0.0, (meta.occurred_at - began).total_seconds())
        self._call_ended(reason, _non_negative(duration_s, "duration"), meta.to_dict())

    @event(CallEnded)
    def _call_ended(self, reason: str, duration_s: float, meta: dict[str, Any]) -> None:
        self.ended_at = datetime.fromisoformat(meta["occurred_at"])
        self.status = "ended"

    def close_agent_session(self, reason: str, meta: EventMeta) -> None:
        _text(reason, "reason")
        self._agent_session_closed(reason, meta.to_dict())

    @event(AgentSessionClosed)
    def _agent_session_closed(self, reason: str, meta: dict[str, Any]) -> None:
        pass

    # --- participants --------------------------------------------------------------------

    def join(
        self, identity: str, name: str, kind: str, hidden: bool, sid: str, meta: EventMeta
    ) -> None:
        _text(identity, "participant identity")
        _text(name, "participant name", allow_empty=True)
        _text(sid, "participant sid", allow_empty=True)
        if kind not in PARTICIPANT_KINDS:
            raise InvalidCommand(f"participant kind must be one of {sorted(PARTICIPANT_KINDS)}")
        self._require_open(meta)
        self._participant_joined(identity, name, kind, bool(hidden), sid, meta.to_dict())

    @event(ParticipantJoined)
    def _participant_joined(
        self, identity: str, name: str, kind: str, hidden: bool, sid: str, meta: dict[str, Any]
    ) -> None:
        self.participants[identity] = {"kind": kind, "present": True}
        if self.status in ("opened", "requested"):
            self.status = "active"

    def leave(self, identity: str, sid: str, meta: EventMeta, *, aborted: bool = False) -> None:
        _text(identity, "participant identity")
        _text(sid, "participant sid", allow_empty=True)
        # Departures may arrive before the join or after the end: they are recorded as facts.
        if aborted:
            self._participant_connection_aborted(identity, sid, meta.to_dict())
        else:
            self._participant_left(identity, sid, meta.to_dict())

    @event(ParticipantLeft)
    def _participant_left(self, identity: str, sid: str, meta: dict[str, Any]) -> None:
        if identity in self.participants:
            self.participants[identity]["present"] = False

    @event(ParticipantConnectionAborted)
    def _participant_connection_aborted(self, identity: str, sid: str, meta: dict[str, Any]) -> None:
        if identity in self.participants:
            self.participants[identity]["present"] = False

    def publish_track(self, identity: str, track_sid: str, kind: str, source: str, meta: EventMeta) -> None:
        _text(identity, "participant identity")
        _text(track_sid, "track sid")
        if kind not in ("audio", "video"):
            raise InvalidCommand("track kind must be 'audio' or 'video'")
        _text(source, "track source", allow_empty=True)
        self._require_open(meta)
        self._track_published(identity, track_sid, kind, source, meta.to_dict())

    @event(TrackPublished)
    def _track_published(
        self, identity: str, track_sid: str, kind: str, source: str, meta: dict[str, Any]
    ) -> None:
        pass

    def unpublish_track(self, identity: str, track_sid: str, meta: EventMeta) -> None:
        _text(identity, "participant identity")
        _text(track_sid, "track sid")
        self._track_unpublished(identity, track_sid, meta.to_dict())

    @event(TrackUnpublished)
    def _track_unpublished(self, identity: str, track_sid: str, meta: dict[str, Any]) -> None:
        pass

    # --- speech --------------------------------------------------------------------------

    def record_interim(
        self, speaker: str, text: str, segment_id: str, confidence: float | None, meta: EventMeta
    ) -> None:
        self._check_speaker(speaker)
        _text(text, "interim text", limit=MAX_TEXT)
        _text(segment_id, "segment id", allow_empty=True)
        confidence = _confidence(confidence)
        self._require_open(meta)
        self._interim_recorded(speaker, text, segment_id, confidence, meta.to_dict())

    @event(InterimTranscriptRecorded)
    def _interim_recorded(
        self, speaker: str, text: str, segment_id: str, confidence: float | None, meta: dict[str, Any]
    ) -> None:
        pass

    def record_final(
        self,
        speaker: str,
        text: str,
        meta: EventMeta,
        *,
        confidence: float | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
        language: str = "en",
        segment_id: str = "",
    ) -> None:
        self._check_speaker(speaker)
        _text(text, "final transcript text", limit=MAX_TEXT)
        confidence = _confidence(confidence)
        start_time = _non_negative(start_time, "start time")
        end_time = _non_negative(end_time, "end time")
        if start_time is not None and end_time is not None and end_time < start_time:
            raise InvalidCommand("end time is before start time")
        _text(language, "language", limit=20)
        _text(segment_id, "segment id", allow_empty=True)
        self._require_open(meta)
        self._final_recorded(
            speaker, text, confidence, start_time, end_time, language, segment_id, meta.to_dict()
        )

    @event(FinalTranscriptRecorded)
    def _final_recorded(
        self,
        speaker: str,
        text: str,
        confidence: float | None,
        start_time: float | None,
        end_time: float | None,
        language: str,
        segment_id: str,
        meta: dict[str, Any],
    ) -> None:
        pass

    def record_reply(self, text: str, interrupted: bool, meta: EventMeta) -> None:
        _text(text, "reply text", limit=MAX_TEXT, allow_empty=bool(interrupted))
        self._require_open(meta)
        self._agent_replied(text, bool(interrupted), meta.to_dict())

    @event(AgentReplied)
    def _agent_replied(self, text: str, interrupted: bool, meta: dict[str, Any]) -> None:
        pass

    def change_user_state(self, new_state: str, meta: EventMeta) -> None:
        if new_state not in USER_STATES:
            raise InvalidCommand(f"user state must be one of {sorted(USER_STATES)}")
        self._require_open(meta)
        self._user_state_changed(self.user_state, new_state, meta.to_dict())

    @event(UserStateChanged)
    def _user_state_changed(self, old_state: str, new_state: str, meta: dict[str, Any]) -> None:
        self.user_state = new_state

    def change_agent_state(self, new_state: str, meta: EventMeta) -> None:
        if new_state not in AGENT_STATES:
            raise InvalidCommand(f"agent state must be one of {sorted(AGENT_STATES)}")
        self._require_open(meta)
        self._agent_state_changed(self.agent_state, new_state, meta.to_dict())

    @event(AgentStateChanged)
    def _agent_state_changed(self, old_state: str, new_state: str, meta: dict[str, Any]) -> None:
        self.agent_state = new_state

    @staticmethod
    def _check_speaker(speaker: str) -> None:
        if speaker not in SPEAKERS:
            raise InvalidCommand(f"speaker must be one of {sorted(SPEAKERS)}")

    # --- lookups and tools ---------------------------------------------------------------

    def record_vehicle_lookup(
        self,
        vin_as_said: str,
        vin: str,
        check_digit_valid: bool,
        found: bool,
        vehicle: dict[str, Any] | None,
        decoded: dict[str, Any] | None,
        meta: EventMeta,
    ) -> None:
        _text(vin_as_said, "VIN as said")
        _text(vin, "normalised VIN", limit=64, allow_empty=True)
        if found and not vehicle:
            raise InvalidCommand("a found vehicle needs its details")
        if not found and vehicle:
            raise InvalidCommand("vehicle details given for a vehicle not found")
        self._require_open(meta)
        self._vehicle_looked_up(
            vin_as_said, vin, bool(check_digit_valid), bool(found), vehicle, decoded, meta.to_dict()
        )

    @event(VehicleLookedUp)
    def _vehicle_looked_up(
        self,
        vin_as_said: str,
        vin: str,
        check_digit_valid: bool,
        found: bool,
        vehicle: dict[str, Any] | None,
        decoded: dict[str, Any] | None,
        meta: dict[str, Any],
    ) -> None:
        pass

    def record_tool_call(
        self,
        call_id: str,
        name: str,
        arguments: dict[str, Any],
        result: str | None,
        error: str | None,
        meta: EventMeta,
    ) -> None:
        _text(call_id, "tool call id", allow_empty=True)
        _text(name, "tool name", limit=100)
        if not isinstance(arguments, dict):
            raise InvalidCommand("tool arguments must be an object")
        if result is not None:
            _text(result, "tool result", limit=MAX_TEXT, allow_empty=True)
        if error is not None:
            _text(error, "tool error", limit=MAX_TEXT)
        self._require_open(meta)
        self._tool_called(call_id, name, arguments, result, error, meta.to_dict())

    @event(ToolCalled)
    def _tool_called(
        self,
        call_id: str,
        name: str,
        arguments: dict[str, Any],
        result: str | None,
        error: str | None,
        meta: dict[str, Any],
    ) -> None:
        pass

    def book_test_drive(
        self,
        booking_id: str,
        customer_name: str,
        phone: str,
        vin: str | None,
        preferred_time: str,
        meta: EventMeta,
    ) -> None:
        _text(booking_id, "booking id")
        _text(customer_name, "customer name")
        _check_phone(phone)
        _text(preferred_time, "preferred time")
        self._require_open(meta)
        self._test_drive_booked(booking_id, customer_name, phone, vin, preferred_time, meta.to_dict())

    @event(TestDriveBooked)
    def _test_drive_booked(
        self,
        booking_id: str,
        customer_name: str,
        phone: str,
        vin: str | None,
        preferred_time: str,
        meta: dict[str, Any],
    ) -> None:
        pass

    def request_callback(
        self,
        callback_id: str,
        customer_name: str,
        phone: str,
        preferred_time: str,
        topic: str,
        meta: EventMeta,
    ) -> None:
        _text(callback_id, "callback id")
        _text(customer_name, "customer name")
        _check_phone(phone)
        _text(preferred_time, "preferred time", allow_empty=True)
        _text(topic, "topic", limit=1000, allow_empty=True)
        self._require_open(meta)
        self._callback_requested(callback_id, customer_name, phone, preferred_time, topic, meta.to_dict())

    @event(CallbackRequested)
    def _callback_requested(
        self,
        callback_id: str,
        customer_name: str,
        phone: str,
        preferred_time: str,
        topic: str,
        meta: dict[str, Any],
    ) -> None:
        pass

    # --- recording -----------------------------------------------------------------------

    def request_recording(self, recording_id: str, mode: str, meta: EventMeta) -> None:
        _text(recording_id, "recording id")
        if mode not in RECORDING_MODES:
            raise InvalidCommand(f"recording mode must be one of {sorted(RECORDING_MODES)}")
        if recording_id in self.recordings:
            raise InvalidTransition(f"recording {recording_id!r} was already requested")
        self._require_open(meta)
        self._recording_requested(recording_id, mode, meta.to_dict())

    @event(RecordingRequested)
    def _recording_requested(self, recording_id: str, mode: str, meta: dict[str, Any]) -> None:
        self.recordings[recording_id] = "requested"

    def _require_unfinished(self, recording_id: str) -> None:
        _text(recording_id, "recording id")
        if self.recordings.get(recording_id) in ("completed", "failed"):
            raise InvalidTransition(f"recording {recording_id!r} already finished")

    # Recording results are late facts by nature (the egress ends after the room), so they
    # are accepted after the end, and in any order relative to each other.
    def start_recording(self, recording_id: str, egress_id: str | None, meta: EventMeta) -> None:
        self._require_unfinished(recording_id)
        if self.recordings.get(recording_id) == "started":
            raise InvalidTransition(f"recording {recording_id!r} already started")
        self._recording_started(recording_id, egress_id, meta.to_dict())

    @event(RecordingStarted)
    def _recording_started(self, recording_id: str, egress_id: str | None, meta: dict[str, Any]) -> None:
        self.recordings[recording_id] = "started"

    def update_recording(self, recording_id: str, status: str, meta: EventMeta) -> None:
        self._require_unfinished(recording_id)
        _text(status, "recording status", limit=64)
        self._recording_updated(recording_id, status, meta.to_dict())

    @event(RecordingUpdated)
    def _recording_updated(self, recording_id: str, status: str, meta: dict[str, Any]) -> None:
        self.recordings.setdefault(recording_id, "started")

    def complete_recording(
        self,
        recording_id: str,
        bucket: str,
        object_key: str,
        size_bytes: int,
        duration_s: float,
        content_type: str,
        meta: EventMeta,
    ) -> None:
        self._require_unfinished(recording_id)
        _text(bucket, "bucket", limit=63)
        _text(object_key, "object key", limit=1024)
        _text(content_type, "content type", limit=100)
        if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or size_bytes < 0:
            raise InvalidCommand("recording size must be a non-negative integer")
        duration = _non_negative(duration_s, "recording duration")
        assert duration is not None
        self._recording_completed(
            recording_id, bucket, object_key, size_bytes, duration, content_type, meta.to_dict()
        )

    @event(RecordingCompleted)
    def _recording_completed(
        self,
        recording_id: str,
        bucket: str,
        object_key: str,
        size_bytes: int,
        duration_s: float,
        content_type: str,
        meta: dict[str, Any],
    ) -> None:
        self.recordings[recording_id] = "completed"

    def fail_recording(self, recording_id: str, reason: str, meta: EventMeta) -> None:
        self._require_unfinished(recording_id)
        _text(reason, "failure reason", limit=2000)
        self._recording_failed(recording_id, reason, meta.to_dict())

    @event(RecordingFailed)
    def _recording_failed(self, recording_id: str, reason: str, meta: dict[str, Any]) -> None:
        self.recordings[recording_id] = "failed"

    # --- monitoring ----------------------------------------------------------------------

    def detect_silence(self, silent_for_s: float, meta: EventMeta) -> None:
        _non_negative(silent_for_s, "silence duration")
        if self.silence_active:
            raise InvalidTransition("silence is already being reported")
        self._require_open(meta)
        self._silence_detected(float(silent_for_s), meta.to_dict())

    @event(SilenceDetected)
    def _silence_detected(self, silent_for_s: float, meta: dict[str, Any]) -> None:
        self.silence_active = True

    def end_silence(self, silent_for_s: float, meta: EventMeta) -> None:
        _non_negative(silent_for_s, "silence duration")
        if not self.silence_active:
            raise InvalidTransition("no silence is being reported")
        self._silence_ended(float(silent_for_s), meta.to_dict())

    @event(SilenceEnded)
    def _silence_ended(self, silent_for_s: float, meta: dict[str, Any]) -> None:
        self.silence_active = False

    def start_listen_in(self, listen_id: str, supervisor: str, meta: EventMeta) -> None:
        _text(listen_id, "listen-in id")
        _text(supervisor, "supervisor")
        if listen_id in self.listen_ins:
            raise InvalidTransition(f"listen-in {listen_id!r} already started")
        self._require_open(meta)
        self._listen_in_started(listen_id, supervisor, meta.to_dict())

    @event(ListenInStarted)
    def _listen_in_started(self, listen_id: str, supervisor: str, meta: dict[str, Any]) -> None:
        self.listen_ins[listen_id] = supervisor

    def end_listen_in(self, listen_id: str, meta: EventMeta) -> None:
        _text(listen_id, "listen-in id")
        supervisor = self.listen_ins.get(listen_id)
        if supervisor is None:
            raise InvalidTransition(f"listen-in {listen_id!r} is not open")
        self._listen_in_ended(listen_id, supervisor, meta.to_dict())

    @event(ListenInEnded)
    def _listen_in_ended(self, listen_id: str, supervisor: str, meta: dict[str, Any]) -> None:
        self.listen_ins.pop(listen_id, None)

    # --- quality -------------------------------------------------------------------------

    def measure_turn(
        self,
        speech_id: str,
        meta: EventMeta,
        *,
        end_of_utterance_delay_s: float | None = None,
        llm_ttft_s: float | None = None,
        tts_ttfb_s: float | None = None,
        end_to_end_s: float | None = None,
    ) -> None:
        _text(speech_id, "speech id", allow_empty=True)
        figures = [
            _non_negative(end_of_utterance_delay_s, "end-of-utterance delay"),
            _non_negative(llm_ttft_s, "LLM time to first token"),
            _non_negative(tts_ttfb_s, "TTS time to first byte"),
            _non_negative(end_to_end_s, "end-to-end latency"),
        ]
        if all(f is None for f in figures):
            raise InvalidCommand("a latency measurement needs at least one figure")
        self._require_open(meta)
        self._turn_measured(speech_id, *figures, meta=meta.to_dict())

    @event(TurnLatencyMeasured)
    def _turn_measured(
        self,
        speech_id: str,
        end_of_utterance_delay_s: float | None,
        llm_ttft_s: float | None,
        tts_ttfb_s: float | None,
        end_to_end_s: float | None,
        meta: dict[str, Any],
    ) -> None:
        pass

    def report_error(self, component: str, message: str, recoverable: bool, meta: EventMeta) -> None:
        _text(component, "component", limit=100)
        _text(message, "error message", limit=MAX_TEXT)
        self._error_reported(component, message, bool(recoverable), meta.to_dict())

    @event(ErrorReported)
    def _error_reported(self, component: str, message: str, recoverable: bool, meta: dict[str, Any]) -> None:
        pass


def _check_phone(phone: str) -> None:
    _text(phone, "phone number", limit=32)
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7 or any(not (c.isdigit() or c in "+-() .") for c in phone):
        raise InvalidCommand("phone number must have at least 7 digits and only + - ( ) . spaces")
