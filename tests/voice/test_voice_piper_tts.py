"""PiperTTS: real en_US-joe-medium audio, pushed sentence by sentence, resampled on request,
intelligible to Whisper; bad voices are start-up errors naming the setting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import tts
from other_voices import word_error_rate
from voice_helpers import rms, speak_two_sentences

from adapters.voice.local_models import (
    VoiceModelError,
    bundled_piper_voice,
    load_piper,
    load_whisper,
    piper_voice_files,
    whisper_model_dir,
)
from adapters.voice.piper_tts import PiperTTS
from adapters.voice.providers import select_providers
from adapters.voice.resample import resample
from adapters.voice.sentence_streaming import sentence_streaming_tts
from adapters.voice.whisper_stt import WhisperOptions, WhisperTranscriber

VOICE_RATE = 22050  # en_US-joe-medium's model card
FIRST = "Thanks for calling CME Auto Sales. "
SECOND = "We have three Toyota Camry sedans on the lot, all of them available for a test drive."


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    return PiperTTS(load_piper(piper_voice_files({}), 1, "test"))


async def _frames(stream: tts.ChunkedStream) -> list[rtc.AudioFrame]:
    return [ev.frame async for ev in stream]


async def test_synthesize_gives_audible_mono_pcm_at_the_voices_rate(piper: PiperTTS) -> None:
    frames = await _frames(piper.synthesize(FIRST))
    assert piper.sample_rate == VOICE_RATE
    assert {(f.sample_rate, f.num_channels) for f in frames} == {(VOICE_RATE, 1)}
    duration = sum(f.duration for f in frames)
    assert 1.0 < duration < 4.0
    assert rms(rtc.combine_audio_frames(frames)) > 500


async def test_whisper_understands_the_voice(piper: PiperTTS) -> None:
    transcriber = WhisperTranscriber(
        load_whisper(whisper_model_dir({}), 2, "test"), WhisperOptions()
    )
    heard: list[str] = []
    # Piper samples its noise afresh on every synthesis, so the same sentence comes out a
    # little differently each time: tiny.en heard 0-41 % wrong over runs. A garbled or
    # silent voice is near 100 % every time, so the best of three syntheses tells them apart.
    for _ in range(3):
        frames = await _frames(piper.synthesize(SECOND))
        pcm = np.frombuffer(rtc.combine_audio_frames(frames).data, dtype=np.int16)
        pcm16k = resample(pcm, VOICE_RATE, 16000).tobytes()
        heard.append(transcriber.transcribe(pcm16k, final=False).text)
        if word_error_rate(SECOND, heard[-1]) <= 0.2:
            break
    assert min(word_error_rate(SECOND, h) for h in heard) <= 0.2, heard


class RecordingPiper(PiperTTS):
    """Notes when Piper finishes each sentence, to compare with when its audio went out."""

    done_at: list[float]
    native_seconds = 0.0

    def chunks(self, text: str) -> Iterator:  # type: ignore[type-arg]
        for chunk in super().chunks(text):
            self.done_at.append(time.perf_counter())
            self.native_seconds += len(chunk.audio_int16_array) / chunk.sample_rate
            yield chunk


async def test_the_first_sentence_goes_out_before_the_second_is_synthesised() -> None:
    piper = RecordingPiper(load_piper(piper_voice_files({}), 1, "test"))
    piper.done_at = []
    arrivals = []
    async for _ in piper.synthesize(FIRST + SECOND):
        arrivals.append(time.perf_counter())
    assert len(piper.done_at) == 2  # Piper made one chunk per sentence
    assert arrivals[0] < piper.done_at[1]


async def test_sentence_adapter_speaks_the_first_sentence_before_the_second_is_known(
    piper: PiperTTS,
) -> None:
    adapter = sentence_streaming_tts(piper)
    spoke = await speak_two_sentences(adapter, FIRST, SECOND, timeout_s=20)
    assert spoke.first_alone, "first sentence was not synthesized alone"
    assert spoke.first_audio_s > 1.0
    assert spoke.audio_s > spoke.first_audio_s + 2.0
    await adapter.aclose()


async def test_resamples_to_the_sessions_rate_when_asked() -> None:
    piper = RecordingPiper(load_piper(piper_voice_files({}), 1, "test"), sample_rate=48000)
    piper.done_at, piper.native_seconds = [], 0.0
    frames = await _frames(piper.synthesize(FIRST))
    assert piper.sample_rate == 48000 and piper.native_sample_rate == VOICE_RATE
    assert {f.sample_rate for f in frames} == {48000}
    # Piper's durations vary run to run (VITS samples them): compare with this very run;
    # the emitter may close the segment with a 10 ms silent marker frame
    assert sum(f.duration for f in frames) == pytest.approx(piper.native_seconds + 0.005, abs=0.006)


async def test_syntheses_at_once_each_get_their_audio(piper: PiperTTS) -> None:
    # Piper's phonemizer (libespeak-ng) is process-global state: sentences take turns
    texts = [FIRST, SECOND, "Goodbye."]
    results = await asyncio.gather(*(_frames(piper.synthesize(t)) for t in texts))
    durations = [sum(f.duration for f in frames) for frames in results]
    assert durations[1] > durations[0] > durations[2] > 0.3


async def test_empty_text_is_no_audio_and_no_error(piper: PiperTTS) -> None:
    frames = await _frames(piper.synthesize("   "))
    assert sum(f.duration for f in frames) == 0.0


async def test_cancelling_a_synthesis_stops_it(piper: PiperTTS) -> None:
    stream = piper.synthesize(" ".join([FIRST] * 20))
    first = await anext(aiter(stream))
    assert first.frame.duration > 0
    await asyncio.wait_for(stream.aclose(), timeout=5)


def _voice_copy(tmp_path: Path) -> Path:
    """Links to the bundled voice's files (unlink one before replacing it)."""
    model = bundled_piper_voice()
    folder = tmp_path / "voice"
    folder.mkdir()
    (folder / model.name).symlink_to(model)
    (folder / (model.name + ".json")).symlink_to(model.with_name(model.name + ".json"))
    return folder / model.name


@pytest.mark.parametrize(
    "fault", ["missing file", "missing config", "corrupt config", "corrupt model", "empty folder"]
)
def test_a_bad_voice_is_a_start_up_error_naming_the_setting(tmp_path: Path, fault: str) -> None:
    model = _voice_copy(tmp_path)
    config = model.with_name(model.name + ".json")
    setting = str(model)
    if fault == "missing file":
        setting = str(tmp_path / "nowhere.onnx")
    elif fault == "missing config":
        config.unlink()
    elif fault == "corrupt config":
        config.unlink()
        config.write_text('{"audio": {}}')
    elif fault == "corrupt model":
        model.unlink()
        model.write_bytes(b"not an onnx model" * 100)
    else:
        setting = str(tmp_path / "empty")
        Path(setting).mkdir()
    env = {"CALLCENTER_PIPER_VOICE": setting, "CALLCENTER_STT": "pocketsphinx"}
    with pytest.raises(VoiceModelError, match=f"CALLCENTER_PIPER_VOICE={setting}"):
        select_providers(env)


def test_another_voice_is_used_when_set_as_a_file_or_a_folder(tmp_path: Path) -> None:
    model = _voice_copy(tmp_path)
    for setting in (model, model.parent):
        env = {"CALLCENTER_PIPER_VOICE": str(setting), "CALLCENTER_STT": "pocketsphinx"}
        chosen = select_providers(env)
        assert isinstance(chosen.tts, PiperTTS)
        assert chosen.details["tts"] == "local, en_US-joe-medium"
        assert chosen.tts.sample_rate == VOICE_RATE


def test_bundled_voice_files_are_there() -> None:
    files = piper_voice_files({})
    assert files.model.name == "en_US-joe-medium.onnx" and files.sample_rate == VOICE_RATE
    assert files.config.name == "en_US-joe-medium.onnx.json"
