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

REACTION_LOG = "supervisor-control"
#: a supervisor who drops out of the call without handing back gets this long to return
DEFAULT_GRACE_S = 15.0
#: a caller waiting this long for a person is offered a callback instead
DEFAULT_ESCALATION_TIMEOUT_S = 60.0
GOODBYE = "A colleague is ending this call now. Thank you for calling CME Auto Sales. Goodbye!"
MAX_PACKET = 4096
#: a caller's turn that ends this soon after the supervisor last spoke was for them
BARGE_QUIET_S = 1.5


class SupervisorDesk:
    """The agent's side of supervision for one call."""

    def __init__(
        self,
        session: AgentSession[Any],
        facts: Facts,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        escalation_timeout_s: float = DEFAULT_ESCALATION_TIMEOUT_S,
    ) -> None:
        self._session = session
        self._facts = facts
        self.grace_s = grace_s
        self.escalation_timeout_s = escalation_timeout_s
        self.mode = "ai"  # ai | barge | takeover | ending
        self.supervisor: str | None = None  # the account acting on the call
        self.supervisor_identity: str | None = None
        self._gone: asyncio.TimerHandle | None = None  # the grace period running out
        self._waiting: asyncio.TimerHandle | None = None  # the escalation running out
        self._requested_at = 0.0
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
            self.supervisor = str(payload.get("supervisor") or "") or None
            self.supervisor_identity = str(payload.get("participant_identity") or "") or None
            self._cancel_waiting()
            await self._quiet()
        elif action == "handback":
            self._back_to_ai()
        elif action == "end":
            self.mode = "ending"
            await self._quiet()
            self._session.say(GOODBYE, allow_interruptions=False)
        else:
            log.warning("ignoring an unknown supervisor action %r", action)
            return
        sent_at = payload.get("sent_at")
        if isinstance(sent_at, (int, float)):
            changed_at = time.time()
            self.reaction_ms.append(1000 * (changed_at - sent_at))
            # the bench (`callcenter bench supervise`) reads these times
            log.info("%s %s sent_at=%.6f changed_at=%.6f: the agent changed %.0f ms after the "
                     "server sent it", REACTION_LOG, action, sent_at, changed_at,
                     self.reaction_ms[-1])  # fmt: skip

    def _back_to_ai(self) -> None:
        if self._gone is not None:
            self._gone.cancel()
            self._gone = None
        self.mode, self.supervisor, self.supervisor_identity = "ai", None, None
        self._session.generate_reply()  # back with the caller, the human part in context

    # --- no stuck states ---------------------------------------------------------------

    def participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        """The supervisor dropped out without handing back: the call returns to the AI
        after the grace period (recorded), unless they come back first."""
        if participant.identity != self.supervisor_identity or self.mode not in (
            "barge",
            "takeover",
        ):
            return
        loop = asyncio.get_running_loop()
        self._gone = loop.call_later(self.grace_s, self._supervisor_gone)

    def participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == self.supervisor_identity and self._gone is not None:
            self._gone.cancel()
            self._gone = None

    def _supervisor_gone(self) -> None:
        self._gone = None
        if self.mode not in ("barge", "takeover"):
            return
        log.warning("supervisor %s left without handing back: the AI has the call again",
                    self.supervisor)  # fmt: skip
        self._facts.record(
            c.HandBack,
            self._facts.next("handback"),
            supervisor=self.supervisor or "unknown",
            reason="supervisor_left",
        )
        self._back_to_ai()

    def _escalation_expired(self) -> None:
        self._waiting = None
        if not self.human_requested or self.mode != "ai":
            return
        waited = time.monotonic() - self._requested_at
        self._facts.record(c.ExpireEscalation, self._facts.next("escalation"), waited_s=waited)
        self.human_requested = False
        self._session.say(CALLBACK_OFFER)

    def _cancel_waiting(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None
        self.human_requested = False

    def supervisor_said(self, text: str) -> None:
        """A supervisor's words to the caller, transcribed: in the AI's context, so that
        after the hand-back it knows what was said while it was out."""
        agent = self._session.current_agent
        ctx = agent.chat_ctx.copy()
        who = self.supervisor or "a supervisor"
        ctx.add_message(role="system", content=f"Your colleague {who} told the caller: {text}")
        task = asyncio.get_running_loop().create_task(agent.update_chat_ctx(ctx))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        self._requested_at = time.monotonic()
        self._waiting = asyncio.get_running_loop().call_later(
            self.escalation_timeout_s, self._escalation_expired
        )
        self._facts.record(c.RequestHuman, self._facts.next("human"), utterance=text[:2000])
        turn_ctx.add_message(role="system", content=coaching_message(f"say: {HOLD_MESSAGE}"))
