"""The agent's side of supervision without a room (the real room: tests/e2e/
test_supervision.py): whose packets count, the grace period after a supervisor drops out,
and a caller left waiting for a person."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from livekit.agents import llm

from adapters.livekit.agent_control import CONTROL_TOPIC
from adapters.voice.escalation import CALLBACK_OFFER
from apps.agent.facts import Facts
from apps.agent.supervision import SupervisorDesk
from domain import commands as c


@dataclass
class SessionDouble:
    """What the desk asks of an AgentSession, noted."""

    said: list[str] = field(default_factory=list)
    replies: int = 0
    interrupts: int = 0

    def say(self, text: str, **_: Any) -> None:
        self.said.append(text)

    def generate_reply(self, **_: Any) -> None:
        self.replies += 1

    def interrupt(self, *, force: bool = False) -> asyncio.Future[None]:
        self.interrupts += 1
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def desk(**kw: float) -> tuple[SupervisorDesk, SessionDouble, list[c.Command]]:
    recorded: list[c.Command] = []
    session = SessionDouble()
    facts = Facts("call-desk", "job-1", recorded.append)
    return SupervisorDesk(session, facts, **kw), session, recorded  # type: ignore[arg-type]


def packet(payload: dict[str, Any], *, sender: str | None = None) -> Any:
    participant = None if sender is None else SimpleNamespace(identity=sender)
    return SimpleNamespace(
        topic=CONTROL_TOPIC, data=json.dumps(payload).encode(), participant=participant
    )


async def test_only_the_servers_packets_count() -> None:
    d, session, _ = desk()
    d.data_received(packet({"action": "takeover", "supervisor": "eve"}, sender="customer-1"))
    await asyncio.sleep(0.05)
    assert d.mode == "ai" and session.interrupts == 0 and d.may_answer()
    d.data_received(
        packet(
            {"action": "takeover", "supervisor": "sue", "participant_identity": "supervisor-sue-1"}
        )
    )
    await asyncio.sleep(0.05)
    assert d.mode == "takeover" and session.interrupts == 1 and not d.may_answer()


async def test_a_supervisor_who_drops_out_hands_back_after_the_grace_period() -> None:
    d, session, recorded = desk(grace_s=0.1)
    await d.act(
        {"action": "takeover", "supervisor": "sue", "participant_identity": "supervisor-sue-1"}
    )
    sue = SimpleNamespace(identity="supervisor-sue-1")
    d.participant_disconnected(sue)  # type: ignore[arg-type]
    d.participant_connected(sue)  # type: ignore[arg-type]  # back in time
    await asyncio.sleep(0.2)
    assert d.mode == "takeover" and recorded == []
    d.participant_disconnected(sue)  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    assert d.mode == "ai" and session.replies == 1
    [handback] = recorded
    assert isinstance(handback, c.HandBack)
    assert (handback.supervisor, handback.reason) == ("sue", "supervisor_left")


async def test_a_caller_left_waiting_for_a_person_is_offered_a_callback() -> None:
    d, session, recorded = desk(escalation_timeout_s=0.1)
    turn = llm.ChatContext.empty()
    d.caller_said("can I talk to a real person", turn)
    d.caller_said("hello? a human please", turn)  # asked once is enough
    assert [type(x).__name__ for x in recorded] == ["RequestHuman"]
    assert "getting a colleague" in (turn.items[-1].text_content or "")  # type: ignore[union-attr]
    await asyncio.sleep(0.2)
    assert [type(x).__name__ for x in recorded] == ["RequestHuman", "ExpireEscalation"]
    assert session.said == [CALLBACK_OFFER]


async def test_an_accepted_escalation_does_not_expire() -> None:
    d, session, recorded = desk(escalation_timeout_s=0.1)
    d.caller_said("get me a representative", llm.ChatContext.empty())
    await d.act(
        {"action": "takeover", "supervisor": "sue", "participant_identity": "supervisor-sue-2"}
    )
    await asyncio.sleep(0.2)
    assert [type(x).__name__ for x in recorded] == ["RequestHuman"] and session.said == []
