"""Local speech-to-text on faster-whisper (Whisper tiny.en, CTranslate2 int8 on the CPU).

Whisper is not a streaming model: it decodes a whole buffer, padded to 30 s, so every
decode costs about the same whatever the audio's length. The stream therefore segments
speech with silero's VAD and decodes each utterance, never two decodes at once: the
growing buffer at most once per ``interim_interval`` of speech while the caller talks,
sent as INTERIM_TRANSCRIPTs, and the FINAL_TRANSCRIPT, with confidence and word timings,
when the VAD hears the utterance's end.

Every decode is of final quality (the word alignment adds little), so the final is
usually ready before the VAD ends the utterance: the latest decode whose buffer has been
followed by nothing but silence is the final. If none is under way once the caller has
been silent for ``WhisperOptions.decode_early_after`` seconds, one starts then, while the
VAD waits out the rest of its closing silence (0.55 s). Speech again makes earlier decodes
out of date.

When Whisper falls behind on a busy host, :mod:`.recogniser_load` has the lighter
recogniser decode the finals for a while (no Whisper decodes at all meanwhile).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

# before faster-whisper brings in huggingface_hub: models are paths, no call may reach a hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from livekit import rtc  # noqa: E402
from livekit.agents import stt  # noqa: E402
from livekit.agents.language import LanguageCode  # noqa: E402
from livekit.agents.types import (  # noqa: E402
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    TimedString,
)
from livekit.agents.utils import AudioBuffer, shortuuid  # noqa: E402
from livekit.agents.vad import VAD, VADEvent, VADEventType, VADStream  # noqa: E402

from .pocketsphinx_stt import MonoResampler, buffer_to_pcm16k, english_only  # noqa: E402
from .recogniser_load import RecogniserLoad  # noqa: E402
from .whisper_model import SAMPLE_RATE, Transcript, WhisperOptions, WhisperTranscriber  # noqa: E402

__all__ = ["Transcript", "WhisperOptions", "WhisperSTT", "WhisperSpeechStream"]

if TYPE_CHECKING:
    from .whisper_model import EncoderKeepingWhisperModel

# while the VAD has heard this much silence, the caller may be done: no new interim decode,
# so that the final one never queues behind it
_INTERIM_SILENCE_LIMIT = 0.1
# past this much speech an interim decode would need a second 30 s window
_INTERIM_MAX_SECONDS = 25.0


def _speech_data(
    result: Transcript, language: str, start: float, duration: float
) -> stt.SpeechData:
    return stt.SpeechData(
        language=LanguageCode(language),
        text=result.text,
        start_time=start,
        end_time=start + duration,
        confidence=result.confidence,
        words=[
            TimedString(word, start_time=start + s, end_time=start + e, confidence=p)
            for word, s, e, p in result.words
        ]
        or None,
    )


def _check_language(language: NotGivenOr[str]) -> None:
    english_only(language, "Whisper tiny.en")


class WhisperSTT(stt.STT[Literal["metrics_collected", "error"]]):
    """Offline English STT: streaming with interim results, finals with word timings."""

    def __init__(
        self,
        model: EncoderKeepingWhisperModel,
        *,
        vad: VAD,
        options: WhisperOptions | None = None,
        model_name: str = "tiny.en",
        fallback: Callable[[bytes], Transcript] | None = None,
        load: RecogniserLoad | None = None,
    ) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True,
                interim_results=True,
                aligned_transcript="word",
                offline_recognize=True,
            )
        )
        self._options = options or WhisperOptions()
        _check_language(self._options.language)
        self._transcriber = WhisperTranscriber(model, self._options)
        self._vad = vad
        self._model_name = model_name
        if (fallback is None) != (load is None):
            raise ValueError("a fallback recogniser and its load policy come together")
        self._fallback = fallback
        self._load = load

    @property
    def options(self) -> WhisperOptions:
        return self._options

    @property
    def vad(self) -> VAD:
        """Segments the stream into utterances; the session's own VAD when built by providers."""
        return self._vad

    @property
    def transcriber(self) -> WhisperTranscriber:
        return self._transcriber

    @property
    def model(self) -> str:
        return self._model_name

    @property
    def load(self) -> RecogniserLoad | None:
        """When to shed Whisper's decodes to the fallback; None: never."""
        return self._load

    def fallback_final(self, pcm: bytes) -> Transcript:
        """The lighter recogniser's final for one utterance (blocking)."""
        assert self._fallback is not None
        return self._fallback(pcm)

    def shedding(self) -> bool:
        return self._load is not None and self._load.shedding()

    @property
    def provider(self) -> str:
        return "faster-whisper"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        _check_language(language)
        pcm = buffer_to_pcm16k(buffer)
        result = await asyncio.to_thread(self._transcriber.transcribe, pcm, final=True)
        duration = len(pcm) / (2 * SAMPLE_RATE)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=shortuuid("whisper_"),
            alternatives=[_speech_data(result, self._options.language, 0.0, duration)],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> WhisperSpeechStream:
        _check_language(language)
        return WhisperSpeechStream(stt=self, vad=self._vad, conn_options=conn_options)


class _Flush:
    """Marks a flush of the input in the stream's event queue."""


class WhisperSpeechStream(stt.RecognizeStream):
    """Frames in; START, INTERIM, FINAL and END events out, one utterance at a time."""

    def __init__(self, *, stt: WhisperSTT, vad: VAD, conn_options: APIConnectOptions) -> None:
        # no sample_rate here: frames are downmixed and resampled deterministically below
        super().__init__(stt=stt, conn_options=conn_options)
        self._whisper = stt
        self._vad = vad
        self._utterance: list[bytes] = []
        self._utterance_start = 0.0  # stream seconds where the utterance's audio starts
        self._request_id = ""
        self._interim_at = 0.0  # speech seconds at the last interim decode
        self._decoding: asyncio.Task[Transcript] | None = None  # the one decode at a time
        # the latest decode with only silence after its buffer: the final, if speech ends now
        self._final_candidate: asyncio.Task[Transcript] | None = None
        self.early_finals = 0  # finals ready before the end of speech, for tests and metrics
        self.fallback_finals = 0  # finals the lighter recogniser decoded while Whisper was behind

    async def _run(self) -> None:
        vad_stream = self._vad.stream()
        queue: asyncio.Queue[VADEvent | _Flush | None] = asyncio.Queue()

        async def forward_input() -> None:
            converter = MonoResampler()
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    self._push_pcm(vad_stream, converter.flush())
                    converter = MonoResampler()
                    vad_stream.flush()
                    queue.put_nowait(_Flush())
                    continue
                self._push_pcm(vad_stream, converter.push(item))
            self._push_pcm(vad_stream, converter.flush())
            vad_stream.end_input()

        async def pump_vad() -> None:
            async for event in vad_stream:
                queue.put_nowait(event)
            queue.put_nowait(None)

        tasks = [asyncio.create_task(forward_input()), asyncio.create_task(pump_vad())]
        try:
            while (event := await queue.get()) is not None:
                if isinstance(event, _Flush):
                    await self._finish_utterance()
                else:
                    await self._on_vad_event(event)
            await self._finish_utterance()  # input ended mid-utterance
        finally:
            if self._decoding is not None:
                await asyncio.gather(self._decoding, return_exceptions=True)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await vad_stream.aclose()

    @staticmethod
    def _push_pcm(vad_stream: VADStream, pcm: bytes) -> None:
        if pcm:
            vad_stream.push_frame(rtc.AudioFrame(pcm, SAMPLE_RATE, 1, len(pcm) // 2))

    def _speech_seconds(self) -> float:
        return sum(len(b) for b in self._utterance) / (2 * SAMPLE_RATE)

    async def _on_vad_event(self, event: VADEvent) -> None:
        if event.type == VADEventType.START_OF_SPEECH:
            await self._finish_utterance()  # a flush may have left one open
            self._utterance = [f.data.tobytes() for f in event.frames]
            self._utterance_start = event.timestamp - self._speech_seconds()
            self._request_id = shortuuid("whisper_")
            self._interim_at = 0.0
            self._event_ch.send_nowait(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.START_OF_SPEECH, request_id=self._request_id
                )
            )
        elif event.type == VADEventType.INFERENCE_DONE and self._request_id:
            self._utterance.extend(f.data.tobytes() for f in event.frames)
            if event.raw_accumulated_silence == 0:
                self._final_candidate = None  # speech again: earlier decodes are out of date
            self._maybe_interim(event)
            self._maybe_decode_early(event)
        elif event.type == VADEventType.END_OF_SPEECH and self._request_id:
            # the VAD's own copy of the speech: prefix padding through the closing silence
            self._utterance = [f.data.tobytes() for f in event.frames]
            await self._finish_utterance()

    def _maybe_interim(self, event: VADEvent) -> None:
        spoken = self._speech_seconds()
        if (
            self._whisper.shedding()
            or self._decoding is not None
            or event.raw_accumulated_silence > _INTERIM_SILENCE_LIMIT
            or spoken - self._interim_at < self._whisper.options.interim_interval
            or spoken > _INTERIM_MAX_SECONDS
        ):
            return
        self._interim_at = spoken
        self._start_decode(interim_for=self._request_id)

    def _maybe_decode_early(self, event: VADEvent) -> None:
        if (
            self._decoding is None
            and self._final_candidate is None
            and event.raw_accumulated_silence >= self._whisper.options.decode_early_after
            and not self._whisper.shedding()
        ):
            self._start_decode(interim_for=None)

    def _start_decode(self, *, interim_for: str | None) -> None:
        task = asyncio.create_task(self._decode(b"".join(self._utterance), interim_for))
        self._decoding = self._final_candidate = task

    async def _decode(self, pcm: bytes, interim_for: str | None = None) -> Transcript:
        try:
            result = await asyncio.to_thread(self._whisper.transcriber.transcribe, pcm, final=True)
        finally:
            self._decoding = None
        if interim_for and result.text and interim_for == self._request_id:
            start = self._utterance_start + self.start_time_offset
            data = _speech_data(result, self._whisper.options.language, start, len(pcm) / 32000)
            self._event_ch.send_nowait(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.INTERIM_TRANSCRIPT,
                    request_id=interim_for,
                    alternatives=[data],
                )
            )
        return result

    async def _finish_utterance(self) -> None:
        if not self._request_id:
            return
        candidate, self._final_candidate = self._final_candidate, None
        ended = time.monotonic()
        if self._whisper.shedding():
            pcm = b"".join(self._utterance)
            result = await asyncio.to_thread(self._whisper.fallback_final, pcm)
            self.fallback_finals += 1
        else:
            if candidate is not None:  # nothing but silence after its buffer: it is the final
                result = await candidate
                self.early_finals += 1
            else:
                if self._decoding is not None:  # one decode at a time: CTranslate2 queues it
                    await asyncio.gather(self._decoding, return_exceptions=True)
                result = await self._decode(b"".join(self._utterance))
            if self._whisper.load is not None:
                self._whisper.load.final_ready(time.monotonic() - ended)
        request_id, self._request_id = self._request_id, ""
        duration = sum(len(b) for b in self._utterance) / (2 * SAMPLE_RATE)
        self._utterance = []
        if result.text:
            start = self._utterance_start + self.start_time_offset
            data = _speech_data(result, self._whisper.options.language, start, duration)
            self._event_ch.send_nowait(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                    request_id=request_id,
                    alternatives=[data],
                )
            )
        self._event_ch.send_nowait(
            stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH, request_id=request_id)
        )
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.RECOGNITION_USAGE,
                request_id=request_id,
                recognition_usage=stt.RecognitionUsage(audio_duration=duration),
            )
        )
