"""What the voice bench's callers say: sentences written for the bench only (absent from
every corpus, prompt and test in the repository), spoken by voices the agent never uses
(Debian's festival voices and espeak-ng variants; the agent speaks Piper's joe or
espeak-ng's default en-us), resampled with sox to the 48 kHz mono a microphone sends."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 48_000

#: One call's turns: an inventory question naming a make (a tool call), a question the
#: agent answers without a tool, and a test-drive request (the agent asks for a name).
TURNS = (
    "Good afternoon. Have you got any Subaru wagons on the lot this week?",
    "Are you open on Sunday mornings?",
    "I would like to book a test drive of one of them on Friday.",
)

#: (label, command) of each caller voice; `{text}` and `{out}` are filled in.
FESTIVAL = ["text2wave", "-eval", "({voice})", "-o", "{out}", "{text}"]
ESPEAK = ["espeak-ng", "-v", "{voice}", "-s", "{rate}", "-w", "{out}", "{text}"]
VOICES: tuple[tuple[str, list[str]], ...] = (
    (
        "festival us slt (hts)",
        [a.replace("{voice}", "voice_cmu_us_slt_arctic_hts") for a in FESTIVAL],
    ),
    ("festival kal (diphone)", [a.replace("{voice}", "voice_kal_diphone") for a in FESTIVAL]),
    (
        "espeak-ng en-us+f3",
        [a.replace("{voice}", "en-us+f3").replace("{rate}", "165") for a in ESPEAK],
    ),
    (
        "espeak-ng en-gb-x-rp+m4",
        [a.replace("{voice}", "en-gb-x-rp+m4").replace("{rate}", "155") for a in ESPEAK],
    ),
)


@dataclass(frozen=True)
class Utterance:
    text: str
    voice: str
    #: 48 kHz mono int16, trailing silence trimmed: its last sample is the end of speech.
    samples: np.ndarray

    @property
    def duration_s(self) -> float:
        return len(self.samples) / RATE


def available_voices() -> list[tuple[str, list[str]]]:
    return [(label, argv) for label, argv in VOICES if shutil.which(argv[0])]


def synthesise(text: str, voice: str, argv: list[str], workdir: Path) -> Utterance:
    raw = workdir / f"raw-{abs(hash((text, voice)))}.wav"
    out = raw.with_name(raw.stem + "-48k.wav")
    if argv[0] == "text2wave":  # text2wave reads the text from a file
        script = raw.with_suffix(".txt")
        script.write_text(text)
        text_arg = str(script)
    else:
        text_arg = text
    cmd = [a.replace("{out}", str(raw)).replace("{text}", text_arg) for a in argv]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    subprocess.run(
        ["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out), "pad", "0.3", "0"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with wave.open(str(out)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return Utterance(text, voice, trim_trailing_silence(samples))


def trim_trailing_silence(samples: np.ndarray, threshold: float = 300.0) -> np.ndarray:
    """Cut after the last 10 ms whose RMS is above `threshold`: the caller's end of speech
    is then the last sample sent, not a guess inside the synthesiser's closing silence."""
    step = RATE // 100
    frames = len(samples) // step
    if not frames:
        return samples
    blocks = samples[: frames * step].astype(np.float64).reshape(frames, step)
    loud = np.flatnonzero(np.sqrt((blocks**2).mean(axis=1)) > threshold)
    return samples[: (int(loud[-1]) + 1) * step] if loud.size else samples


def script(turns: int, voices: int | None = None) -> list[list[Utterance]]:
    """For each caller voice, its first `turns` sentences."""
    chosen = available_voices()[:voices] if voices else available_voices()
    if not chosen:
        raise RuntimeError("no caller voice: install festival (festvox-us-slt-hts) or espeak-ng")
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as tmp:
        return [
            [synthesise(text, label, argv, Path(tmp)) for text in TURNS[:turns]]
            for label, argv in chosen
        ]
