"""Session and room events as commands, event by event (no I/O: commands are collected)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from livekit import rtc
from livekit.agents import llm, stt
from livekit.agents.voice.events import (
    CloseEvent,
    CloseReason,
    ConversationItemAddedEvent,
    ErrorEvent,
    FunctionToolsExecutedEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)

from adapters.voice.espeak_tts import EspeakTTS
from apps.agent.facts import Facts
from apps.agent.room_events import RoomEvents, participant_kind
from apps.agent.session_events import SessionEvents
from domain import commands as c
from domain.commands import Command


def mapper() -> tuple[SessionEvents, list[Command]]:
    put: list[Command] = []
    return SessionEvents(Facts("call-map", "job-map", put.append)), put


def speech(kind: stt.SpeechEventType, text: str, confidence: float) -> stt.SpeechEvent:
    data = stt.SpeechData(
        language="en", text=text, confidence=confidence, start_time=1.0, end_time=2.5
    )
    return stt.SpeechEvent(type=kind, alternatives=[data])


def test_transcripts_carry_the_stt_confidence_and_timings_when_there_are_some() -> None:
    events, put = mapper()
    events.on_speech(speech(stt.SpeechEventType.INTERIM_TRANSCRIPT, "my vin", 0.0))
    events._transcribed(UserInputTranscribedEvent(transcript="my vin", is_final=False))
    events.on_speech(speech(stt.SpeechEventType.FINAL_TRANSCRIPT, "my vin is", 0.82))
    events._transcribed(UserInputTranscribedEvent(transcript=" my vin is ", is_final=True))
    events._transcribed(UserInputTranscribedEvent(transcript="", is_final=False))  # a reset
    events._transcribed(UserInputTranscribedEvent(transcript="no tap", is_final=True))
    interim, final, untapped = put
    assert isinstance(interim, c.RecordInterimTranscript) and interim.confidence is None
    assert isinstance(final, c.RecordFinalTranscript)
    assert (final.text, final.confidence, final.start_time, final.end_time) == (
        "my vin is", 0.82, 1.0, 2.5,
    )  # fmt: skip
    assert interim.segment_id == final.segment_id != untapped.segment_id  # type: ignore[attr-defined]
    assert untapped.confidence is None  # type: ignore[attr-defined]


def test_replies_typed_input_tools_errors_and_the_close() -> None:
    events, put = mapper()
    cut = llm.ChatMessage(role="assistant", content=[""], interrupted=True)
    typed = llm.ChatMessage(role="user", content=["hello there"])
    events._item_added(ConversationItemAddedEvent(item=cut))
    events._item_added(ConversationItemAddedEvent(item=typed))
    call = llm.FunctionCall(call_id="c1", name="lookup_vehicle", arguments='{"vin": "X"}')
    out = llm.FunctionCallOutput(call_id="c1", name="lookup_vehicle", output="boom", is_error=True)
    events._tools_executed(
        FunctionToolsExecutedEvent(function_calls=[call], function_call_outputs=[out])
    )
    events._user_state(UserStateChangedEvent(old_state="listening", new_state="away"))
    events._error(ErrorEvent(error=RuntimeError("tts went away"), source=EspeakTTS()))
    events._closed(CloseEvent(reason=CloseReason.PARTICIPANT_DISCONNECTED))
    reply, transcript, tool, state, error, closed = put
    assert isinstance(reply, c.RecordAgentReply) and reply.interrupted and reply.text == ""
    assert isinstance(transcript, c.RecordFinalTranscript) and transcript.text == "hello there"
    assert isinstance(tool, c.RecordToolCall)
    assert (tool.arguments, tool.result, tool.error) == ({"vin": "X"}, None, "boom")
    assert isinstance(state, c.ChangeUserState) and state.new_state == "away"
    assert isinstance(error, c.ReportError) and error.component == "tts:EspeakTTS"
    assert isinstance(closed, c.CloseAgentSession) and closed.reason == "participant_disconnected"
    ids = [cmd.meta.external_id for cmd in put]
    assert len(set(ids)) == len(ids) and all(i and i.startswith("job-map/") for i in ids)


def participant(identity: str, kind: Any, role: str = "", sid: str = "PA_1") -> Any:
    return SimpleNamespace(
        identity=identity, name=identity, sid=sid, kind=kind,
        attributes={"role": role} if role else {}, metadata="",
    )  # fmt: skip


def test_room_events_and_the_customers_first_audio_track() -> None:
    put: list[Command] = []
    triggered: list[bool] = []
    room = RoomEvents(Facts("call-room", "job-room", put.append), lambda: triggered.append(True))
    standard = rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD
    customer = participant("customer-1", standard, "customer")
    supervisor = participant("sup", standard, "supervisor", sid="PA_2")
    agent = participant("agent-x", rtc.ParticipantKind.PARTICIPANT_KIND_AGENT, sid="PA_3")
    assert [participant_kind(p) for p in (customer, supervisor, agent)] == [
        "customer", "supervisor", "agent",
    ]  # fmt: skip
    mic = SimpleNamespace(
        sid="TR_1", kind=rtc.TrackKind.KIND_AUDIO, source=rtc.TrackSource.SOURCE_MICROPHONE
    )
    room._joined(customer)
    room._published(SimpleNamespace(**{**vars(mic), "sid": "TR_0"}), supervisor)
    room._published(mic, customer)
    room._published(SimpleNamespace(**{**vars(mic), "sid": "TR_2"}), customer)
    assert triggered == [True]  # once, for the customer's first audio track only
    room._left(customer)
    assert room.end_reason == "customer_left" and room.customer_left_at is not None
    kinds = [type(cmd).__name__ for cmd in put]
    assert kinds == ["JoinParticipant", "PublishTrack", "PublishTrack", "PublishTrack",
                     "LeaveParticipant"]  # fmt: skip
    assert put[2].source == "microphone"  # type: ignore[attr-defined]
