"""Local neural text-to-speech with Piper (onnxruntime on the CPU), as a ``tts.TTS``.

Piper synthesises whole sentences, so :class:`PiperTTS` is a non-streaming TTS whose
ChunkedStream pushes each sentence's audio as soon as Piper has it; the shared
:func:`adapters.voice.sentence_streaming.sentence_streaming_tts` (or AgentSession's own
adapter) feeds it one sentence of an LLM reply at a time, so the first sentence is heard
while the rest is still being written.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

import numpy as np
from livekit.agents import tts
from livekit.agents._exceptions import APIError, APITimeoutError
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.utils import shortuuid

from .resample import SincResampler

if TYPE_CHECKING:
    from piper import AudioChunk, PiperVoice

NUM_CHANNELS = 1
# Piper phonemizes with libespeak-ng, whose state is global to the process: one sentence at
# a time, whichever voice or synthesis it belongs to
_SYNTHESIS_LOCK = threading.Lock()


def _next_chunk(chunks: Iterator[AudioChunk]) -> AudioChunk | None:
    with _SYNTHESIS_LOCK:
        return next(chunks, None)


class PiperTTS(tts.TTS[Literal["metrics_collected", "error"]]):
    """Piper speech: 16-bit mono PCM at the voice's rate, or resampled to ``sample_rate``."""

    def __init__(
        self,
        voice: PiperVoice,
        *,
        voice_name: str = "en_US-joe-medium",
        sample_rate: int | None = None,
        length_scale: float | None = None,
    ) -> None:
        native = int(voice.config.sample_rate)
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=sample_rate or native,
            num_channels=NUM_CHANNELS,
        )
        self._voice = voice
        self._voice_name = voice_name
        self._native_rate = native
        self._length_scale = length_scale

    @property
    def model(self) -> str:
        return self._voice_name

    @property
    def provider(self) -> str:
        return "piper"

    @property
    def native_sample_rate(self) -> int:
        return self._native_rate

    def chunks(self, text: str) -> Iterator[AudioChunk]:
        """Piper's own generator: one chunk of audio per sentence, computed lazily."""
        from piper import SynthesisConfig

        # 0.9: headroom, Piper peak-normalises every sentence and resampling overshoots
        config = SynthesisConfig(length_scale=self._length_scale, volume=0.9)
        return iter(self._voice.synthesize(text, syn_config=config))

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class PiperChunkedStream(tts.ChunkedStream):
    """One text, synthesised in a worker thread a sentence at a time and pushed as it comes."""

    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions):
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._piper = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        out_rate = self._piper.sample_rate
        output_emitter.initialize(
            request_id=shortuuid("piper_"),
            sample_rate=out_rate,
            num_channels=NUM_CHANNELS,
            mime_type="audio/pcm",
        )
        if not self._input_text.strip():
            return
        native = self._piper.native_sample_rate
        resampler = SincResampler(native, out_rate) if out_rate != native else None
        try:
            async with asyncio.timeout(self._conn_options.timeout):
                chunks = self._piper.chunks(self._input_text)  # lazy: nothing runs yet
                # the model runs in a thread, one sentence per hop: the loop stays free
                # and a barge-in cancels between sentences
                while (chunk := await asyncio.to_thread(_next_chunk, chunks)) is not None:
                    if chunk.sample_rate != native:
                        raise APIError(
                            f"piper produced {chunk.sample_rate} Hz, expected {native} Hz",
                            retryable=False,
                        )
                    samples = chunk.audio_int16_array
                    if resampler is not None:
                        samples = resampler.push(samples)
                    output_emitter.push(samples.astype(np.int16).tobytes())
                if resampler is not None:
                    output_emitter.push(resampler.flush().tobytes())
        except TimeoutError as e:
            raise APITimeoutError("piper timed out") from e
        except (APIError, asyncio.CancelledError):
            raise
        except Exception as e:  # onnxruntime or phonemizer failures end this reply only
            raise APIError(f"piper failed: {e}", retryable=False) from e
        output_emitter.flush()
