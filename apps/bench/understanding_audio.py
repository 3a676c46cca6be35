"""Held-out caller speech for `callcenter bench understanding`: synthesised, then degraded.

Voices are festival (text2wave) and espeak-ng; sox resamples to 16 kHz mono. The
conditions are what a phone line does to a caller:

- clean: the synthesiser's output;
- noise: pink and brown noise (sox's generators, equal power) mixed in at 12 dB SNR,
  measured against the speech's RMS over the whole clip;
- telephone: band-limited to 300-3400 Hz and carried at 8 kHz in mu-law, as on the
  public network, then back to 16 kHz.

Clips are cached in one temporary directory for the run: the dialogue bench speaks some
of the same text in the same voices.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

RATE = 16000
NOISE_SNR_DB = 12.0


class MissingTool(RuntimeError):
    """A synthesiser or sox is not installed (scripts/setup.sh installs them)."""


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"{name} not found: apt-get install {package}")
    return path


def read_pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono")
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def write_pcm(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())


class ClipCache:
    """16 kHz mono int16 speech by (text, voice, condition), made once per run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sox = _tool("sox", "sox")
        self.synthesised = 0

    def _path(self, *key: str) -> Path:
        return self.directory / (hashlib.sha1("\x00".join(key).encode()).hexdigest() + ".wav")

    def speech(self, text: str, voice: str, condition: str = "clean") -> np.ndarray:
        path = self._path(text, voice, condition)
        if not path.exists():
            if condition == "clean":
                self._synthesise(text, voice, path)
            elif condition == "noise":
                self._add_noise(self.speech(text, voice), path, seed=text + voice)
            elif condition == "telephone":
                self._telephone(self._path(text, voice, "clean"), path, text, voice)
            else:
                raise ValueError(f"unknown condition {condition!r}")
        return read_pcm(path)

    def _synthesise(self, text: str, voice: str, out: Path) -> None:
        engine, name = voice.split(":", 1)
        raw = out.with_suffix(".raw.wav")
        if engine == "festival":
            text2wave = _tool("text2wave", "festival festvox-kallpc16k festvox-kdlpc16k")
            command = [text2wave, "-eval", f"(voice_{name})", "-o", str(raw)]
        elif engine == "espeak":
            command = [_tool("espeak-ng", "espeak-ng"), "-v", name, "-w", str(raw), "--stdin"]
        else:
            raise ValueError(f"unknown voice {voice!r}")
        subprocess.run(command, input=text.encode(), check=True, capture_output=True)
        subprocess.run(
            [self.sox, str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)],
            check=True,
            capture_output=True,
        )
        raw.unlink()
        self.synthesised += 1

    def _noise(self, kind: str, seconds: float, seed: str) -> np.ndarray:
        """sox's pink or brown noise; the seed makes the same clip get the same noise."""
        out = self._path("noise", kind, seed)
        seed_value = int(hashlib.sha1(seed.encode()).hexdigest()[:6], 16)
        subprocess.run(
            [self.sox, "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(out),
             "synth", f"{seconds:.3f}", f"{kind}noise", "trim", "0", f"{seconds:.3f}",
             "vol", "0.5"],
            check=True, capture_output=True,
        )  # fmt: skip
        noise = read_pcm(out).astype(np.float64)
        out.unlink()
        # sox -R repeats the same noise for every clip; a seeded roll keeps clips apart
        return np.roll(noise, seed_value % max(noise.size, 1))

    def _add_noise(self, speech: np.ndarray, out: Path, seed: str) -> None:
        seconds = speech.size / RATE
        noise = self._noise("pink", seconds, seed) + self._noise("brown", seconds, seed)
        noise = np.resize(noise, speech.size)  # sox rounds the length to its own frames
        signal = speech.astype(np.float64)
        speech_rms = np.sqrt(np.mean(signal**2))
        noise_rms = np.sqrt(np.mean(noise**2)) or 1.0
        gain = speech_rms / (noise_rms * 10 ** (NOISE_SNR_DB / 20))
        mixed = signal + gain * noise
        peak = np.max(np.abs(mixed)) or 1.0
        if peak > 32767:  # scale rather than clip: clipping is a distortion of its own
            mixed *= 32767 / peak
        write_pcm(out, np.round(mixed))

    def _telephone(self, clean: Path, out: Path, text: str, voice: str) -> None:
        self.speech(text, voice)  # makes the clean clip if needed
        narrow = out.with_suffix(".8k.wav")
        subprocess.run(
            [self.sox, str(clean), "-r", "8000", "-e", "u-law", str(narrow),
             "sinc", "300-3400"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [self.sox, str(narrow), "-r", str(RATE), "-e", "signed", "-b", "16", str(out)],
            check=True,
            capture_output=True,
        )
        narrow.unlink()
