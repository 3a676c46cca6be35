"""Word accuracy of the pocketsphinx STT on espeak-ng speech, with and without the LM.

``python3 -m uv run python -m tools.asr_eval`` prints per-sentence results. Measured
(10 sentences, 95 words; the output is deterministic):

================================  ===========  ==============
mode                              generic LM   dealership LM
================================  ===========  ==============
whole buffer (``recognize``)      0.368        0.916
one stream, all ten in a row      0.305        0.853
each as a call's first utterance  0.358        0.884
================================  ===========  ==============

With the dealership LM the five in-corpus sentences score 1.00 (whole buffer); the
five held out (not verbatim in the corpus) score 0.83. Synthetic speech is not a
caller on a phone line: treat these as a regression baseline, not field accuracy.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from livekit import rtc

from adapters.voice.espeak_tts import find_espeak
from adapters.voice.pocketsphinx_stt import (
    PocketsphinxOptions,
    StreamingRecognizer,
    buffer_to_pcm16k,
    new_decoder,
    recognize_pcm,
)

# (reference, in_corpus): held-out lines test the LM on word orders it never saw
EVAL_SENTENCES: tuple[tuple[str, bool], ...] = (
    ("i would like to book a test drive", True),
    ("do you have a honda civic under thirty thousand", True),
    ("any toyota under twenty five thousand", True),
    ("what are your hours", True),
    ("my vin is one h g c m eight two six three three a zero zero four three five two", True),
    ("can you call me back tomorrow at ten a m", False),
    ("i want to trade in my ford explorer", False),
    ("do you offer financing for a used jeep", False),
    ("my name is john and my number is five five five one two three four", False),
    ("is the red nissan rogue still available", False),
)


def normalise(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference length) by edit distance."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i]
        for j, h in enumerate(hyp, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1], len(ref)


def word_accuracy(reference: str, hypothesis: str) -> float:
    """1 - WER, floored at 0."""
    errors, n = word_errors(reference, hypothesis)
    return max(0.0, 1.0 - errors / n) if n else float(not normalise(hypothesis))


def espeak_wav(text: str, path: Path, *, voice: str = "en-us") -> Path:
    """``espeak-ng -v en-us -w path text``; raises if espeak-ng is not installed."""
    subprocess.run(
        [find_espeak(), "-v", voice, "-w", str(path), text], check=True, capture_output=True
    )
    return path


def read_wav(path: Path) -> rtc.AudioFrame:
    """A 16-bit PCM WAV file as one AudioFrame."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM")
        data = w.readframes(w.getnframes())
        channels = w.getnchannels()
        return rtc.AudioFrame(data, w.getframerate(), channels, len(data) // (2 * channels))


def espeak_frame(text: str, *, voice: str = "en-us") -> rtc.AudioFrame:
    """Speak ``text`` with espeak-ng into an in-memory frame (22050 Hz mono)."""
    with tempfile.TemporaryDirectory() as tmp:
        return read_wav(espeak_wav(text, Path(tmp) / "speech.wav", voice=voice))


@dataclass(frozen=True)
class EvalResult:
    reference: str
    hypothesis: str
    accuracy: float


@dataclass(frozen=True)
class EvalReport:
    label: str
    results: tuple[EvalResult, ...]

    @property
    def accuracy(self) -> float:
        """Corpus-level word accuracy (errors summed over all sentences)."""
        errors = sum(word_errors(r.reference, r.hypothesis)[0] for r in self.results)
        words = sum(len(normalise(r.reference)) for r in self.results)
        return max(0.0, 1.0 - errors / words)


def evaluate_whole_buffer(
    audio: Sequence[tuple[str, bytes]], opts: PocketsphinxOptions, label: str
) -> EvalReport:
    """Each sentence decoded alone, as ``PocketsphinxSTT.recognize`` does."""
    results = []
    for ref, pcm in audio:
        hyp = recognize_pcm(pcm, opts).text
        results.append(EvalResult(ref, hyp, word_accuracy(ref, hyp)))
    return EvalReport(label, tuple(results))


def evaluate_streaming(
    audio: Sequence[tuple[str, bytes]], opts: PocketsphinxOptions, label: str
) -> EvalReport:
    """All sentences through one stream, as one call: 0.5 s silence around each."""
    recognizer = StreamingRecognizer(new_decoder(opts), opts)
    silence = b"\x00\x00" * 8000
    results = []
    for ref, pcm in audio:
        events = recognizer.feed(silence + pcm + silence) + recognizer.finish()
        hyp = " ".join(
            ev.alternatives[0].text for ev in events if ev.type.value == "final_transcript"
        )
        results.append(EvalResult(ref, hyp, word_accuracy(ref, hyp)))
    return EvalReport(label, tuple(results))


def evaluate_first_utterances(
    audio: Sequence[tuple[str, bytes]], opts: PocketsphinxOptions, label: str
) -> EvalReport:
    """Each sentence as the opening utterance of a fresh call (cold CMN)."""
    results = [evaluate_streaming([item], opts, label).results[0] for item in audio]
    return EvalReport(label, tuple(results))


def synthesize_eval_set(
    sentences: Sequence[tuple[str, bool]] = EVAL_SENTENCES,
) -> list[tuple[str, bytes]]:
    """espeak-ng WAVs of the references, as 16 kHz mono PCM."""
    return [(ref, buffer_to_pcm16k(espeak_frame(ref))) for ref, _ in sentences]


def main() -> int:
    audio = synthesize_eval_set()
    generic = PocketsphinxOptions(lm_path=None, dict_path=None)
    dealership = PocketsphinxOptions()
    reports = [
        evaluate_whole_buffer(audio, generic, "generic LM, whole buffer"),
        evaluate_whole_buffer(audio, dealership, "dealership LM, whole buffer"),
        evaluate_streaming(audio, generic, "generic LM, streaming"),
        evaluate_streaming(audio, dealership, "dealership LM, streaming"),
        evaluate_first_utterances(audio, generic, "generic LM, first utterance of a call"),
        evaluate_first_utterances(audio, dealership, "dealership LM, first utterance of a call"),
    ]
    for report in reports:
        print(f"{report.label}: word accuracy {report.accuracy:.3f}")
        for r in report.results:
            print(f"  {r.accuracy:.2f}  {r.reference!r} -> {r.hypothesis!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
