"""A supervisor's coaching in the AI's context: a system message the caller never hears.

An LLM reads it as guidance. The local dialogue policy follows two forms deterministically,
once, in its next reply: "say: X" (the reply is X) and "offer: X" (the reply ends by
offering X). Other guidance is for an LLM only.
"""

from __future__ import annotations

import re

from livekit.agents import llm

PREFIX = "Supervisor guidance for your next reply (never read this out): "
_SAY = re.compile(r"^\s*say\s*:\s*(?P<what>.+)$", re.IGNORECASE | re.DOTALL)
_OFFER = re.compile(r"^\s*offer\s*:\s*(?P<what>.+)$", re.IGNORECASE | re.DOTALL)


def coaching_message(guidance: str) -> str:
    return PREFIX + guidance.strip()


def pending_guidance(chat_ctx: llm.ChatContext) -> str | None:
    """The latest guidance given since the AI last spoke, if any."""
    guidance: str | None = None
    for item in chat_ctx.items:
        if not isinstance(item, llm.ChatMessage):
            continue
        text = (item.text_content or "").strip()
        if item.role == "system" and text.startswith(PREFIX):
            guidance = text[len(PREFIX) :]
        elif item.role == "assistant" and text:
            guidance = None  # spoken since: used up
    return guidance


def follow(reply: str, guidance: str) -> str:
    """The policy's reply with "say:" / "offer:" guidance applied (others leave it as is)."""
    if m := _SAY.match(guidance):
        return _sentence(m.group("what"))
    if m := _OFFER.match(guidance):
        offer = m.group("what").strip().rstrip(".!")
        return f"{reply.rstrip()} We can also offer you {offer}.".strip()
    return reply


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
