"""Supervisors acting on a live call: coach the AI, barge in, take over, hand back, end it,
and accept a caller's request for a person.

Each act is recorded first (the domain refuses what the call's state does not allow), then
takes effect: the agent is told over LiveKit, and a supervisor who will speak gets a token
that may publish audio in that one room. If LiveKit fails after the record, the act stays
recorded and :class:`LiveKitUnavailable` says the effect may not have happened.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from eventsourcing.application import AggregateNotFoundError

from adapters.call_center import GroupCommitCallCenter
from adapters.livekit.agent_control import AgentControl
from adapters.livekit.tokens import LiveKitSettings, speaking_token
from domain import commands as c
from domain.conversation import AGENT_LOST
from domain.errors import DomainError
from domain.meta import EventMeta

log = logging.getLogger(__name__)

#: How long the agent has to say goodbye before the room is closed under it
END_GRACE_S = 3.0


@dataclass(frozen=True)
class SpeakingGrant:
    token: str
    livekit_url: str
    room_name: str
    participant_identity: str


class Supervision:
    def __init__(
        self,
        app: GroupCommitCallCenter,
        livekit: LiveKitSettings,
        control: AgentControl | None = None,
        *,
        end_grace_s: float = END_GRACE_S,
    ) -> None:
        self.app, self.livekit = app, livekit
        self.control = control or AgentControl(livekit)
        self.end_grace_s = end_grace_s
        self._closing: set[asyncio.Task[None]] = set()

    @staticmethod
    def _meta(supervisor: str) -> EventMeta:
        return EventMeta(source="supervisor", correlation_id=supervisor)

    async def coach(self, room_name: str, supervisor: str, text: str) -> int:
        """Guidance for the AI's next replies; the caller never hears it. Its position in
        the event log."""
        text = text.strip()
        outcome = await self.app.record_async(
            c.CoachAgent(
                room_name=room_name, meta=self._meta(supervisor), supervisor=supervisor, text=text
            )  # fmt: skip
        )
        position = outcome.position or 0
        await self.control.tell_agent(
            room_name, "coach", supervisor=supervisor, text=text, position=position
        )
        return position

    async def barge_in(self, room_name: str, supervisor: str) -> SpeakingGrant:
        identity = self._identity(supervisor)
        await self.app.record_async(
            c.BargeIn(
                room_name=room_name,
                meta=self._meta(supervisor),
                supervisor=supervisor,
                participant_identity=identity,
            )  # fmt: skip
        )
        await self.control.tell_agent(
            room_name, "barge", supervisor=supervisor, participant_identity=identity
        )
        return self._grant(room_name, supervisor, identity)

    async def take_over(
        self, room_name: str, supervisor: str, *, via: str = "takeover"
    ) -> SpeakingGrant:
        identity = self._identity(supervisor)
        await self.app.record_async(
            c.TakeOver(
                room_name=room_name,
                meta=self._meta(supervisor),
                supervisor=supervisor,
                participant_identity=identity,
                via=via,
            )  # fmt: skip
        )
        await self.control.tell_agent(
            room_name, "takeover", supervisor=supervisor, participant_identity=identity
        )
        return self._grant(room_name, supervisor, identity)

    async def hand_back(self, room_name: str, supervisor: str, reason: str = "supervisor") -> None:
        await self.app.record_async(
            c.HandBack(
                room_name=room_name,
                meta=self._meta(supervisor),
                supervisor=supervisor,
                reason=reason,
            )  # fmt: skip
        )
        await self.control.tell_agent(room_name, "handback", supervisor=supervisor)

    async def end(self, room_name: str, supervisor: str) -> None:
        """The agent says goodbye; the room closes ``end_grace_s`` later, agent or not."""
        await self.app.record_async(
            c.EndCallBySupervisor(
                room_name=room_name, meta=self._meta(supervisor), supervisor=supervisor
            )  # fmt: skip
        )
        told = await self.control.tell_agent(room_name, "end", supervisor=supervisor)
        task = asyncio.create_task(self._close_room(room_name, self.end_grace_s if told else 0))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close_room_if_agent_lost(self, room_name: str) -> bool:
        """Close the room of a call that ended because its agent was lost, so the caller
        is not left waiting in silence (self-hosted LiveKit sends no other agent)."""
        try:
            conversation = await asyncio.to_thread(self.app.conversation_for_room, room_name)
        except (AggregateNotFoundError, DomainError):  # no such call, or no valid room name
            return False
        if conversation.end_reason != AGENT_LOST:
            return False
        log.warning("the agent of room %s was lost mid-call: closing the room", room_name)
        await self._close_room(room_name, 0)
        return True

    async def _close_room(self, room_name: str, after_s: float) -> None:
        await asyncio.sleep(after_s)
        try:
            await self.control.delete_room(room_name)
        except Exception:  # the webhook or the agent's own end closes it too
            log.exception("could not close room %s", room_name)

    def _identity(self, supervisor: str) -> str:
        return f"supervisor-{supervisor}-{uuid.uuid4().hex[:6]}"

    def _grant(self, room_name: str, supervisor: str, identity: str) -> SpeakingGrant:
        return SpeakingGrant(
            token=speaking_token(self.livekit, room_name, identity, supervisor),
            livekit_url=self.livekit.url,
            room_name=room_name,
            participant_identity=identity,
        )
