"""Every domain event renders to its SSE messages without error."""

from __future__ import annotations

from apps.web.messages import call_message, dashboard_message
from domain import commands as c
from domain.conversation import Conversation
from tests.factories import meta

ROOM = "call-render"


def _all_events() -> list[object]:
    conv = Conversation.open(ROOM, meta("api"))
    commands: list[c.Command] = [
        c.RequestCall(room_name=ROOM, meta=meta("api"), participant_identity="cust"),
        c.StartCall(room_name=ROOM, meta=meta("webhook")),
        c.JoinParticipant(room_name=ROOM, meta=meta("webhook"), identity="cust", kind="customer"),
        c.PublishTrack(room_name=ROOM, meta=meta("webhook"), identity="cust", track_sid="TR"),
        c.RecordInterimTranscript(room_name=ROOM, meta=meta(), speaker="customer", text="hi"),
        c.RecordFinalTranscript(room_name=ROOM, meta=meta(), speaker="customer", text="hi there"),
        c.RecordAgentReply(room_name=ROOM, meta=meta(), text="Welcome"),
        c.ChangeUserState(room_name=ROOM, meta=meta(), new_state="speaking"),
        c.ChangeAgentState(room_name=ROOM, meta=meta(), new_state="thinking"),
        c.RecordVehicleLookup(
            room_name=ROOM,
            meta=meta(),
            vin_as_said="x",
            vin="X",
            check_digit_valid=False,
            found=False,
        ),
        c.RecordToolCall(room_name=ROOM, meta=meta(), name="search_inventory", result="[]"),
        c.BookTestDrive(
            room_name=ROOM,
            meta=meta(),
            booking_id="b",
            customer_name="Ann",
            phone="555 123 4567",
            preferred_time="Sat",
        ),
        c.RequestCallback(
            room_name=ROOM, meta=meta(), callback_id="k", customer_name="Ann", phone="555 123 4567"
        ),
        c.RequestRecording(room_name=ROOM, meta=meta(), recording_id="r", mode="agent"),
        c.StartRecording(room_name=ROOM, meta=meta(), recording_id="r"),
        c.UpdateRecording(room_name=ROOM, meta=meta(), recording_id="r", status="active"),
        c.DetectSilence(room_name=ROOM, meta=meta(), silent_for_s=31),
        c.EndSilence(room_name=ROOM, meta=meta(), silent_for_s=40),
        c.StartListenIn(room_name=ROOM, meta=meta("supervisor"), listen_id="L", supervisor="admin"),
        c.EndListenIn(room_name=ROOM, meta=meta("supervisor"), listen_id="L"),
        c.MeasureTurn(room_name=ROOM, meta=meta(), end_to_end_s=1.2),
        c.ReportError(room_name=ROOM, meta=meta(), component="tts", message="boom"),
        c.UnpublishTrack(room_name=ROOM, meta=meta("webhook"), identity="cust", track_sid="TR"),
        c.LeaveParticipant(room_name=ROOM, meta=meta("webhook"), identity="cust", aborted=True),
        c.EndCall(room_name=ROOM, meta=meta("agent"), reason="customer_left"),
        c.FinishRoom(room_name=ROOM, meta=meta("webhook")),
        c.CompleteRecording(
            room_name=ROOM,
            meta=meta(),
            recording_id="r",
            bucket="b",
            object_key="k",
            size_bytes=1,
            duration_s=1,
            content_type="audio/ogg",
        ),
        c.CloseAgentSession(room_name=ROOM, meta=meta(), reason="done"),
    ]
    for command in commands:
        command.apply(conv)
    return list(conv.collect_events())


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
    joined = next(e for e in events if type(e).__name__ == "ParticipantJoined")
    m = call_message(3, joined)
    assert m is not None and m.event == "participant"
    assert m.data["action"] == "joined" and m.data["kind"] == "customer"
