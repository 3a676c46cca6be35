"""Every domain event renders to its SSE messages without error."""

from __future__ import annotations

from apps.web.messages import call_message, dashboard_message
from domain import events as ev
from tests.factories import conversations_of_every_kind

ROOM = "call-render"


def _all_events() -> list[object]:
    return [e for conv in conversations_of_every_kind(ROOM).values() for e in conv.collect_events()]


def test_every_event_renders() -> None:
    kinds = set()
    for position, event in enumerate(_all_events(), start=1):
        for render in (call_message, dashboard_message):
            m = render(position, event)
            if m is not None:
                assert m.id == position
                kinds.add(m.event)
    assert kinds >= {
        "interim",
        "final",
        "reply",
        "state",
        "lookup",
        "tool",
        "silence",
        "recording",
        "participant",
        "conversation",
        "latency",
    }


def test_participant_messages_carry_kind_and_action() -> None:
    events = _all_events()
    joined = next(e for e in events if isinstance(e, ev.ParticipantJoined))
    m = call_message(3, joined)
    assert m is not None and m.event == "participant"
    assert m.data["action"] == "joined" and m.data["kind"] == "customer"
    assert m.data["source"] == joined.meta["source"] != ""
