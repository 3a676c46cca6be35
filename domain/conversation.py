"""The `Conversation` aggregate: one per call, its id derived from the LiveKit room name.

Public methods are commands: they check the rules first and only then trigger an event,
so a refused command leaves the aggregate untouched. The event classes bound below change
state in their `apply` (see `domain/conversation_state.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain import events as ev
from domain import rules
from domain.activity import ActivityPart
from domain.erasure import ErasurePart
from domain.errors import CallAlreadyEnded, InvalidCommand, InvalidTransition, RoomUnavailable
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from domain.monitoring import MonitoringPart
from domain.recording import RecordingPart
from domain.speech import SpeechPart
from domain.supervision import SupervisionPart

#: The end reason of a call whose agent left without closing its session (its worker died).
AGENT_LOST = "agent_lost"


class Conversation(
    SpeechPart, ActivityPart, RecordingPart, MonitoringPart, SupervisionPart, ErasurePart
):
    """A call, from the token request to the last recording result.

    Lifecycle and participants live here; speech, activity, recording and monitoring
    commands come from the parts it is composed of.
    """

    Opened = ev.Opened
    CallRequestRefused = ev.CallRequestRefused
    CallerReconnected = ev.CallerReconnected

    class CallRequested(ev.CallRequested):
        def apply(self, c: Conversation) -> None:
            if c.status == "opened":
                c.status = "requested"
            c.caller_identity = self.participant_identity

    class CallStarted(ev.CallStarted):
        def apply(self, c: Conversation) -> None:
            c.started_at = datetime.fromisoformat(self.meta["occurred_at"])
            if c.status != "ended":
                c.status = "active"

    class CallEnded(ev.CallEnded):
        def apply(self, c: Conversation) -> None:
            c.ended_at = datetime.fromisoformat(self.meta["occurred_at"])
            c.status = "ended"
            c.end_reason = self.reason

    RoomFinished = ev.RoomFinished

    class AgentSessionClosed(ev.AgentSessionClosed):
        def apply(self, c: Conversation) -> None:
            c.agent_session_closed = True

    CallSummarised = ev.CallSummarised

    class ParticipantJoined(ev.ParticipantJoined):
        def apply(self, c: Conversation) -> None:
            c.participants[self.identity] = {"kind": self.kind, "present": True}
            if c.status in ("opened", "requested"):
                c.status = "active"

    class ParticipantLeft(ev.ParticipantLeft):
        def apply(self, c: Conversation) -> None:
            if self.identity in c.participants:
                c.participants[self.identity]["present"] = False

    class ParticipantConnectionAborted(ev.ParticipantConnectionAborted):
        def apply(self, c: Conversation) -> None:
            if self.identity in c.participants:
                c.participants[self.identity]["present"] = False

    TrackPublished = ev.TrackPublished
    TrackUnpublished = ev.TrackUnpublished

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
        self.end_reason: str | None = None
        self.agent_session_closed = False
        self.ending = False
        self.participants: dict[str, dict[str, Any]] = {}
        self.user_state = "listening"
        self.agent_state = "initializing"
        self.silence_active = False
        self.recordings: dict[str, str] = {}
        self.listen_ins: dict[str, str] = {}
        self.control = "ai"
        self.controller: str | None = None
        self.coaching_count = 0
        self.human_requested = False
        self.caller_identity: str | None = None
        self.erasures: dict[str, str] = {}
        self.reveals: list[tuple[str, str]] = []

    # --- lifecycle -----------------------------------------------------------------------

    def request_call(
        self, participant_identity: str, participant_name: str, meta: EventMeta
    ) -> None:
        rules.text(participant_identity, "participant identity")
        rules.text(participant_name, "participant name", allow_empty=True)
        # Knowing a room's name is no proof of being its caller: a call is requested once.
        if self.status != "opened" or self.participants:
            raise RoomUnavailable(
                f"room {self.room_name!r} already has a call; ask for a new room, or "
                "reconnect to your own call with its reconnect ticket"
            )
        self._record(Conversation.CallRequested, meta, participant_identity, participant_name)

    def reconnect_caller(self, participant_identity: str, meta: EventMeta) -> None:
        """The caller rejoins their own call (the web layer checked their ticket)."""
        rules.text(participant_identity, "participant identity")
        if participant_identity != self.caller_identity:
            raise InvalidTransition(f"{participant_identity!r} is not this call's caller")
        if self.ended_at is not None:
            raise CallAlreadyEnded(f"call in room {self.room_name!r} has ended")
        self._record(Conversation.CallerReconnected, meta, participant_identity)

    def refuse_call_request(
        self, participant_name: str, client_address: str, reason: str, meta: EventMeta
    ) -> None:
        """Record a refused token request: a security fact, recorded even after the end."""
        rules.text(participant_name, "participant name", allow_empty=True)
        rules.text(client_address, "client address", allow_empty=True)
        rules.text(reason, "reason")
        self._record(
            Conversation.CallRequestRefused, meta, participant_name, client_address, reason
        )

    def start(self, room_sid: str, meta: EventMeta) -> None:
        rules.text(room_sid, "room sid", allow_empty=True)
        self._require_open(meta)
        if self.started_at is not None:
            raise InvalidTransition(f"call in room {self.room_name!r} already started")
        self._record(Conversation.CallStarted, meta, room_sid)

    def end(self, reason: str, meta: EventMeta, duration_s: float | None = None) -> None:
        rules.text(reason, "end reason")
        if self.ended_at is not None:
            raise InvalidTransition(f"call in room {self.room_name!r} already ended")
        if duration_s is None:
            began = self.started_at or self.opened_at
            duration_s = max(0.0, (meta.occurred_at - began).total_seconds())
        duration = rules.non_negative(duration_s, "duration")
        assert duration is not None
        self._record(Conversation.CallEnded, meta, reason, duration)

    def finish_room(self, meta: EventMeta) -> None:
        """LiveKit closed the room: the end of the call unless someone recorded it already."""
        if self.ended_at is None:
            began = self.started_at or self.opened_at
            duration = max(0.0, (meta.occurred_at - began).total_seconds())
            self._record(Conversation.CallEnded, meta, "room_finished", duration)
        self._record(Conversation.RoomFinished, meta)

    def record_summary(self, text: str, model: str, meta: EventMeta) -> None:
        """An LLM's summary of the call, written once the call has ended."""
        rules.text(text, "summary", limit=rules.MAX_TEXT)
        rules.text(model, "model")
        if self.ended_at is None:
            raise InvalidTransition(f"call in room {self.room_name!r} has not ended yet")
        self._record(Conversation.CallSummarised, meta, text, model)

    def close_agent_session(self, reason: str, meta: EventMeta) -> None:
        rules.text(reason, "reason")
        self._record(Conversation.AgentSessionClosed, meta, reason)

    # --- participants --------------------------------------------------------------------

    def join(
        self, identity: str, name: str, kind: str, hidden: bool, sid: str, meta: EventMeta
    ) -> None:
        rules.text(identity, "participant identity")
        rules.text(name, "participant name", allow_empty=True)
        rules.text(sid, "participant sid", allow_empty=True)
        if kind not in rules.PARTICIPANT_KINDS:
            raise InvalidCommand(
                f"participant kind must be one of {sorted(rules.PARTICIPANT_KINDS)}"
            )
        self._require_open(meta)
        self._record(Conversation.ParticipantJoined, meta, identity, name, kind, bool(hidden), sid)

    def leave(self, identity: str, sid: str, meta: EventMeta, *, aborted: bool = False) -> None:
        rules.text(identity, "participant identity")
        rules.text(sid, "participant sid", allow_empty=True)
        # Departures may arrive before the join or after the end: they are recorded as facts.
        gone = (
            Conversation.ParticipantConnectionAborted if aborted else Conversation.ParticipantLeft
        )
        was_agent = self._present_kind(identity) == "agent"
        self._record(gone, meta, identity, sid)
        if was_agent and self._agent_lost():
            # Its worker died: nothing answers the caller and self-hosted LiveKit sends no
            # other agent, so the call is over rather than left live for ever.
            began = self.started_at or self.opened_at
            duration = max(0.0, (meta.occurred_at - began).total_seconds())
            self._record(Conversation.CallEnded, meta, AGENT_LOST, duration)

    def _present_kind(self, identity: str) -> str | None:
        seen = self.participants.get(identity)
        return seen["kind"] if seen and seen["present"] else None

    def _agent_lost(self) -> bool:
        """The agent left a live call it did not close, with the caller still there."""
        if self.ended_at is not None or self.agent_session_closed or self.ending:
            return False
        present = [p["kind"] for p in self.participants.values() if p["present"]]
        return "customer" in present and "agent" not in present

    def publish_track(
        self, identity: str, track_sid: str, kind: str, source: str, meta: EventMeta
    ) -> None:
        rules.text(identity, "participant identity")
        rules.text(track_sid, "track sid")
        if kind not in ("audio", "video"):
            raise InvalidCommand("track kind must be 'audio' or 'video'")
        rules.text(source, "track source", allow_empty=True)
        self._require_open(meta)
        self._record(Conversation.TrackPublished, meta, identity, track_sid, kind, source)

    def unpublish_track(self, identity: str, track_sid: str, meta: EventMeta) -> None:
        rules.text(identity, "participant identity")
        rules.text(track_sid, "track sid")
        self._record(Conversation.TrackUnpublished, meta, identity, track_sid)
