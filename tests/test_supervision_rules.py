"""Supervisors acting on a call, as aggregate rules (no database): who may act, in which
order, and that a refused act records nothing."""

from __future__ import annotations

import pytest

from domain.conversation import Conversation
from domain.errors import CallAlreadyEnded, InvalidCommand, InvalidTransition
from tests.factories import meta

ROOM = "call-supervised"


def live() -> Conversation:
    conversation = Conversation.open(ROOM, meta("api", at=0))
    conversation.request_call("customer-ann", "Ann", meta("api", at=1))
    conversation.collect_events()
    return conversation


def kinds(conversation: Conversation) -> list[str]:
    return [type(e).__name__ for e in conversation.collect_events()]


def test_coaching_notes_are_numbered_and_checked() -> None:
    call = live()
    call.coach("sue", "offer: the 2.9 % financing", meta("api", at=2))
    call.coach("bob", "say: we close at six", meta("api", at=3))
    events = call.collect_events()
    assert [(e.supervisor, e.position) for e in events] == [("sue", 1), ("bob", 2)]
    for text in ("", "   ", "x" * 501):
        with pytest.raises(InvalidCommand):
            call.coach("sue", text, meta("api", at=4))
    assert call.collect_events() == []


def test_one_supervisor_takes_a_call_over_and_hands_it_back() -> None:
    call = live()
    call.take_over("sue", "supervisor-sue-1", "takeover", meta("api", at=2))
    assert (call.control, call.controller) == ("takeover", "sue")
    with pytest.raises(InvalidTransition, match="sue is already acting"):
        call.take_over("bob", "supervisor-bob-1", "takeover", meta("api", at=3))
    with pytest.raises(InvalidTransition, match="sue is already acting"):
        call.barge_in("bob", "supervisor-bob-1", meta("api", at=3))
    with pytest.raises(InvalidTransition, match="already taken"):
        call.take_over("sue", "supervisor-sue-2", "takeover", meta("api", at=3))
    call.hand_back("sue", "supervisor", meta("api", at=4))
    assert call.control == "ai" and call.controller is None
    with pytest.raises(InvalidTransition, match="nothing to hand back"):
        call.hand_back("sue", "supervisor", meta("api", at=5))
    assert kinds(call) == ["SupervisorTookOver", "CallHandedBack"]


def test_a_barging_supervisor_may_then_take_over() -> None:
    call = live()
    call.barge_in("sue", "supervisor-sue-1", meta("api", at=2))
    with pytest.raises(InvalidTransition, match="already in the call"):
        call.barge_in("sue", "supervisor-sue-1", meta("api", at=3))
    call.take_over("sue", "supervisor-sue-1", "takeover", meta("api", at=3))
    call.hand_back("sue", "supervisor_left", meta("api", at=4))
    assert kinds(call) == ["SupervisorBargedIn", "SupervisorTookOver", "CallHandedBack"]


def test_an_escalation_is_accepted_once_and_only_when_asked_for() -> None:
    call = live()
    with pytest.raises(InvalidTransition, match="not asked for a person"):
        call.take_over("sue", "supervisor-sue-1", "escalation", meta("api", at=2))
    call.request_human("can I talk to a real person", meta("agent", at=3))
    assert call.human_requested
    with pytest.raises(InvalidTransition, match="already been asked"):
        call.request_human("a human please", meta("agent", at=4))
    call.take_over("sue", "supervisor-sue-1", "escalation", meta("api", at=5))
    assert not call.human_requested
    with pytest.raises(InvalidTransition):
        call.take_over("bob", "supervisor-bob-1", "escalation", meta("api", at=6))
    assert kinds(call) == ["HumanRequested", "SupervisorTookOver"]


def test_nothing_is_done_to_an_ended_call() -> None:
    call = live()
    call.end("completed", meta("webhook", at=2))
    call.collect_events()
    for act in (
        lambda: call.coach("sue", "say: hello", meta("api", at=3)),
        lambda: call.take_over("sue", "supervisor-sue-1", "takeover", meta("api", at=3)),
        lambda: call.barge_in("sue", "supervisor-sue-1", meta("api", at=3)),
        lambda: call.end_by_supervisor("sue", meta("api", at=3)),
        lambda: call.request_human("a person please", meta("agent", at=3)),
    ):
        with pytest.raises(CallAlreadyEnded):
            act()
    assert call.collect_events() == []


def test_the_timeline_cuts_the_call_into_ai_supervisor_and_both() -> None:
    from projections.replay import build_timeline

    call = Conversation.open(ROOM, meta("api", at=0))
    call.request_call("customer-ann", "Ann", meta("api", at=1))
    call.barge_in("sue", "supervisor-sue-1", meta("api", at=10))
    call.take_over("sue", "supervisor-sue-1", "takeover", meta("api", at=20))
    call.hand_back("sue", "supervisor", meta("api", at=30))
    call.end("completed", meta("webhook", at=40))
    events = list(enumerate(call.collect_events(), start=1))
    spans = build_timeline(call.id, events).control_spans
    assert [s["who"] for s in spans] == ["AI", "both", "supervisor", "AI"]
    bounds = [(s["from_s"], s["to_s"]) for s in spans]
    assert all(a < b for a, b in bounds) and bounds[0][0] == 0.0
    assert [b for _, b in bounds[:-1]] == [a for a, _ in bounds[1:]]  # no gap, no overlap
