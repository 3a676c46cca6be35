"""Whisper's blocking decode: 16 kHz PCM in, text, confidence and word timings out.

With ``word_timestamps=True`` faster-whisper re-seeks to the last word's end and encodes
the rest of the buffer as a second 30 s window: twice the CPU for a short utterance, and
a chance to hallucinate on the trailing silence. So the model keeps its encoder output,
the decode runs without word timestamps, and the words are aligned on the kept output:
one encoder pass.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a path never needs a hub; no call may reach one

import ctranslate2  # noqa: E402
import numpy as np  # noqa: E402
from faster_whisper import WhisperModel  # noqa: E402
from faster_whisper.tokenizer import Tokenizer  # noqa: E402

from .vocabulary import strip_prompt_echo  # noqa: E402

SAMPLE_RATE = 16000
# Whisper's decoder context, and what a window of speech can plausibly hold: a cap on new
# tokens stops a looping hallucination early and bounds the decode's CPU time
_MAX_LENGTH = 448
_WINDOW_SECONDS = 30.0
_TOKENS_PER_SECOND = 8
_HOP_LENGTH = 160  # audio samples per mel frame
_PUNCTUATION = set(".,!?;:\"'")


class EncoderKeepingWhisperModel(WhisperModel):  # type: ignore[misc]
    """A WhisperModel whose last encoder output is readable from the thread that ran it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoded = threading.local()

    def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
        output = super().encode(features)
        self._encoded.last = output
        return output

    def take_encoder_output(self) -> ctranslate2.StorageView | None:
        """The last encoder output of this thread, forgotten once taken."""
        output: ctranslate2.StorageView | None = getattr(self._encoded, "last", None)
        self._encoded.last = None
        return output


@dataclass(frozen=True)
class WhisperOptions:
    language: str = "en-US"
    prompt: str | None = None
    """Decoding prompt biasing the vocabulary (see :mod:`adapters.voice.vocabulary`)."""
    interim_interval: float = 0.8
    """Seconds of speech between interim decodes; each costs one full encoder pass."""
    beam_size: int = 1
    """Beam width of final-quality decodes; ``final=False`` decodes are always greedy."""
    word_timings: bool = True
    """Word start/end/probability in finals (a cross-attention alignment pass)."""
    decode_early_after: float = 0.15
    """Silence after which the final is decoded ahead of the VAD's end of speech (silero
    waits out 0.55 s of closing silence; the decode needs about that on a quiet 2-core host)."""


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
        text = " ".join(texts)
        heard = strip_prompt_echo(text) if self._options.prompt else text
        if not heard:
            return Transcript("", 0.0, ())
        if heard != text:
            # the prompt recited into the transcript is not the caller's: keep what is left,
            # without word timings, which would still name the recited words
            text, words, own_alignment = heard, [], False
        if own_alignment:
            words = self._align(tokens, audio.size)
        if words:
            confidence = sum(w[3] for w in words) / len(words)
        else:  # the mean token probability, from the decoder's own log-probabilities
            confidence = math.exp(logprob_sum / max(len(tokens), 1))
        return Transcript(text, min(max(confidence, 0.0), 1.0), tuple(words))

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
