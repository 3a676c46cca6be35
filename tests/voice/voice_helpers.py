"""Shared helpers for the voice adapter tests: espeak-ng speech and audio framing."""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from livekit import rtc

from adapters.voice.espeak_tts import EspeakNotInstalledError, find_espeak
from adapters.voice.resample import resample
from tools.asr_eval import espeak_frame


def require_espeak() -> None:
    """Fail (never skip) with an install hint when espeak-ng is missing."""
    try:
        find_espeak()
    except EspeakNotInstalledError as e:
        pytest.fail(f"these tests need espeak-ng: {e}", pytrace=False)


@functools.lru_cache(maxsize=32)
def spoken(text: str) -> rtc.AudioFrame:
    """espeak-ng speech for ``text`` (22050 Hz mono), cached across tests."""
    require_espeak()
    return espeak_frame(text)


def to_room_frames(
    frame: rtc.AudioFrame,
    *,
    rate: int = 48000,
    channels: int = 2,
    lead_silence: float = 0.5,
    tail_silence: float = 1.0,
    frame_ms: int = 10,
) -> list[rtc.AudioFrame]:
    """Resample to what a LiveKit room delivers: 48 kHz stereo 10 ms frames, padded."""
    # the deterministic resampler: soxr's dither would make every run's audio differ
    speech = resample(np.frombuffer(frame.data, dtype=np.int16), frame.sample_rate, rate)
    mono = np.concatenate(
        [
            np.zeros(int(lead_silence * rate), dtype=np.int16),
            speech,
            np.zeros(int(tail_silence * rate), dtype=np.int16),
        ]
    )
    interleaved = np.repeat(mono, channels)
    step = rate * frame_ms // 1000
    return [
        rtc.AudioFrame(
            interleaved[i * channels : (i + step) * channels].tobytes(), rate, channels, step
        )
        for i in range(0, len(mono) - step + 1, step)
    ]


def rms(frame: rtc.AudioFrame) -> float:
    samples = np.frombuffer(frame.data, dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


@dataclass
class TwoSentences:
    """What a sentence-streaming TTS did with a reply that arrived a sentence at a time."""

    completed: list[int]  # characters of each finished wrapped synthesis
    first_alone: bool  # the first sentence was synthesized before the second was known
    first_audio_s: float
    audio_s: float


async def speak_two_sentences(
    adapter: Any, first: str, second: str, timeout_s: float
) -> TwoSentences:
    """Push `first`, wait for its synthesis alone, then push `second` and read to the end."""
    completed: list[int] = []
    adapter.on("metrics_collected", lambda m: completed.append(m.characters_count))
    audio: list[rtc.AudioFrame] = []
    async with adapter.stream() as stream:

        async def read() -> None:
            async for ev in stream:
                audio.append(ev.frame)

        reader = asyncio.create_task(read())
        stream.push_text(first)  # an LLM has produced only the first sentence so far
        deadline = time.monotonic() + timeout_s
        while len(first.strip()) not in completed and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        first_alone = len(first.strip()) in completed
        first_audio = sum(f.duration for f in audio)
        stream.push_text(second)
        stream.end_input()
        await reader
    return TwoSentences(completed, first_alone, first_audio, sum(f.duration for f in audio))
