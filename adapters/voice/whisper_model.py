"""faster-whisper's model, keeping the encoder's output of the current thread's decode.

With ``word_timestamps=True`` faster-whisper re-seeks to the last word's end and encodes
the rest of the buffer as a second 30 s window: twice the CPU for a short utterance, and
a chance to hallucinate on the trailing silence. Decoding without word timestamps and
aligning the words on the kept encoder output costs one encoder pass.
"""

from __future__ import annotations

import os
import threading
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a path never needs a hub; no call may reach one

import ctranslate2  # noqa: E402
import numpy as np  # noqa: E402
from faster_whisper import WhisperModel  # noqa: E402


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
