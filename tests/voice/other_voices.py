"""Speech from voices the agent never speaks with, and the word error rate against it.

Debian's festival with the CMU US SLT HTS voice stands in for a caller: it is neither the
agent's Piper voice nor the espeak-ng voice the pocketsphinx language model was tuned on.
sox resamples it to 16 kHz mono. (espeak-ng's British voice was tried too: tiny.en's word
error rate on it swings between 0.2 and 0.5 from run to run, too unstable for a test.)
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import pytest
from livekit import rtc

FESTIVAL_VOICE = "festival:cmu_us_slt_arctic_hts"


def _require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:  # fail, never skip: a missing tool would hide a broken recogniser
        pytest.fail(f"these tests need {tool}: apt-get install {package}", pytrace=False)
    return path


def _synthesise(text: str, voice: str, raw: Path) -> None:
    engine, name = voice.split(":", 1)
    if engine == "festival":
        text2wave = _require("text2wave", "festival festvox-us-slt-hts")
        command = [text2wave, "-eval", f"(voice_{name})", "-o", str(raw)]
    else:
        espeak = _require("espeak-ng", "espeak-ng")
        command = [espeak, "-v", name, "-s", "150", "-p", "40", "-w", str(raw), "--stdin"]
    subprocess.run(command, input=text.encode(), check=True, capture_output=True)


@functools.lru_cache(maxsize=32)
def caller_speech(text: str, voice: str = FESTIVAL_VOICE, rate: int = 16000) -> rtc.AudioFrame:
    """``text`` spoken by ``voice`` ("festival:NAME" or "espeak:NAME"), resampled by sox."""
    sox = _require("sox", "sox")
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "caller.wav"
        _synthesise(text, voice, raw)
        subprocess.run(
            [sox, str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out)], check=True
        )
        with wave.open(str(out), "rb") as w:
            n = w.getnframes()
            return rtc.AudioFrame(w.readframes(n), w.getframerate(), 1, n)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; '-' splits ('F-150' is 'f 150')."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(len(ref), 1)
