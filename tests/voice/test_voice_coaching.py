"""A supervisor's coaching in the local policy's replies, and a caller asking for a person."""

from __future__ import annotations

import pytest
from livekit.agents import llm

from adapters.voice.coaching import coaching_message, follow, pending_guidance
from adapters.voice.dialogue_policy import DealershipDialoguePolicy
from adapters.voice.escalation import asks_for_a_person
from adapters.voice.policy_stream import ReplyDecision


def _ctx(*items: tuple[str, str]) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    for role, text in items:
        ctx.add_message(role=role, content=text)  # type: ignore[arg-type]
    return ctx


def test_guidance_holds_until_the_ai_next_speaks() -> None:
    ctx = _ctx(("assistant", "Welcome!"), ("system", coaching_message("say: we close at six")))
    assert pending_guidance(ctx) == "say: we close at six"
    ctx.add_message(role="user", content="when do you close")
    assert pending_guidance(ctx) == "say: we close at six"
    ctx.add_message(role="assistant", content="We close at six.")
    assert pending_guidance(ctx) is None
    assert pending_guidance(_ctx(("system", "You are a sales assistant."))) is None


def test_say_replaces_the_reply_and_offer_ends_it() -> None:
    assert follow("Sure.", "say: we close at six") == "we close at six."
    assert follow("Sure.", "SAY:  One moment please!") == "One moment please!"
    assert follow("We have three RAV4s.", "offer: the 2.9 % financing.") == (
        "We have three RAV4s. We can also offer you the 2.9 % financing."
    )
    assert follow("We have three RAV4s.", "be warmer") == "We have three RAV4s."


def test_the_policy_follows_coaching_in_its_next_reply_only() -> None:
    policy = DealershipDialoguePolicy()
    ctx = _ctx(
        ("assistant", "Welcome to CME Auto Sales! How can I help you today?"),
        ("system", coaching_message("offer: a free first service")),
        ("user", "what are your opening hours"),
    )
    decision = policy.decide(ctx, ())
    assert isinstance(decision, ReplyDecision)
    assert decision.text.endswith("We can also offer you a free first service.")
    ctx.add_message(role="assistant", content=decision.text)
    ctx.add_message(role="user", content="thanks, and where are you")
    later = policy.decide(ctx, ())
    assert isinstance(later, ReplyDecision) and "free first service" not in later.text


@pytest.mark.parametrize(
    "said",
    [
        "can I talk to someone",
        "A human please.",
        "I want to speak to a real person",
        "get me a representative",
        "Could you connect me with a salesperson?",
        "is there a live person I can talk to",
        "I need a human",
    ],
)
def test_asking_for_a_person(said: str) -> None:
    assert asks_for_a_person(said)


@pytest.mark.parametrize(
    "said",
    [
        "do you offer personal loans",
        "the person who sold me my last car was great",
        "is the Camry a good car for someone with a family",
        "I'll talk to my wife first",
        "what's the human cost of a long commute",
    ],
)
def test_not_asking_for_a_person(said: str) -> None:
    assert not asks_for_a_person(said)
