"""The agent with the default local providers, by ear: a festival caller (not the agent's
voice) asks about a make; Whisper hears it, the dialogue policy searches the inventory,
and Piper answers; the domain events are read back from PostgreSQL."""

from __future__ import annotations

import asyncio

from livekit.agents import vad

from adapters.call_center import GroupCommitCallCenter
from adapters.voice.piper_tts import PiperTTS
from adapters.voice.providers import select_providers
from adapters.voice.whisper_stt import WhisperSTT
from apps.agent.call import Call
from apps.agent.config import AgentConfig
from tests.agent.audio_io import CHANNELS, RATE, FakeSpeaker, SpeechInput
from tests.agent.helpers import eventually, logged
from tests.voice.other_voices import caller_speech
from tests.voice.voice_helpers import to_room_frames

ROOM = "call-neural-voice"
QUESTION = "Do you have any Toyota cars for sale?"


class FestivalCaller(SpeechInput):
    """The same paced microphone, speaking with festival's US SLT voice."""

    def say(self, text: str) -> float:
        frames = to_room_frames(caller_speech(text), rate=RATE, channels=CHANNELS, lead_silence=0.3)
        self._frames.extend(frames)
        return len(frames) * 0.01


def of(events: list[object], name: str) -> list[object]:
    return [e for e in events if type(e).__name__ == name]


async def test_a_question_about_a_make_is_heard_by_whisper_and_answered_by_piper(
    app: GroupCommitCallCenter, agent_config: AgentConfig, silero_vad: vad.VAD
) -> None:
    providers = select_providers({}, vad_model=silero_vad)
    assert isinstance(providers.stt, WhisperSTT) and isinstance(providers.tts, PiperTTS)
    mic, speaker = FestivalCaller(), FakeSpeaker(speed=4.0)
    call = Call(
        room_name=ROOM, session_key="job-neural", config=agent_config, app=app, providers=providers
    )
    call.session.input.audio, call.session.output.audio = mic, speaker
    await call.open()
    await call.start()
    assert call.greeting is not None
    await asyncio.wait_for(call.greeting.wait_for_playout(), 60)

    speech_s = mic.say(QUESTION)
    await eventually(
        lambda: (
            any(
                getattr(i, "role", None) == "assistant" and "Toyota" in (i.text_content or "")
                for i in call.session.history.items
            )
            and call.session.agent_state == "listening"
        ),
        timeout=speech_s + 60,
        what="the inventory answer",
    )
    await call.end()
    await call.close()

    events = logged(app, ROOM)
    finals = of(events, "FinalTranscriptRecorded")
    assert any("toyota" in f.text.lower() for f in finals), [f.text for f in finals]
    heard = next(f for f in finals if "toyota" in f.text.lower())
    assert 0.3 < heard.confidence <= 1 and heard.end_time > heard.start_time >= 0
    [tool] = [t for t in of(events, "ToolCalled") if t.name == "search_inventory"]
    assert "toyota" in str(tool.arguments).lower()
    replies = [r.text for r in of(events, "AgentReplied")]
    assert any("Toyota" in r for r in replies[1:]), replies
    # every reply was spoken: Piper's audio reached the speaker for each
    assert len(speaker.segments) >= 2 and all(seconds > 0.5 for seconds, _ in speaker.segments)
