"""Whisper falling behind: the lighter recogniser takes the finals for a while, and says so."""

from __future__ import annotations

import logging

import pytest
from livekit.agents import stt, vad
from livekit.plugins import silero
from other_voices import caller_speech
from voice_helpers import to_room_frames

from adapters.voice.local_models import load_whisper, whisper_model_dir
from adapters.voice.recogniser_load import LoadShedding, RecogniserLoad, pocketsphinx_final
from adapters.voice.vocabulary import dealership_prompt
from adapters.voice.whisper_stt import WhisperOptions, WhisperSTT

E = stt.SpeechEventType


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_late_final_sheds_for_a_while_then_whisper_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    load = RecogniserLoad(LoadShedding(late_after_s=1.0, shed_for_s=30.0), clock=clock)
    caplog.set_level(logging.INFO, logger="adapters.voice.recogniser_load")
    load.final_ready(0.9)
    assert not load.shedding() and load.times_shed == 0
    load.final_ready(1.7)
    assert load.shedding() and load.times_shed == 1
    assert "Whisper fell behind (final ready 1.70 s" in caplog.text
    assert "pocketsphinx decodes the finals for the next 30 s" in caplog.text
    clock.now += 29.9
    assert load.shedding()
    clock.now += 0.2
    assert not load.shedding()
    assert "Whisper decodes the finals again" in caplog.text


def test_pocketsphinx_final_reads_an_utterance_with_word_timings() -> None:
    speech = caller_speech("Do you have any Toyota cars for sale?")
    pcm16k = speech.data.tobytes()  # 16 kHz mono already
    result = pocketsphinx_final(pcm16k)
    assert "toyota" in result.text.lower(), result.text
    assert result.words and all(s < e for _, s, e, _ in result.words)
    assert 0.0 < result.confidence <= 1.0


@pytest.fixture(scope="module")
def silero_vad() -> vad.VAD:
    return silero.VAD.load()


async def test_a_call_keeps_its_finals_while_whisper_is_behind(
    silero_vad: vad.VAD, caplog: pytest.LogCaptureFixture
) -> None:
    model = load_whisper(whisper_model_dir({}), 2, "test")
    # decoded only once the VAD ends the utterance, so the first final is certainly
    # later than 10 ms: Whisper counts as behind, and the second final is pocketsphinx's
    options = WhisperOptions(
        prompt=dealership_prompt(), interim_interval=1000, decode_early_after=1000
    )
    load = RecogniserLoad(LoadShedding(late_after_s=0.01, shed_for_s=600))
    whisper = WhisperSTT(
        model, vad=silero_vad, options=options, fallback=pocketsphinx_final, load=load
    )
    caplog.set_level(logging.WARNING, logger="adapters.voice.recogniser_load")
    stream = whisper.stream()
    for sentence in (
        "Could my brother drive it on Thursday?",
        "Do you have any Toyota cars for sale?",
    ):
        for frame in to_room_frames(caller_speech(sentence), lead_silence=0.3, tail_silence=1.0):
            stream.push_frame(frame)
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    finals = [ev.alternatives[0].text for ev in events if ev.type == E.FINAL_TRANSCRIPT]
    assert len(finals) == 2, finals
    assert "Thursday" in finals[0]  # Whisper's, with its capitals
    assert "toyota" in finals[1] and finals[1] == finals[1].lower()  # pocketsphinx's
    assert stream.fallback_finals == 1 and load.times_shed == 1
    assert "Whisper fell behind" in caplog.text
    kinds = [ev.type for ev in events if ev.type in (E.START_OF_SPEECH, E.END_OF_SPEECH)]
    assert kinds == [E.START_OF_SPEECH, E.END_OF_SPEECH] * 2


def test_a_fallback_comes_with_its_policy(silero_vad: vad.VAD) -> None:
    model = load_whisper(whisper_model_dir({}), 2, "test")
    with pytest.raises(ValueError, match="fallback"):
        WhisperSTT(model, vad=silero_vad, fallback=pocketsphinx_final)
