"""Deterministic streaming resampler (windowed sinc) for int16 mono audio.

``rtc.AudioResampler`` (soxr) dithers its int16 output, so the same call audio
resampled twice differs by a few LSBs, and that is enough to flip pocketsphinx
between hypotheses. Speech recognition wants reproducible input, so the STT path
resamples with this small numpy implementation instead.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


class SincResampler:
    """Band-limited resampling between integer rates, fed in arbitrary chunks.

    Positions are exact integer arithmetic (output k sits at input k*in/out), and
    the kernel for each of the out/gcd fractional phases is computed once.
    """

    def __init__(self, in_rate: int, out_rate: int, *, zero_crossings: int = 16) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.in_rate = in_rate
        self.out_rate = out_rate
        g = math.gcd(in_rate, out_rate)
        self._phase_unit = g
        # low-pass at the lower Nyquist; widening the kernel keeps its quality
        cutoff = min(1.0, out_rate / in_rate)
        half = zero_crossings / cutoff
        self._reach = math.ceil(half)
        self._taps = np.arange(-self._reach, self._reach + 1)
        frac = np.arange(out_rate // g) * g / out_rate  # fractional part of each phase
        t = self._taps[None, :] - frac[:, None]
        window = np.where(
            np.abs(t) <= half,
            0.42 + 0.5 * np.cos(np.pi * t / half) + 0.08 * np.cos(2 * np.pi * t / half),
            0.0,
        )  # Blackman
        table = cutoff * np.sinc(cutoff * t) * window
        self._table: FloatArray = table / table.sum(axis=1, keepdims=True)  # unity DC gain
        self._buf: FloatArray = np.zeros(0, dtype=np.float64)
        self._buf_start = 0  # absolute input index of _buf[0]
        self._next_out = 0  # absolute index of the next output sample

    def push(self, samples: Int16Array) -> Int16Array:
        """Resample a chunk; returns the output samples that are now fully determined."""
        self._buf = np.concatenate([self._buf, samples.astype(np.float64)])
        newest = self._buf_start + len(self._buf) - 1 - self._reach  # last usable center
        last = ((newest + 1) * self.out_rate - 1) // self.in_rate if newest >= 0 else -1
        return self._emit(last)

    def flush(self) -> Int16Array:
        """Output the tail, treating the future as silence, and reset the position."""
        available = self._buf_start + len(self._buf)
        self._buf = np.concatenate([self._buf, np.zeros(self._reach + 1)])
        out = self._emit(-(-available * self.out_rate // self.in_rate) - 1)
        self._buf = np.zeros(0, dtype=np.float64)
        self._buf_start = available
        return out

    def _emit(self, last: int) -> Int16Array:
        if last < self._next_out:
            return np.zeros(0, dtype=np.int16)
        pos = np.arange(self._next_out, last + 1, dtype=np.int64) * self.in_rate
        base = pos // self.out_rate
        phase = (pos % self.out_rate) // self._phase_unit
        local = base[:, None] + self._taps[None, :] - self._buf_start
        # samples before the stream started are silence
        values = np.where(local >= 0, self._buf[np.clip(local, 0, len(self._buf) - 1)], 0.0)
        out: FloatArray = np.einsum("ij,ij->i", values, self._table[phase])
        self._next_out = last + 1
        keep_from = self._next_out * self.in_rate // self.out_rate - self._reach
        drop = min(max(0, keep_from - self._buf_start), len(self._buf))
        self._buf = self._buf[drop:]
        self._buf_start += drop
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def resample(samples: Int16Array, in_rate: int, out_rate: int) -> Int16Array:
    """Resample a whole mono buffer."""
    if in_rate == out_rate:
        return samples.copy()
    r = SincResampler(in_rate, out_rate)
    return np.concatenate([r.push(samples), r.flush()])
