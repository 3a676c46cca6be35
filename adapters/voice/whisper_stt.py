"""Local speech-to-text on faster-whisper (Whisper tiny.en, CTranslate2 int8 on the CPU).

Whisper is not a streaming model: it decodes a whole buffer, padded to 30 s, so every
decode costs about the same whatever the audio's length. The stream therefore segments
speech with silero's VAD and decodes each utterance: the growing buffer at most once per
``interim_interval`` of speech, only while the caller is still talking, and never two
decodes at once, for INTERIM_TRANSCRIPTs; the whole utterance once the VAD hears its end,
for the FINAL_TRANSCRIPT with confidence and word timings.
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

# before faster-whisper brings in huggingface_hub: models are paths, no call may reach a hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from faster_whisper.tokenizer import Tokenizer  # noqa: E402
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
from livekit.agents.utils import AudioBuffer, is_given, shortuuid  # noqa: E402
from livekit.agents.vad import VAD, VADEvent, VADEventType, VADStream  # noqa: E402

from .pocketsphinx_stt import MonoResampler, buffer_to_pcm16k  # noqa: E402

if TYPE_CHECKING:
    from .whisper_model import EncoderKeepingWhisperModel

SAMPLE_RATE = 16000
# while the VAD has heard this much silence, the caller may be done: no new interim decode,
# so that the final one never queues behind it
_INTERIM_SILENCE_LIMIT = 0.1
# past this much speech an interim decode would need a second 30 s window
_INTERIM_MAX_SECONDS = 25.0
# Whisper's decoder context, and what a window of speech can plausibly hold: a cap on new
# tokens stops a looping hallucination early and bounds the decode's CPU time
_MAX_LENGTH = 448
_WINDOW_SECONDS = 30.0
_TOKENS_PER_SECOND = 8
_HOP_LENGTH = 160  # audio samples per mel frame
_PUNCTUATION = set(".,!?;:\"'")


@dataclass(frozen=True)
class WhisperOptions:
    language: str = "en-US"
    prompt: str | None = None
    """Decoding prompt biasing the vocabulary (see :mod:`adapters.voice.vocabulary`)."""
    interim_interval: float = 0.8
    """Seconds of speech between interim decodes; each costs one full encoder pass."""
    beam_size: int = 1
    """Beam width of the final decode; interims are always greedy."""
    word_timings: bool = True
    """Word start/end/probability in finals (a cross-attention alignment pass)."""


@dataclass(frozen=True)
class Transcript:
    """One decoded utterance; times in seconds from the start of the decoded audio."""

    text: str
    confidence: float
    words: tuple[tuple[str, float, float, float], ...]  # (word, start, end, probability)


class WhisperTranscriber:
    """The blocking core: 16 kHz int16 PCM in, a :class:`Transcript` out."""

    def __init__(self, model: EncoderKeepingWhisperModel, options: WhisperOptions) -> None:
        self._model = model
        self._options = options
        self._language = options.language.split("-")[0].lower()
        self._tokenizer = Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language=self._language if model.model.is_multilingual else None,
        )
        prompt = options.prompt.strip() if options.prompt else ""
        # faster-whisper keeps the last 223 prompt tokens; 5 more mark the prompt and task
        prompt_tokens = min(len(model.hf_tokenizer.encode(" " + prompt).ids), 223) if prompt else 0
        self._token_budget = _MAX_LENGTH - prompt_tokens - 5

    def max_new_tokens(self, seconds: float) -> int:
        """New tokens allowed per 30 s window for ``seconds`` of audio."""
        wanted = int(min(seconds, _WINDOW_SECONDS) * _TOKENS_PER_SECOND) + 16
        return max(1, min(wanted, self._token_budget))

    def transcribe(self, pcm: bytes, *, final: bool) -> Transcript:
        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        if audio.size < SAMPLE_RATE // 10:  # under 100 ms: nothing Whisper can read
            return Transcript("", 0.0, ())
        seconds = audio.size / SAMPLE_RATE
        words_wanted = final and self._options.word_timings
        # past one window, faster-whisper's own (costlier) alignment handles the seams
        own_alignment = words_wanted and seconds <= _WINDOW_SECONDS
        self._model.take_encoder_output()
        segments, _ = self._model.transcribe(
            audio,
            language=self._language,
            task="transcribe",
            beam_size=self._options.beam_size if final else 1,
            # one pass only: the temperature fallback would multiply the CPU cost
            temperature=0.0,
            condition_on_previous_text=False,
            initial_prompt=self._options.prompt,
            max_new_tokens=self.max_new_tokens(seconds),
            # timestamp tokens made tiny.en end a short utterance after one word; word
            # timings come from the cross-attention alignment instead
            without_timestamps=True,
            word_timestamps=words_wanted and not own_alignment,
            vad_filter=False,  # the stream's VAD already cut the utterance
        )
        texts: list[str] = []
        tokens: list[int] = []
        words: list[tuple[str, float, float, float]] = []
        logprob_sum = 0.0
        for seg in segments:
            text = seg.text.strip()
            if not text:
                continue
            texts.append(text)
            tokens += seg.tokens
            logprob_sum += seg.avg_logprob * max(len(seg.tokens), 1)
            for w in seg.words or ():
                if w.word.strip():
                    words.append((w.word.strip(), float(w.start), float(w.end), w.probability))
        if not texts:
            return Transcript("", 0.0, ())
        if own_alignment:
            words = self._align(tokens, audio.size)
        if words:
            confidence = sum(w[3] for w in words) / len(words)
        else:  # the mean token probability, from the decoder's own log-probabilities
            confidence = math.exp(logprob_sum / max(len(tokens), 1))
        return Transcript(" ".join(texts), min(max(confidence, 0.0), 1.0), tuple(words))

    def _align(self, tokens: list[int], samples: int) -> list[tuple[str, float, float, float]]:
        """Word timings and probabilities from the decode's own encoder output."""
        encoder_output = self._model.take_encoder_output()
        text_tokens = [t for t in tokens if t < self._tokenizer.eot]
        if encoder_output is None or not text_tokens:
            return []
        num_frames = samples // _HOP_LENGTH
        [alignment] = self._model.find_alignment(
            self._tokenizer, [text_tokens], encoder_output, num_frames
        )
        words: list[tuple[str, float, float, float]] = []
        for w in alignment:
            word = str(w["word"]).strip()
            if not word:
                continue
            if words and all(ch in _PUNCTUATION for ch in word):  # "," is a token of its own
                last = words[-1]
                words[-1] = (last[0] + word, last[1], last[2], last[3])
                continue
            words.append((word, float(w["start"]), float(w["end"]), float(w["probability"])))
        return words


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
    # tiny.en is an English-only model; anything else would come back as English gibberish
    if is_given(language) and not language.lower().startswith("en"):
        raise ValueError(f"Whisper tiny.en only supports English, got {language!r}")


class WhisperSTT(stt.STT[Literal["metrics_collected", "error"]]):
    """Offline English STT: streaming with interim results, finals with word timings."""

    def __init__(
        self,
        model: EncoderKeepingWhisperModel,
        *,
        vad: VAD,
        options: WhisperOptions | None = None,
        model_name: str = "tiny.en",
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
        self._decoding: asyncio.Task[None] | None = None

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
            self._maybe_interim(event)
        elif event.type == VADEventType.END_OF_SPEECH and self._request_id:
            # the VAD's own copy of the speech: prefix padding through the closing silence
            self._utterance = [f.data.tobytes() for f in event.frames]
            await self._finish_utterance()

    def _maybe_interim(self, event: VADEvent) -> None:
        spoken = self._speech_seconds()
        if (
            self._decoding is not None
            or event.raw_accumulated_silence > _INTERIM_SILENCE_LIMIT
            or spoken - self._interim_at < self._whisper.options.interim_interval
            or spoken > _INTERIM_MAX_SECONDS
        ):
            return
        self._interim_at = spoken
        self._decoding = asyncio.create_task(
            self._interim(b"".join(self._utterance), self._request_id)
        )

    async def _interim(self, pcm: bytes, request_id: str) -> None:
        try:
            result = await asyncio.to_thread(self._whisper.transcriber.transcribe, pcm, final=False)
        finally:
            self._decoding = None
        if not result.text or request_id != self._request_id:
            return  # nothing heard yet, or the utterance already ended
        start = self._utterance_start + self.start_time_offset
        data = _speech_data(result, self._whisper.options.language, start, len(pcm) / 32000)
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.INTERIM_TRANSCRIPT,
                request_id=request_id,
                alternatives=[data],
            )
        )

    async def _finish_utterance(self) -> None:
        if not self._request_id:
            return
        if self._decoding is not None:  # one decode at a time: CTranslate2 would queue it
            await asyncio.gather(self._decoding, return_exceptions=True)
        request_id, self._request_id = self._request_id, ""
        pcm = b"".join(self._utterance)
        self._utterance = []
        result = await asyncio.to_thread(self._whisper.transcriber.transcribe, pcm, final=True)
        duration = len(pcm) / (2 * SAMPLE_RATE)
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
