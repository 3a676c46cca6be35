"""EspeakTTS: real espeak-ng audio, streamed out of the subprocess and per sentence."""

from __future__ import annotations

import asyncio
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import tts
from voice_helpers import require_espeak, rms, speak_two_sentences

from adapters.voice.espeak_tts import (
    SAMPLE_RATE,
    EspeakNotInstalledError,
    EspeakTTS,
    WavHeaderParser,
    find_espeak,
    sentence_streaming_tts,
)

TEXT = "Thanks for calling CME Auto Sales. How can I help you today?"


@pytest.fixture(scope="module")
def espeak() -> EspeakTTS:
    require_espeak()
    return EspeakTTS()


async def test_synthesize_produces_audible_pcm_of_plausible_length(espeak: EspeakTTS) -> None:
    frames = [ev.frame async for ev in espeak.synthesize(TEXT)]
    assert frames
    assert {(f.sample_rate, f.num_channels) for f in frames} == {(SAMPLE_RATE, 1)}
    audio = rtc.combine_audio_frames(frames)
    # 11 words at 165 wpm is 4 s of speech, plus espeak's pauses
    assert 2.5 < audio.duration < 7.0
    assert rms(audio) > 500  # not silence
    samples = np.frombuffer(audio.data, dtype=np.int16)
    assert np.count_nonzero(samples) > 0.5 * samples.size


SLOW_ESPEAK = """#!{python}
import struct, sys, time
sys.stdin.read()
fmt = struct.pack("<HHIIHH", 1, 1, 22050, 44100, 2, 16)
out = sys.stdout.buffer
out.write(b"RIFF\\xff\\xff\\xff\\x7fWAVEfmt " + struct.pack("<I", 16) + fmt)
out.write(b"data\\xff\\xff\\xff\\x7f" + b"\\x10\\x00" * 11025)
out.flush()
time.sleep(1.5)
out.write(b"\\x10\\x00" * 11025)
"""


async def test_frames_are_forwarded_while_espeak_is_still_running(tmp_path: Path) -> None:
    require_espeak()
    fake = tmp_path / "slow-espeak"
    fake.write_text(SLOW_ESPEAK.format(python=sys.executable))
    fake.chmod(0o755)
    start = time.perf_counter()
    arrivals = []
    async for ev in EspeakTTS(executable=str(fake)).synthesize("hello"):
        arrivals.append((time.perf_counter() - start, ev.frame.duration))
    # the first half second is out long before the fake finishes its 1.5 s pause
    assert arrivals[0][0] < 1.0 < arrivals[-1][0]
    assert sum(d for _, d in arrivals) == pytest.approx(1.0, abs=0.01)


async def test_empty_text_is_no_audio_and_no_error(espeak: EspeakTTS) -> None:
    frames = [ev.frame async for ev in espeak.synthesize("   ")]
    assert sum(f.duration for f in frames) == 0.0


async def test_cancelling_a_synthesis_stops_it(espeak: EspeakTTS) -> None:
    stream = espeak.synthesize(" ".join([TEXT] * 30))
    first = await anext(aiter(stream))
    assert first.frame.duration > 0
    await asyncio.wait_for(stream.aclose(), timeout=5)


async def test_stream_adapter_speaks_first_sentence_before_the_second_is_known(
    espeak: EspeakTTS,
) -> None:
    adapter = sentence_streaming_tts(espeak)
    first = "Thanks for calling CME Auto Sales. "
    second = "How can I help you today?"
    spoke = await speak_two_sentences(adapter, first, second, timeout_s=10)
    assert spoke.first_alone, "first sentence was not synthesized alone"
    assert spoke.first_audio_s > 1.0
    assert spoke.completed[-1] == len(second)
    assert spoke.audio_s > spoke.first_audio_s + 1.0
    await adapter.aclose()


def _wav_header(rate: int = SAMPLE_RATE, extra_chunk: bytes = b"") -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF\xff\xff\xff\x7fWAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + extra_chunk
        + b"data\xff\xff\xff\x7f"
    )


def test_wav_parser_handles_byte_by_byte_input_and_extra_chunks() -> None:
    extra = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\x00"  # odd size, padded
    raw = _wav_header(extra_chunk=extra) + b"\x01\x02\x03\x04"
    parser = WavHeaderParser()
    pcm = b"".join(parser.feed(raw[i : i + 1]) for i in range(len(raw)))
    assert pcm == b"\x01\x02\x03\x04"
    assert parser.format is not None and parser.format.sample_rate == SAMPLE_RATE


def test_wav_parser_rejects_non_wav() -> None:
    with pytest.raises(ValueError, match="RIFF"):
        WavHeaderParser().feed(b"ID3\x04" + b"\x00" * 20)


def test_missing_executable_is_a_clear_error() -> None:
    with pytest.raises(EspeakNotInstalledError, match="apt-get install espeak-ng"):
        find_espeak("espeak-ng-does-not-exist")
    with pytest.raises(EspeakNotInstalledError):
        EspeakTTS(executable="espeak-ng-does-not-exist")


def test_is_a_non_streaming_tts_and_the_helper_is_a_stream_adapter(espeak: EspeakTTS) -> None:
    assert espeak.capabilities.streaming is False
    adapter = sentence_streaming_tts(espeak)
    assert isinstance(adapter, tts.StreamAdapter)
    assert adapter.capabilities.streaming is True
    assert adapter.sample_rate == SAMPLE_RATE
