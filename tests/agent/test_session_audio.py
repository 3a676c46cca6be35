"""The agent in-process, by ear: espeak-ng speech into a microphone, the real silero VAD
and pocketsphinx STT make it a user turn, the dialogue policy calls a tool, espeak-ng
answers; the domain events it produces are read back from PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.voice.providers import Providers
from apps.agent.assistant import GREETING
from apps.agent.call import Call
from apps.agent.config import AgentConfig
from tests.agent.audio_io import FakeSpeaker, SpeechInput
from tests.agent.helpers import eventually, logged

ROOM = "call-audio"
SAID_VIN = "my vin is one h g c m eight two six three three a zero zero four three five two"


def of(events: list[object], name: str) -> list[object]:
    return [e for e in events if type(e).__name__ == name]


async def test_a_spoken_vin_becomes_transcripts_a_lookup_a_reply_and_metrics(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    mic, speaker = SpeechInput(), FakeSpeaker(speed=2.0)
    call = Call(
        room_name=ROOM, session_key="job-audio", config=agent_config, app=app, providers=providers
    )
    call.session.input.audio, call.session.output.audio = mic, speaker
    await call.open()
    await call.start()
    assert call.greeting is not None
    await asyncio.wait_for(call.greeting.wait_for_playout(), 30)

    def agent_said(words: str) -> bool:
        return (
            any(
                getattr(i, "role", None) == "assistant" and words in (i.text_content or "")
                for i in call.session.history.items
            )
            and call.session.agent_state == "listening"
        )

    speech_s = mic.say(SAID_VIN)
    await eventually(lambda: agent_said("Is that right?"), speech_s + 30, "the VIN read back")
    looked_up = [e for e in call.session.history.items if e.type == "function_call_output"]
    assert not looked_up  # nothing is looked up before the caller confirms it
    speech_s = mic.say("yes that's right")
    await eventually(lambda: agent_said("belongs to a"), speech_s + 30, "the lookup's answer")
    await call.end()
    await call.close()

    events = logged(app, ROOM)
    names = [type(e).__name__ for e in events]
    [final, confirmed] = of(events, "FinalTranscriptRecorded")
    assert "one h g c m eight two six three three a zero zero four three five two" in final.text
    assert "yes" in confirmed.text
    assert final.speaker == "customer" and 0 < final.confidence <= 1
    assert final.end_time > final.start_time >= 0
    interims = of(events, "InterimTranscriptRecorded")
    assert interims and {i.segment_id for i in interims} <= {final.segment_id, confirmed.segment_id}
    assert names.index("InterimTranscriptRecorded") < names.index("FinalTranscriptRecorded")

    [tool] = of(events, "ToolCalled")
    assert tool.name == "lookup_vehicle" and tool.arguments == {"vin": "1HGCM82633A004352"}
    [lookup] = of(events, "VehicleLookedUp")
    assert lookup.vin == "1HGCM82633A004352" and lookup.check_digit_valid and not lookup.found
    replies = [r.text for r in of(events, "AgentReplied")]
    assert replies[0] == GREETING
    assert replies[1] == "I have 1 H G, C M 8, 2 6 3, 3 A, 0, 0 4 3 5 2. Is that right?"
    # a quick lookup is answered with nothing before it (no filler)
    assert "2003 Honda" in replies[2]
    assert not any(r.interrupted for r in of(events, "AgentReplied"))

    user_states = [e.new_state for e in of(events, "UserStateChanged")]
    agent_states = [e.new_state for e in of(events, "AgentStateChanged")]
    assert user_states[:2] == ["speaking", "listening"]
    assert {"listening", "thinking", "speaking"} <= set(agent_states)

    turns = of(events, "TurnLatencyMeasured")
    assert len(turns) >= 2  # the greeting and the answer(s)
    answered = [t for t in turns if t.end_to_end_s is not None]
    assert answered and answered[0].end_of_utterance_delay_s is not None
    assert answered[0].llm_ttft_s is not None and answered[0].tts_ttfb_s is not None
    assert 0 < answered[0].end_to_end_s < 10
    assert names[-1] == "AgentSessionClosed"
    assert call.sink.stats.rejected == 0


@pytest.mark.parametrize("who", ["user"])
async def test_the_session_events_keep_the_state_of_the_conversation(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers, who: str
) -> None:
    """The aggregate's user/agent state follows the session's, via the events."""
    mic, speaker = SpeechInput(), FakeSpeaker(speed=4.0)
    call = Call(
        room_name=f"{ROOM}-{who}", session_key="job-state", config=agent_config, app=app,
        providers=providers,
    )  # fmt: skip
    call.session.input.audio, call.session.output.audio = mic, speaker
    await call.open()
    await call.start()
    assert call.greeting is not None
    await asyncio.wait_for(call.greeting.wait_for_playout(), 30)
    await eventually(lambda: call.session.agent_state == "listening", 10)
    assert await call.sink.flush(10)
    conversation = app.conversation_for_room(f"{ROOM}-{who}")
    assert (conversation.agent_state, conversation.user_state) == ("listening", "listening")
    await call.end()
    await call.close()


async def test_a_caller_who_talks_over_the_agent_interrupts_it(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    mic, speaker = SpeechInput(), FakeSpeaker(speed=1.0)  # the greeting takes its real time
    call = Call(
        room_name=f"{ROOM}-barge-in", session_key="job-barge-in", config=agent_config, app=app,
        providers=providers,
    )  # fmt: skip
    call.session.input.audio, call.session.output.audio = mic, speaker
    await call.open()
    await call.start()
    assert call.greeting is not None
    await eventually(lambda: call.session.agent_state == "speaking", 30, "the greeting")
    await asyncio.sleep(1.0)
    mic.say("hold on, do you have any Mazda cars")
    await asyncio.wait_for(call.greeting.wait_for_playout(), 30)
    assert call.greeting.interrupted
    await call.end()
    await call.close()
    [greeting] = [r for r in of(logged(app, f"{ROOM}-barge-in"), "AgentReplied")][:1]
    assert greeting.interrupted
