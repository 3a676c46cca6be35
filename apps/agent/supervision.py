"""What a supervisor's act does to the agent: coaching goes into its context, a takeover
silences it, a barge-in silences it while the supervisor talks, a hand-back lets it answer
again, an end has it say goodbye. A caller asking for a person is recorded and answered.

The server sends each act (after recording it) as a data packet on topic
`callcenter.supervisor`; only packets from the server itself count (a participant, the
caller for one, could publish on that topic too).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, llm

from adapters.livekit.agent_control import CONTROL_TOPIC
from adapters.voice.coaching import coaching_message
from adapters.voice.escalation import CALLBACK_OFFER, HOLD_MESSAGE, asks_for_a_person
from apps.agent.facts import Facts
from domain import commands as c

log = logging.getLogger(__name__)

GOODBYE = "A colleague is ending this call now. Thank you for calling CME Auto Sales. Goodbye!"
MAX_PACKET = 4096
#: a caller's turn that ends this soon after the supervisor last spoke was for them
BARGE_QUIET_S = 1.5


class SupervisorDesk:
    """The agent's side of supervision for one call."""

    def __init__(self, session: AgentSession[Any], facts: Facts) -> None:
        self._session = session
        self._facts = facts
        self.mode = "ai"  # ai | barge | takeover | ending
        self.supervisor_identity: str | None = None
        self._supervisor_spoke_at = 0.0
        self.human_requested = False
        self.reaction_ms: list[float] = []  # from the server's send to the change, per act
        self._tasks: set[asyncio.Task[None]] = set()

    # --- from the server ---------------------------------------------------------------

    def data_received(self, packet: rtc.DataPacket) -> None:
        """The room's `data_received` handler: the server's control packets only."""
        if packet.topic != CONTROL_TOPIC:
            return
        if packet.participant is not None:
            log.warning(
                "ignoring a supervisor-control packet from participant %r",
                packet.participant.identity,
            )
            return
        if len(packet.data) > MAX_PACKET:
            log.warning("ignoring a supervisor-control packet of %d bytes", len(packet.data))
            return
        try:
            payload = json.loads(packet.data)
        except ValueError:
            log.warning("ignoring a malformed supervisor-control packet")
            return
        if isinstance(payload, dict):
            task = asyncio.get_running_loop().create_task(self.act(payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def act(self, payload: dict[str, Any]) -> None:
        action = payload.get("action")
        if action == "coach":
            await self._coach(str(payload.get("text") or ""))
        elif action in ("takeover", "barge"):
            self.mode = str(action)
            self.supervisor_identity = str(payload.get("participant_identity") or "") or None
            await self._quiet()
        elif action == "handback":
            self.mode, self.supervisor_identity = "ai", None
            self._session.generate_reply()  # back with the caller, the human part in context
        elif action == "end":
            self.mode = "ending"
            await self._quiet()
            self._session.say(GOODBYE, allow_interruptions=False)
        elif action == "escalation_expired":
            if self.human_requested and self.mode == "ai":
                self._session.say(CALLBACK_OFFER)
        else:
            log.warning("ignoring an unknown supervisor action %r", action)
            return
        sent_at = payload.get("sent_at")
        if isinstance(sent_at, (int, float)):
            self.reaction_ms.append(1000 * (time.time() - sent_at))
            log.info("supervisor %s: the agent changed %.0f ms after the server sent it",
                     action, self.reaction_ms[-1])  # fmt: skip

    async def _coach(self, guidance: str) -> None:
        if not guidance.strip():
            return
        agent = self._session.current_agent
        ctx = agent.chat_ctx.copy()
        ctx.add_message(role="system", content=coaching_message(guidance))
        await agent.update_chat_ctx(ctx)

    async def _quiet(self) -> None:
        try:
            await self._session.interrupt(force=True)
        except RuntimeError:  # nothing to interrupt, or the session is closing
            pass

    # --- from the room -----------------------------------------------------------------

    def active_speakers_changed(self, speakers: list[rtc.Participant]) -> None:
        """While a barging supervisor talks, the AI stops talking."""
        if self.mode != "barge" or self.supervisor_identity is None:
            return
        if any(p.identity == self.supervisor_identity for p in speakers):
            self._supervisor_spoke_at = time.monotonic()
            task = asyncio.get_running_loop().create_task(self._quiet())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # --- from the caller ---------------------------------------------------------------

    def may_answer(self) -> bool:
        if self.mode == "ai":
            return True
        if self.mode == "barge":
            return time.monotonic() - self._supervisor_spoke_at > BARGE_QUIET_S
        return False

    def caller_said(self, text: str, turn_ctx: llm.ChatContext) -> None:
        """A caller's finished turn, before the AI answers it: a request for a person is
        recorded once, and the reply says someone is coming."""
        if self.human_requested or self.mode != "ai" or not asks_for_a_person(text):
            return
        self.human_requested = True
        self._facts.record(c.RequestHuman, self._facts.next("human"), utterance=text[:2000])
        turn_ctx.add_message(role="system", content=coaching_message(f"say: {HOLD_MESSAGE}"))
