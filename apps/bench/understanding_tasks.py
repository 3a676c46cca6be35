"""Scripted caller dialogues through the dealership dialogue policy and the real tools.

Each dialogue's turns go, as text, into an `AgentSession` whose LLM is the dealership
dialogue policy and whose agent is the real `DealershipAssistant` on the real
`DealershipServices` (the demo inventory, VIN checks, booking rules); its facts go to a
list instead of the event store. What the caller said reaches the session as the
recogniser heard it; the text path hands over the script itself (the ceiling).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import AgentSession, llm
from livekit.agents.voice.run_result import RunResult

from apps.agent.assistant import DealershipAssistant
from apps.agent.facts import Facts
from apps.bench.understanding_set import Dialogue
from apps.usecases.dealership import DealershipServices


@dataclass
class DialogueOutcome:
    dialogue: Dialogue
    path: str
    heard: list[str]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return any(matches(self.dialogue, name, args) for name, args in self.calls)

    def failure(self) -> str:
        """Why it failed, in a few words: no call, another tool, or the wrong arguments."""
        mine = [args for name, args in self.calls if name == self.dialogue.tool]
        if not self.calls:
            return "no tool called"
        if not mine:
            return "called " + ", ".join(name for name, _ in self.calls)
        wrong = [
            f"{k}={mine[-1].get(k)!r} (said {v!r})"
            for k, v in self.dialogue.expected.items()
            if not _equal(k, mine[-1].get(k), v)
        ]
        return "wrong " + "; ".join(wrong)

    def wrong_arguments(self) -> list[str]:
        mine = [args for name, args in self.calls if name == self.dialogue.tool]
        if not mine:
            return []
        return [k for k, v in self.dialogue.expected.items() if not _equal(k, mine[-1].get(k), v)]


def _equal(key: str, got: Any, want: Any) -> bool:
    if key == "customer_name" and isinstance(got, str):
        return got.casefold() == str(want).casefold()
    return bool(got == want)


def matches(dialogue: Dialogue, name: str, args: dict[str, Any]) -> bool:
    return name == dialogue.tool and all(
        _equal(k, args.get(k), v) for k, v in dialogue.expected.items()
    )


async def run_dialogue(
    policy: llm.LLM[Any], services: DealershipServices, dialogue: Dialogue, heard: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls the agent made while the caller said `heard`, turn by turn."""
    recorded: list[Any] = []
    key = uuid.uuid4().hex[:8]
    assistant = DealershipAssistant(Facts(f"bench-{key}", key, recorded.append), services)
    calls: list[tuple[str, dict[str, Any]]] = []
    async with AgentSession[None](llm=policy) as session:
        await session.start(assistant)
        for text in heard:
            if not text.strip():  # nothing heard: the caller's turn never reaches the agent
                continue
            result: RunResult[None] = await session.run(user_input=text)
            for event in result.events:
                if event.type == "function_call":
                    calls.append((event.item.name, json.loads(event.item.arguments or "{}")))
    return calls
