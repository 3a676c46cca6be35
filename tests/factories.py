"""Builders for commands in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import commands as c
from domain.conversation import Conversation
from domain.meta import EventMeta

BASE_TIME = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def meta(
    source: str = "agent", external_id: str | None = None, at: float | None = None
) -> EventMeta:
    """Event metadata; `at` is seconds after BASE_TIME (default: now)."""
    if at is None:
        return EventMeta(source=source, external_id=external_id)
    return EventMeta(
        source=source, external_id=external_id, occurred_at=BASE_TIME + timedelta(seconds=at)
    )


VIN = "1HGCM82633A004352"


def every_kind_of_command(room: str) -> list[c.Command]:
    """A call in `room` that records every kind of event, then one in `room-2` that only
    ends."""

    def m(at: float) -> EventMeta:
        return meta(at=at)

    r = room
    return [
        c.RequestCall(room_name=r, meta=m(1), participant_identity="cust", participant_name="A"),
        c.RefuseCallRequest(
            room_name=r,
            meta=m(1.5),
            participant_name="Eve",
            client_address="203.0.113.9",
            reason="room_unavailable",
        ),
        c.ReconnectCaller(room_name=r, meta=m(1.6), participant_identity="cust"),
        c.StartCall(room_name=r, meta=m(2), room_sid="RM1"),
        c.JoinParticipant(room_name=r, meta=m(3), identity="cust", name="A", sid="PA1"),
        c.JoinParticipant(room_name=r, meta=m(3), identity="sup", kind="supervisor", hidden=True),
        c.PublishTrack(room_name=r, meta=m(4), identity="cust", track_sid="TR1"),
        c.RecordInterimTranscript(
            room_name=r, meta=m(5), speaker="customer", text="hel", segment_id="s1", confidence=0.5
        ),
        c.RecordFinalTranscript(
            room_name=r,
            meta=m(6),
            speaker="customer",
            text="hello",
            confidence=0.9,
            start_time=1.0,
            end_time=2.0,
            segment_id="s1",
        ),
        c.RecordAgentReply(room_name=r, meta=m(7), text="hi"),
        c.ChangeUserState(room_name=r, meta=m(8), new_state="speaking"),
        c.ChangeAgentState(room_name=r, meta=m(8), new_state="thinking"),
        c.RecordVehicleLookup(
            room_name=r,
            meta=m(9),
            vin_as_said="one two",
            vin=VIN,
            check_digit_valid=True,
            found=True,
            vehicle={"make": "Honda"},
            decoded={"model_year": 2003},
        ),
        c.RecordToolCall(room_name=r, meta=m(10), name="lookup", arguments={"a": 1}, result="ok"),
        c.BookTestDrive(
            room_name=r,
            meta=m(11),
            booking_id="b1",
            customer_name="A",
            phone="+15551234567",
            preferred_time="tomorrow",
            vin=VIN,
        ),
        c.RequestCallback(
            room_name=r,
            meta=m(12),
            callback_id="cb1",
            customer_name="A",
            phone="+15551234567",
            preferred_time="later",
            topic="financing",
        ),
        c.RequestRecording(room_name=r, meta=m(13), recording_id="r1", mode="egress"),
        c.StartRecording(room_name=r, meta=m(14), recording_id="r1", egress_id="EG1"),
        c.UpdateRecording(room_name=r, meta=m(15), recording_id="r1", status="active"),
        c.DetectSilence(room_name=r, meta=m(16), silent_for_s=5.0),
        c.EndSilence(room_name=r, meta=m(17), silent_for_s=6.0),
        c.StartListenIn(room_name=r, meta=m(18), listen_id="l1", supervisor="sup"),
        c.StartListenIn(room_name=r, meta=m(18), listen_id="l2", supervisor="sup"),
        c.EndListenIn(room_name=r, meta=m(19), listen_id="l1"),
        c.RequestHuman(room_name=r, meta=m(19), utterance="can I talk to a person"),
        c.ExpireEscalation(room_name=r, meta=m(19), waited_s=60.0),
        c.RequestHuman(room_name=r, meta=m(19), utterance="a human please"),
        c.CoachAgent(room_name=r, meta=m(19), supervisor="sup", text="say: one moment"),
        c.TakeOver(
            room_name=r,
            meta=m(19),
            supervisor="sup",
            participant_identity="supervisor-sup-1",
            via="escalation",
        ),  # fmt: skip
        c.HandBack(room_name=r, meta=m(19), supervisor="sup"),
        c.BargeIn(
            room_name=r, meta=m(19), supervisor="sup", participant_identity="supervisor-sup-2"
        ),
        c.HandBack(room_name=r, meta=m(19), supervisor="sup", reason="supervisor_left"),
        c.EndCallBySupervisor(room_name=r, meta=m(19), supervisor="sup"),
        c.MeasureTurn(
            room_name=r,
            meta=m(20),
            speech_id="sp1",
            end_of_utterance_delay_s=0.5,
            llm_ttft_s=0.3,
            tts_ttfb_s=0.2,
            end_to_end_s=1.2,
        ),
        c.ReportError(room_name=r, meta=m(21), component="stt", message="boom"),
        c.UnpublishTrack(room_name=r, meta=m(22), identity="cust", track_sid="TR1"),
        c.LeaveParticipant(room_name=r, meta=m(23), identity="sup"),
        c.LeaveParticipant(room_name=r, meta=m(23), identity="cust", aborted=True),
        c.CloseAgentSession(room_name=r, meta=m(24), reason="done"),
        c.EndCall(room_name=r, meta=m(25), reason="hangup"),
        c.RecordSummary(room_name=r, meta=m(25.5), text="The caller booked.", model="m-1"),
        c.FinishRoom(room_name=r, meta=m(26)),
        c.CompleteRecording(
            room_name=r,
            meta=m(27),
            recording_id="r1",
            bucket="b",
            object_key="k",
            size_bytes=10,
            duration_s=3.5,
            content_type="audio/ogg",
        ),
        c.FailRecording(room_name=r, meta=m(28), recording_id="r2", reason="no"),
        c.RevealPersonalData(
            room_name=r,
            meta=m(28.5),
            revealed_by="audrey",
            reason="a complaint",
            until=(BASE_TIME + timedelta(minutes=15)).isoformat(),
        ),
        c.RequestErasure(room_name=r, meta=m(29), requested_by="admin", reason="asked"),
        c.CompleteErasure(room_name=r, meta=m(30), requested_by="admin", recordings_deleted=1),
        c.FinishRoom(room_name=f"{room}-2", meta=m(2)),  # ends the call itself
    ]


def conversations_of_every_kind(room: str) -> dict[str, Conversation]:
    """The conversations `every_kind_of_command(room)` makes, with their events pending."""
    made: dict[str, Conversation] = {}
    for command in every_kind_of_command(room):
        if command.room_name not in made:
            made[command.room_name] = Conversation.open(command.room_name, command.meta)
        command.apply(made[command.room_name])
    return made
