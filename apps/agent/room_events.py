"""Room events as domain commands: who joined and left, which tracks were published.

It also notices the customer's first audio track (recording starts then) and the
customer's departure (the end of the call, as far as the agent can tell).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from livekit import rtc

from apps.agent.facts import Facts
from domain import commands as c

log = logging.getLogger(__name__)


def participant_kind(p: rtc.Participant) -> str:
    """As the webhooks classify them: agent, customer, supervisor or other."""
    if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
        return "agent"
    role = p.attributes.get("role")
    if not role and p.metadata:
        try:
            data = json.loads(p.metadata)
            role = data.get("role") if isinstance(data, dict) else None
        except ValueError:
            role = None
    return role if role in ("customer", "supervisor") else "other"


def _is_caller(p: rtc.Participant) -> bool:
    # a participant with no role is whoever joined the call, unless it is a service
    kind = participant_kind(p)
    service = p.kind in (
        rtc.ParticipantKind.PARTICIPANT_KIND_EGRESS,
        rtc.ParticipantKind.PARTICIPANT_KIND_INGRESS,
    )
    return kind == "customer" or kind == "other" and not service


class RoomEvents:
    def __init__(self, facts: Facts, on_customer_audio: Callable[[], None]) -> None:
        self._facts = facts
        self._on_customer_audio = on_customer_audio
        self.customer_audio_at: float | None = None
        self.customer_left_at: float | None = None
        self.room_ended_at: float | None = None
        self.end_reason: str | None = None

    def attach(self, room: rtc.Room) -> None:
        """Before connecting, so that nothing is missed."""
        room.on("participant_connected", self._joined)
        room.on("participant_disconnected", self._left)
        room.on("track_published", self._published)
        room.on("track_unpublished", self._unpublished)
        room.on("disconnected", self._disconnected)

    def connected(self, room: rtc.Room) -> None:
        """Record the agent itself and whoever was there before it."""
        me = room.local_participant
        self._facts.record(
            c.JoinParticipant,
            f"join/{me.sid or me.identity}",
            identity=me.identity,
            name=me.name,
            kind="agent",
            sid=me.sid,
        )
        for p in list(room.remote_participants.values()):
            self._joined(p)
            for pub in list(p.track_publications.values()):
                self._published(pub, p)

    def agent_left(self, room: rtc.Room) -> None:
        me = room.local_participant
        self._facts.record(
            c.LeaveParticipant, f"leave/{me.sid or me.identity}", identity=me.identity, sid=me.sid
        )

    def _joined(self, p: rtc.RemoteParticipant) -> None:
        if _is_caller(p) and self.end_reason == "customer_left":
            # The caller is back (a reconnect ticket, or LiveKit replacing a dropped
            # connection of the same identity): the call goes on.
            self.customer_left_at = self.end_reason = None
        self._facts.record(
            c.JoinParticipant,
            f"join/{p.sid or p.identity}",
            identity=p.identity,
            name=p.name,
            kind=participant_kind(p),
            sid=p.sid,
        )

    def _left(self, p: rtc.RemoteParticipant) -> None:
        self._facts.record(
            c.LeaveParticipant, f"leave/{p.sid or p.identity}", identity=p.identity, sid=p.sid
        )
        if _is_caller(p) and self.customer_left_at is None:
            self.customer_left_at = time.time()
            self.end_reason = "customer_left"

    def _published(self, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        audio = pub.kind == rtc.TrackKind.KIND_AUDIO
        self._facts.record(
            c.PublishTrack,
            f"track/{pub.sid}",
            identity=p.identity,
            track_sid=pub.sid,
            kind="audio" if audio else "video",
            source=rtc.TrackSource.Name(pub.source).removeprefix("SOURCE_").lower(),
        )
        if audio and _is_caller(p) and self.customer_audio_at is None:
            self.customer_audio_at = time.time()
            self._on_customer_audio()

    def _unpublished(self, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        self._facts.record(
            c.UnpublishTrack, f"untrack/{pub.sid}", identity=p.identity, track_sid=pub.sid
        )

    def _disconnected(self, reason: rtc.DisconnectReason.ValueType) -> None:
        name = rtc.DisconnectReason.Name(reason).lower()
        log.info("room disconnected: %s", name)
        if name in ("room_deleted", "room_closed") and self.room_ended_at is None:
            self.room_ended_at = time.time()
            self.end_reason = self.end_reason or name
