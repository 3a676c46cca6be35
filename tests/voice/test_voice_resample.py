"""The deterministic resampler the STT uses instead of soxr."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.voice.resample import SincResampler, resample


def tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 10000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


@pytest.mark.parametrize(("src", "dst"), [(48000, 16000), (22050, 16000), (22050, 48000)])
def test_tone_survives_resampling(src: int, dst: int) -> None:
    out = resample(tone(440, src), src, dst)
    assert len(out) == dst
    expected = tone(440, dst).astype(np.float64)
    assert np.abs(out[200:-200] - expected[200:-200]).max() < 4  # int16 LSBs


def test_content_above_the_new_nyquist_is_removed() -> None:
    out = resample(tone(10000, 48000), 48000, 16000).astype(np.float64)
    assert np.sqrt(np.mean(out[200:-200] ** 2)) < 5  # from 7071 rms


def test_chunking_does_not_change_the_output() -> None:
    x = np.random.default_rng(7).integers(-8000, 8000, 22050).astype(np.int16)
    r = SincResampler(22050, 16000)
    chunks = [r.push(x[i : i + 441]) for i in range(0, len(x), 441)] + [r.flush()]
    assert np.array_equal(np.concatenate(chunks), resample(x, 22050, 16000))
    assert np.array_equal(resample(x, 22050, 16000), resample(x, 22050, 16000))
