"""Local speech-to-text on pocketsphinx, shaped as a livekit-agents 1.8.9 ``stt.STT``.

Uses pocketsphinx's bundled US English acoustic model with the dealership language
model from :mod:`tools.lm_builder` (or the bundled generic LM). Streaming
segmentation uses pocketsphinx's own ``Endpointer`` VAD, so utterance boundaries and
FINAL_TRANSCRIPT timing do not depend on the agent's silero VAD.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pocketsphinx
from livekit import rtc
from livekit.agents import stt
from livekit.agents.language import LanguageCode
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    TimedString,
)
from livekit.agents.utils import AudioBuffer, is_given, shortuuid

from .dealership_lm import DICT_PATH, LM_PATH
from .resample import SincResampler

SAMPLE_RATE = 16000
_BYTES_PER_SECOND = SAMPLE_RATE * 2
# the acoustic model's feature frame rate (-frate 100)
_FRAMES_PER_SECOND = 100
_ALT_PRON_RE = re.compile(r"\(\d+\)$")


@dataclass(frozen=True)
class PocketsphinxOptions:
    """Decoder and segmentation settings; defaults were tuned on espeak-ng speech."""

    lm_path: Path | None = LM_PATH
    """ARPA/binary LM; ``None`` uses pocketsphinx's generic English LM."""
    dict_path: Path | None = DICT_PATH
    """Pronunciations; ``None`` uses the bundled 135k-word cmudict."""
    language: str = "en-US"
    interim_interval: float = 0.3
    """Seconds of speech audio between INTERIM_TRANSCRIPT events."""
    endpoint_window: float = 0.3
    endpoint_ratio: float = 0.9
    vad_mode: int = 2
    """pocketsphinx.Vad aggressiveness 0..3 (LOOSE..VERY_STRICT)."""
    cmn_warmup: float = 3.0
    """Seconds of speech during which FINALs come from a second, CMN-primed pass.

    Live cepstral mean normalisation starts from generic values and needs a few
    seconds of the caller's voice; until then each finished utterance is decoded
    again with CMN primed on itself (the first thing callers say matters most).
    Once adapted, the live result is better, so the extra pass stops.
    """


def _word_text(word: str) -> str:
    return _ALT_PRON_RE.sub("", word)


def _is_filler(word: str) -> bool:
    return word.startswith(("<", "[", "+")) or not word


def new_decoder(opts: PocketsphinxOptions) -> pocketsphinx.Decoder:
    """A decoder on the bundled acoustic model, quiet on stderr."""
    kwargs: dict[str, object] = {"samprate": SAMPLE_RATE, "loglevel": "FATAL"}
    if opts.lm_path is not None:
        kwargs["lm"] = str(opts.lm_path)
    if opts.dict_path is not None:
        kwargs["dict"] = str(opts.dict_path)
    return pocketsphinx.Decoder(**kwargs)


@dataclass(frozen=True)
class Transcript:
    """One decoded utterance, times in seconds relative to the decoded audio."""

    text: str
    confidence: float
    words: tuple[tuple[str, float, float, float], ...]  # (word, start, end, posterior)


def read_result(decoder: pocketsphinx.Decoder, start_time: float) -> Transcript:
    """Text, word timings and confidence of the decoder's last finished utterance.

    Confidence is the mean word posterior from the lattice; the hypothesis'
    own ``prob`` is the product over the whole utterance and shrinks with length.
    """
    words: list[tuple[str, float, float, float]] = []
    for seg in decoder.seg():
        if _is_filler(seg.word):
            continue
        words.append(
            (
                _word_text(seg.word),
                start_time + seg.start_frame / _FRAMES_PER_SECOND,
                start_time + (seg.end_frame + 1) / _FRAMES_PER_SECOND,
                min(max(float(seg.prob), 0.0), 1.0),
            )
        )
    text = " ".join(w[0] for w in words)
    confidence = sum(w[3] for w in words) / len(words) if words else 0.0
    return Transcript(text=text, confidence=confidence, words=tuple(words))


def decode_pcm(decoder: pocketsphinx.Decoder, pcm: bytes, start_time: float = 0.0) -> Transcript:
    """Decode a whole 16 kHz mono buffer as one utterance (blocking).

    A first pass without search primes cepstral mean normalisation on this very
    audio; measured on espeak speech it lifts word accuracy from 0.75 to 0.84
    compared with ``full_utt=True`` and keeps the result independent of history.
    """
    chunk = 4096
    decoder.start_utt()
    for i in range(0, len(pcm), chunk):
        decoder.process_raw(pcm[i : i + chunk], no_search=True)
    decoder.end_utt()
    decoder.start_utt()
    for i in range(0, len(pcm), chunk):
        decoder.process_raw(pcm[i : i + chunk])
    decoder.end_utt()
    return read_result(decoder, start_time)


class MonoResampler:
    """Downmixes frames to mono and resamples them to 16 kHz, keeping filter state.

    Uses the deterministic :class:`SincResampler`, not ``rtc.AudioResampler``, whose
    dithered output makes transcripts of identical audio differ run to run.
    """

    def __init__(self, target_rate: int = SAMPLE_RATE) -> None:
        self._target = target_rate
        self._rate = 0
        self._resampler: SincResampler | None = None

    def push(self, frame: rtc.AudioFrame) -> bytes:
        out = b""
        if frame.sample_rate != self._rate:
            out = self.flush()
            self._rate = frame.sample_rate
            self._resampler = (
                None
                if frame.sample_rate == self._target
                else SincResampler(frame.sample_rate, self._target)
            )
        samples = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
        if self._resampler is None:
            return out + samples.tobytes()
        return out + self._resampler.push(samples).tobytes()

    def flush(self) -> bytes:
        if self._resampler is None:
            return b""
        return self._resampler.flush().tobytes()


def buffer_to_pcm16k(buffer: AudioBuffer) -> bytes:
    """Any-rate, any-channel audio buffer to 16 kHz mono int16 bytes."""
    frames = buffer if isinstance(buffer, list) else [buffer]
    conv = MonoResampler()
    return b"".join(conv.push(f) for f in frames) + conv.flush()


class StreamingRecognizer:
    """Synchronous core of the stream: endpointing, decoding and event creation.

    Kept free of asyncio so it can run in a worker thread and be tested directly.
    Times are seconds since the first byte fed, plus ``time_offset`` at call time.
    """

    def __init__(self, decoder: pocketsphinx.Decoder, opts: PocketsphinxOptions) -> None:
        self._decoder = decoder
        self._opts = opts
        self._language = opts.language
        self._buf = bytearray()
        self._base_time = 0.0  # audio time consumed by previous endpointers
        self._fed_seconds = 0.0  # audio time fed to the current endpointer
        self._ep = self._new_endpointer()
        self._in_utt = False
        self._utt_start = 0.0
        self._utt_pcm = bytearray()
        self._speech_seconds = 0.0  # decoded speech so far, for the CMN warm-up
        self._warming_up = opts.cmn_warmup > 0
        self._utt_bytes = 0
        self._last_interim_bytes = 0
        self._last_interim_text = ""
        self._request_id = ""
        self._usage_seconds = 0.0

    def _new_endpointer(self) -> pocketsphinx.Endpointer:
        return pocketsphinx.Endpointer(
            window=self._opts.endpoint_window,
            ratio=self._opts.endpoint_ratio,
            vad_mode=self._opts.vad_mode,
            sample_rate=SAMPLE_RATE,
        )

    @property
    def frame_bytes(self) -> int:
        return int(self._ep.frame_bytes)

    def feed(self, pcm: bytes, time_offset: float = 0.0) -> list[stt.SpeechEvent]:
        """Consume 16 kHz mono PCM; return the events it produced."""
        self._buf += pcm
        events: list[stt.SpeechEvent] = []
        fb = self.frame_bytes
        while len(self._buf) >= fb:
            frame = bytes(self._buf[:fb])
            del self._buf[:fb]
            self._usage_seconds += fb / _BYTES_PER_SECOND
            self._fed_seconds += fb / _BYTES_PER_SECOND
            speech = self._ep.process(frame)
            self._handle_speech(speech, events, time_offset)
        return events

    def finish(self, time_offset: float = 0.0) -> list[stt.SpeechEvent]:
        """End of segment: finalise any open utterance and reset the endpointer."""
        events: list[stt.SpeechEvent] = []
        rest = bytes(self._buf)
        self._buf.clear()
        self._usage_seconds += len(rest) / _BYTES_PER_SECOND
        self._fed_seconds += len(rest) / _BYTES_PER_SECOND
        # end_stream rejects an empty buffer; one silent sample still drains its queue
        speech = self._ep.end_stream(rest or b"\x00\x00")
        self._handle_speech(speech, events, time_offset)
        if self._in_utt:  # the endpointer had no trailing silence to close it
            self._close_utterance(events, time_offset, end=None)
        self._base_time += self._fed_seconds
        self._fed_seconds = 0.0
        self._ep = self._new_endpointer()
        events += self._usage_event()
        return events

    def _handle_speech(
        self, speech: bytes | None, events: list[stt.SpeechEvent], time_offset: float
    ) -> None:
        if speech is None:
            return
        if not self._in_utt:
            self._open_utterance(events, time_offset)
        if speech:  # end_stream may hand back an empty tail
            self._decoder.process_raw(speech)
            self._utt_bytes += len(speech)
            if self._warming_up:
                self._utt_pcm += speech
        if (
            self._utt_bytes - self._last_interim_bytes
            >= self._opts.interim_interval * _BYTES_PER_SECOND
        ):
            self._last_interim_bytes = self._utt_bytes
            self._maybe_interim(events, time_offset)
        if not self._ep.in_speech:
            self._close_utterance(events, time_offset, end=self._base_time + self._ep.speech_end)

    def _open_utterance(self, events: list[stt.SpeechEvent], time_offset: float) -> None:
        self._in_utt = True
        self._utt_start = self._base_time + float(self._ep.speech_start)
        self._utt_bytes = 0
        self._utt_pcm.clear()
        self._last_interim_bytes = 0
        self._last_interim_text = ""
        self._request_id = shortuuid("ps_")
        self._decoder.start_utt()
        events.append(
            stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH, request_id=self._request_id)
        )

    def _maybe_interim(self, events: list[stt.SpeechEvent], time_offset: float) -> None:
        hyp = self._decoder.hyp()
        text = " ".join(
            _word_text(w) for w in (hyp.hypstr.split() if hyp else []) if not _is_filler(w)
        )
        if not text or text == self._last_interim_text:
            return
        self._last_interim_text = text
        start = self._utt_start + time_offset
        data = stt.SpeechData(
            language=LanguageCode(self._language),
            text=text,
            start_time=start,
            end_time=start + self._utt_bytes / _BYTES_PER_SECOND,
            # partial hypotheses carry no lattice posterior yet
            confidence=0.0,
        )
        events.append(
            stt.SpeechEvent(
                type=stt.SpeechEventType.INTERIM_TRANSCRIPT,
                request_id=self._request_id,
                alternatives=[data],
            )
        )

    def _close_utterance(
        self, events: list[stt.SpeechEvent], time_offset: float, end: float | None
    ) -> None:
        self._decoder.end_utt()
        self._in_utt = False
        if self._warming_up:
            result = decode_pcm(self._decoder, bytes(self._utt_pcm), self._utt_start + time_offset)
            self._utt_pcm.clear()
        else:
            result = read_result(self._decoder, self._utt_start + time_offset)
        self._speech_seconds += self._utt_bytes / _BYTES_PER_SECOND
        self._warming_up = self._speech_seconds < self._opts.cmn_warmup
        end_time = (
            end if end is not None else self._utt_start + self._utt_bytes / _BYTES_PER_SECOND
        ) + time_offset
        if result.text:
            data = stt.SpeechData(
                language=LanguageCode(self._language),
                text=result.text,
                start_time=self._utt_start + time_offset,
                end_time=end_time,
                confidence=result.confidence,
                words=[
                    TimedString(
                        w, start_time=s, end_time=e, confidence=p, start_time_offset=time_offset
                    )
                    for w, s, e, p in result.words
                ],
            )
            events.append(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                    request_id=self._request_id,
                    alternatives=[data],
                )
            )
        events.append(
            stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH, request_id=self._request_id)
        )
        events += self._usage_event()

    def _usage_event(self) -> list[stt.SpeechEvent]:
        if self._usage_seconds <= 0:
            return []
        seconds, self._usage_seconds = self._usage_seconds, 0.0
        return [
            stt.SpeechEvent(
                type=stt.SpeechEventType.RECOGNITION_USAGE,
                request_id=self._request_id,
                recognition_usage=stt.RecognitionUsage(audio_duration=seconds),
            )
        ]


def recognize_pcm(pcm: bytes, opts: PocketsphinxOptions) -> stt.SpeechData:
    """Transcribe a whole 16 kHz buffer (blocking).

    Runs the streaming recognizer over it rather than one big utterance: the
    endpointer drops leading/trailing silence, which would otherwise skew the
    cepstral mean, and long buffers split into utterances like a live call.
    """
    recognizer = StreamingRecognizer(new_decoder(opts), opts)
    # a buffer cut right at speech onset gives the endpointer no non-speech to
    # anchor on and the first words get lost; 100 ms of lead-in restores them
    lead_in = b"\x00\x00" * (SAMPLE_RATE // 10)
    events = recognizer.feed(lead_in + pcm, -0.1) + recognizer.finish(-0.1)
    finals = [
        ev.alternatives[0] for ev in events if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    ]
    if not finals:  # too short for the endpointer to call it speech
        result = decode_pcm(new_decoder(opts), pcm)
        return stt.SpeechData(
            language=LanguageCode(opts.language),
            text=result.text,
            start_time=result.words[0][1] if result.words else 0.0,
            end_time=result.words[-1][2] if result.words else len(pcm) / _BYTES_PER_SECOND,
            confidence=result.confidence,
            words=[
                TimedString(w, start_time=s, end_time=e, confidence=p)
                for w, s, e, p in result.words
            ],
        )
    words = [w for f in finals for w in (f.words or [])]
    n_words = sum(len(f.text.split()) for f in finals)
    return stt.SpeechData(
        language=LanguageCode(opts.language),
        text=" ".join(f.text for f in finals),
        start_time=max(0.0, finals[0].start_time),
        end_time=finals[-1].end_time,
        confidence=sum(f.confidence * len(f.text.split()) for f in finals) / max(n_words, 1),
        words=words,
    )


def english_only(language: NotGivenOr[str], recogniser: str) -> None:
    """Refuse another language: the local models are English-only and would answer any
    other language with English gibberish."""
    if is_given(language) and not language.lower().startswith("en"):
        raise ValueError(f"{recogniser} only supports English, got {language!r}")


def _check_language(language: NotGivenOr[str]) -> None:
    english_only(language, "pocketsphinx STT")


class PocketsphinxSTT(stt.STT[Literal["metrics_collected", "error"]]):
    """Offline English STT with streaming, interim results and a dealership LM."""

    def __init__(
        self,
        *,
        lm_path: Path | None = LM_PATH,
        dict_path: Path | None = DICT_PATH,
        language: str = "en-US",
        interim_interval: float = 0.3,
        vad_mode: int = 2,
    ) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=True, offline_recognize=True
            )
        )
        _check_language(language)
        self._opts = PocketsphinxOptions(
            lm_path=lm_path,
            dict_path=dict_path,
            language=language,
            interim_interval=interim_interval,
            vad_mode=vad_mode,
        )

    @property
    def options(self) -> PocketsphinxOptions:
        return self._opts

    @property
    def model(self) -> str:
        lm = self._opts.lm_path.stem if self._opts.lm_path is not None else "generic"
        return f"en-us+{lm}"

    @property
    def provider(self) -> str:
        return "pocketsphinx"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        _check_language(language)
        opts = self._opts

        # decoding is CPU-bound C code; keep it off the event loop
        data = await asyncio.to_thread(lambda: recognize_pcm(buffer_to_pcm16k(buffer), opts))
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=shortuuid("ps_"),
            alternatives=[data],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> SpeechStream:
        _check_language(language)
        return SpeechStream(stt=self, opts=self._opts, conn_options=conn_options)


class SpeechStream(stt.RecognizeStream):
    """Streaming recognition: frames in, START/INTERIM/FINAL/END events out."""

    def __init__(
        self,
        *,
        stt: PocketsphinxSTT,
        opts: PocketsphinxOptions,
        conn_options: APIConnectOptions,
    ) -> None:
        # no sample_rate here: the base class resampler assumes mono input, we downmix too
        super().__init__(stt=stt, conn_options=conn_options)
        self._opts = opts

    async def _run(self) -> None:
        decoder = await asyncio.to_thread(new_decoder, self._opts)
        recognizer = StreamingRecognizer(decoder, self._opts)
        converter = MonoResampler()
        pending = bytearray()
        # batching ~90 ms per worker-thread hop bounds the overhead for 10 ms frames
        min_dispatch = 3 * recognizer.frame_bytes

        def feed_and_finish(pcm: bytes, offset: float) -> list[stt.SpeechEvent]:
            return recognizer.feed(pcm, offset) + recognizer.finish(offset)

        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                pcm = bytes(pending) + converter.flush()
                pending.clear()
                converter = MonoResampler()
                events = await asyncio.to_thread(feed_and_finish, pcm, self.start_time_offset)
            else:
                pending += converter.push(item)
                if len(pending) < min_dispatch:
                    continue
                pcm = bytes(pending)
                pending.clear()
                events = await asyncio.to_thread(recognizer.feed, pcm, self.start_time_offset)
            for ev in events:
                self._event_ch.send_nowait(ev)
