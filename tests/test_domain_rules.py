"""The domain's rules: refused commands raise the domain's errors and record nothing.

Pure rules: the application service runs on an event store in memory, no PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from domain import commands as c
from domain.application import CallCenter
from domain.errors import CallAlreadyEnded, DomainError, InvalidCommand, InvalidTransition
from domain.ids import conversation_id_for_room
from tests.factories import meta
from tests.in_memory_store import IN_MEMORY_ENV, InMemoryRecorder

ROOM = "call-rules"


@pytest.fixture
def app() -> Iterator[CallCenter]:
    application = CallCenter(env=IN_MEMORY_ENV)
    assert isinstance(application.recorder, InMemoryRecorder)
    try:
        yield application
    finally:
        application.close()


def _event_count(app: CallCenter, room: str = ROOM) -> int:
    return len(app.store.select_log(conversation_id_for_room(room)))


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (
            c.RecordFinalTranscript(room_name=ROOM, meta=meta(), speaker="customer", text="   "),
            InvalidCommand,
        ),
        (
            c.RecordFinalTranscript(
                room_name=ROOM, meta=meta(), speaker="customer", text="hi", confidence=1.5
            ),
            InvalidCommand,
        ),
        (
            c.RecordFinalTranscript(
                room_name=ROOM, meta=meta(), speaker="customer", text="hi", confidence=-0.1
            ),
            InvalidCommand,
        ),
        (
            c.RecordFinalTranscript(room_name=ROOM, meta=meta(), speaker="robot", text="hi"),
            InvalidCommand,
        ),
        (
            c.RecordFinalTranscript(
                room_name=ROOM, meta=meta(), speaker="customer", text="hi", start_time=3, end_time=1
            ),
            InvalidCommand,
        ),
        (
            c.RecordInterimTranscript(room_name=ROOM, meta=meta(), speaker="customer", text=""),
            InvalidCommand,
        ),
        (c.ChangeAgentState(room_name=ROOM, meta=meta(), new_state="dancing"), InvalidCommand),
        (
            c.JoinParticipant(room_name=ROOM, meta=meta(), identity="x", kind="alien"),
            InvalidCommand,
        ),
        (
            c.RecordVehicleLookup(
                room_name=ROOM,
                meta=meta(),
                vin_as_said="abc",
                vin="ABC",
                check_digit_valid=False,
                found=True,
            ),
            InvalidCommand,
        ),
        (
            c.RecordVehicleLookup(
                room_name=ROOM,
                meta=meta(),
                vin_as_said="abc",
                vin="ABC",
                check_digit_valid=False,
                found=False,
                channel="fax",  # a VIN is said aloud or typed on the page
            ),
            InvalidCommand,
        ),
        (
            c.CompleteRecording(
                room_name=ROOM,
                meta=meta(),
                recording_id="r",
                bucket="b",
                object_key="k",
                size_bytes=-1,
                duration_s=1,
                content_type="audio/ogg",
            ),
            InvalidCommand,
        ),
        (c.MeasureTurn(room_name=ROOM, meta=meta()), InvalidCommand),
        (
            c.BookTestDrive(
                room_name=ROOM,
                meta=meta(),
                booking_id="b",
                customer_name="Ann",
                phone="call me",
                preferred_time="Sat",
            ),
            InvalidCommand,
        ),
        (c.EndSilence(room_name=ROOM, meta=meta(), silent_for_s=3), InvalidTransition),
        (c.EndListenIn(room_name=ROOM, meta=meta(), listen_id="nope"), InvalidTransition),
        (c.StartCall(room_name="bad room name!", meta=meta()), InvalidCommand),
        # Text PostgreSQL cannot hold (found by the webhook fuzzer: a NUL in an identity
        # became a key of the conversations row's jsonb and stopped the projection).
        (
            c.JoinParticipant(room_name=ROOM, meta=meta(), identity="dana\x00", kind="customer"),
            InvalidCommand,
        ),
        (
            c.RecordFinalTranscript(room_name=ROOM, meta=meta(), speaker="customer", text="a\x00"),
            InvalidCommand,
        ),
    ],
)
def test_invalid_commands_raise_and_record_nothing(
    app: CallCenter, command: c.Command, error: type[DomainError]
) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook"), room_sid="RM_1"))
    before = _event_count(app)
    with pytest.raises(error) as raised:
        app.record(command)
    assert raised.value.message
    assert _event_count(app) == before


def test_a_refused_first_command_creates_no_conversation(app: CallCenter) -> None:
    with pytest.raises(InvalidCommand):
        app.record(
            c.RecordFinalTranscript(room_name="call-new", meta=meta(), speaker="customer", text="")
        )
    assert _event_count(app, "call-new") == 0


def test_after_the_end_only_late_facts_are_accepted(app: CallCenter) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook", at=0)))
    app.record(c.EndCall(room_name=ROOM, meta=meta("webhook", at=60), reason="room_finished"))
    ended = _event_count(app)
    with pytest.raises(CallAlreadyEnded):
        app.record(
            c.RecordFinalTranscript(
                room_name=ROOM, meta=meta(at=61), speaker="customer", text="late"
            )
        )
    with pytest.raises(InvalidTransition):
        app.record(c.EndCall(room_name=ROOM, meta=meta("agent", at=62), reason="agent_shutdown"))
    assert _event_count(app) == ended
    # A buffered agent event about the call itself, a departure and a recording result are facts.
    app.record(
        c.RecordFinalTranscript(
            room_name=ROOM, meta=meta(at=30), speaker="customer", text="from during the call"
        )
    )
    app.record(c.LeaveParticipant(room_name=ROOM, meta=meta("webhook", at=65), identity="cust"))
    app.record(
        c.CompleteRecording(
            room_name=ROOM,
            meta=meta("webhook", at=90),
            recording_id="r1",
            bucket="recordings",
            object_key="k.ogg",
            size_bytes=1000,
            duration_s=59.5,
            content_type="audio/ogg",
        )
    )
    assert _event_count(app) == ended + 3
    with pytest.raises(InvalidTransition):
        app.record(c.StartRecording(room_name=ROOM, meta=meta("webhook", at=91), recording_id="r1"))


def test_duration_is_derived_from_the_start(app: CallCenter) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook", at=0)))
    app.record(c.EndCall(room_name=ROOM, meta=meta("webhook", at=42.5), reason="room_finished"))
    conversation = app.conversation_for_room(ROOM)
    assert conversation.status == "ended"
    event = app.log_of(conversation.id)[-1][1]
    assert event.duration_s == pytest.approx(42.5)  # type: ignore[attr-defined]


def test_every_event_carries_its_metadata(app: CallCenter) -> None:
    app.record(
        c.StartCall(room_name=ROOM, meta=meta("webhook", external_id="EV_1", at=5), room_sid="RM_9")
    )
    _, event = app.log_of(conversation_id_for_room(ROOM))[-1]
    m = event.meta  # type: ignore[attr-defined]
    assert m["source"] == "webhook"
    assert m["external_id"] == "EV_1"
    assert m["correlation_id"]
    assert m["occurred_at"].startswith("2026-11-22T09:00:05")


def test_a_recording_request_after_its_egress_webhooks_is_a_late_fact(app: CallCenter) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook", at=0)))
    app.record(
        c.StartRecording(
            room_name=ROOM, meta=meta("webhook", at=2), recording_id="EG_1", egress_id="EG_1"
        )
    )
    app.record(
        c.RequestRecording(
            room_name=ROOM, meta=meta("agent", at=1), recording_id="EG_1", mode="egress"
        )
    )
    assert app.conversation_for_room(ROOM).recordings["EG_1"] == "started"
    with pytest.raises(InvalidTransition):
        app.record(
            c.RequestRecording(
                room_name="call-other", meta=meta("agent"), recording_id="R", mode="agent"
            )
        )
        app.record(
            c.RequestRecording(
                room_name="call-other", meta=meta("agent"), recording_id="R", mode="agent"
            )
        )


def test_room_finished_ends_the_call_once_whoever_ends_it_first(app: CallCenter) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook", at=0)))
    app.record(c.EndCall(room_name=ROOM, meta=meta("agent", at=30), reason="customer_left"))
    app.record(c.FinishRoom(room_name=ROOM, meta=meta("webhook", "EV_fin", at=35)))
    names = [type(e).__name__ for _, e in app.log_of(conversation_id_for_room(ROOM))]
    assert names.count("CallEnded") == 1 and names[-1] == "RoomFinished"
    app.record(c.FinishRoom(room_name="call-fin-2", meta=meta("webhook", at=10)))
    names = [type(e).__name__ for _, e in app.log_of(conversation_id_for_room("call-fin-2"))]
    assert names == ["Opened", "CallEnded", "RoomFinished"]


def test_metadata_ids_with_a_nul_are_refused() -> None:
    from domain.meta import EventMeta

    with pytest.raises(InvalidCommand):
        EventMeta(source="webhook", external_id="EV_\x00")
    with pytest.raises(InvalidCommand):
        EventMeta(source="agent", correlation_id="c\x00")


def _call_with_agent(app: CallCenter, room: str) -> None:
    app.record(c.StartCall(room_name=room, meta=meta("webhook", at=0)))
    for identity, kind in (("customer-1", "customer"), ("agent-AJ_1", "agent")):
        app.record(
            c.JoinParticipant(
                room_name=room, meta=meta("webhook", at=1), identity=identity, kind=kind
            )
        )


def _ends(app: CallCenter, room: str) -> list[tuple[str, float]]:
    log = app.log_of(conversation_id_for_room(room))
    return [(e.reason, e.duration_s) for _, e in log if type(e).__name__ == "CallEnded"]  # type: ignore[attr-defined]


def test_an_agent_that_leaves_without_closing_its_session_ends_the_call(app: CallCenter) -> None:
    _call_with_agent(app, ROOM)
    app.record(
        c.LeaveParticipant(room_name=ROOM, meta=meta("webhook", at=30), identity="agent-AJ_1")
    )
    assert _ends(app, ROOM) == [("agent_lost", 30.0)]
    # the same departure reported again, or the caller leaving after, ends nothing more
    app.record(c.LeaveParticipant(room_name=ROOM, meta=meta("agent", at=31), identity="agent-AJ_1"))
    app.record(
        c.LeaveParticipant(room_name=ROOM, meta=meta("webhook", at=32), identity="customer-1")
    )
    assert len(_ends(app, ROOM)) == 1


@pytest.mark.parametrize(
    "before",
    [
        # the agent closed its session first (an orderly end)
        c.CloseAgentSession(room_name="r", meta=meta("agent", at=20), reason="user_initiated"),
        # the caller had already gone
        c.LeaveParticipant(room_name="r", meta=meta("webhook", at=20), identity="customer-1"),
        # a supervisor ended the call: the agent says goodbye and leaves
        c.EndCallBySupervisor(room_name="r", meta=meta("supervisor", at=20), supervisor="sup"),
        # another agent is in the room
        c.JoinParticipant(
            room_name="r", meta=meta("webhook", at=20), identity="agent-AJ_2", kind="agent"
        ),
    ],
    ids=["session-closed", "caller-gone", "supervisor-ended", "another-agent"],
)
def test_an_orderly_agent_departure_ends_nothing(app: CallCenter, before: c.Command) -> None:
    room = "call-orderly-" + type(before).__name__.lower()
    _call_with_agent(app, room)
    app.record(replace(before, room_name=room))
    app.record(
        c.LeaveParticipant(room_name=room, meta=meta("webhook", at=30), identity="agent-AJ_1")
    )
    assert all(reason != "agent_lost" for reason, _ in _ends(app, room))
