"""Who may be in a call: one caller per room, who alone may reconnect. Pure aggregate
rules, no database: a refused command leaves no pending event."""

from __future__ import annotations

import pytest

from domain import events as ev
from domain.conversation import Conversation
from domain.errors import CallAlreadyEnded, InvalidTransition, RoomUnavailable
from tests.factories import meta

ROOM = "call-access"


def requested() -> Conversation:
    conversation = Conversation.open(ROOM, meta("api", at=0))
    conversation.request_call("customer-ann", "Ann", meta("api", at=1))
    conversation.collect_events()
    return conversation


def test_a_room_takes_one_call_request() -> None:
    conversation = Conversation.open(ROOM, meta("api", at=0))
    conversation.request_call("customer-ann", "Ann", meta("api", at=1))
    assert [type(e).__name__ for e in conversation.collect_events()] == [
        "Opened",
        "CallRequested",
    ]
    with pytest.raises(RoomUnavailable, match="already has a call"):
        conversation.request_call("customer-eve", "Eve", meta("api", at=2))
    assert conversation.collect_events() == []


@pytest.mark.parametrize("state", ["joined", "ended"])
def test_a_room_with_people_in_it_or_ended_takes_no_request(state: str) -> None:
    conversation = Conversation.open(ROOM, meta("webhook", at=0))
    if state == "joined":
        conversation.join("agent-1", "Agent", "agent", False, "PA_1", meta("webhook", at=1))
    else:
        conversation.end("room_finished", meta("webhook", at=1))
    conversation.collect_events()
    with pytest.raises(RoomUnavailable):
        conversation.request_call("customer-eve", "Eve", meta("api", at=2))
    assert conversation.collect_events() == []


def test_a_refused_request_is_recorded_as_a_security_fact_even_after_the_end() -> None:
    conversation = requested()
    conversation.end("customer_left", meta("agent", at=5))
    conversation.collect_events()
    conversation.refuse_call_request("Eve", "203.0.113.9", "room_unavailable", meta("api", at=9))
    (refused,) = conversation.collect_events()
    assert isinstance(refused, ev.CallRequestRefused)
    assert (refused.participant_name, refused.client_address, refused.reason) == (
        "Eve",
        "203.0.113.9",
        "room_unavailable",
    )


def test_only_the_caller_reconnects_and_only_before_the_end() -> None:
    conversation = requested()
    with pytest.raises(InvalidTransition, match="not this call's caller"):
        conversation.reconnect_caller("customer-eve", meta("api", at=2))
    conversation.reconnect_caller("customer-ann", meta("api", at=3))
    (back,) = conversation.collect_events()
    assert isinstance(back, ev.CallerReconnected) and back.participant_identity == "customer-ann"
    conversation.end("customer_left", meta("agent", at=4))
    conversation.collect_events()
    with pytest.raises(CallAlreadyEnded):
        conversation.reconnect_caller("customer-ann", meta("api", at=5))
    assert conversation.collect_events() == []
