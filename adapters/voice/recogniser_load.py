"""When Whisper falls behind: finals from the lighter recogniser for a while, logged.

On a busy host a Whisper decode can take seconds, and the caller waits that long for every
answer. Once a final is ready later than ``late_after_s`` after the caller stopped, the
stream stops decoding with Whisper (no interims, no early finals) and has pocketsphinx,
about a tenth of the CPU, decode each final for ``shed_for_s``; then Whisper is tried
again. The call stays alive and answers, less accurately, and the log says when and why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from livekit.agents.types import TimedString

from .pocketsphinx_stt import PocketsphinxOptions, recognize_pcm
from .whisper_model import Transcript

__all__ = ["LoadShedding", "RecogniserLoad", "pocketsphinx_final"]

log = logging.getLogger(__name__)

DEFAULT_LATE_AFTER_S = 1.0
DEFAULT_SHED_FOR_S = 30.0


@dataclass(frozen=True)
class LoadShedding:
    late_after_s: float = DEFAULT_LATE_AFTER_S
    """A final ready later than this after the end of speech means Whisper is behind."""
    shed_for_s: float = DEFAULT_SHED_FOR_S
    """How long the lighter recogniser then decodes the finals."""


class RecogniserLoad:
    """Whether a call's finals should come from the lighter recogniser right now."""

    def __init__(
        self,
        policy: LoadShedding,
        *,
        fallback_name: str = "pocketsphinx",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.fallback_name = fallback_name
        self._clock = clock
        self._until: float | None = None
        self.times_shed = 0

    def shedding(self) -> bool:
        if self._until is None:
            return False
        if self._clock() < self._until:
            return True
        self._until = None
        log.info("speech recognition: Whisper decodes the finals again")
        return False

    def final_ready(self, late_s: float) -> None:
        """Whisper's final was ready ``late_s`` after the caller's end of speech."""
        if late_s <= self.policy.late_after_s:
            return
        self._until = self._clock() + self.policy.shed_for_s
        self.times_shed += 1
        log.warning(
            "speech recognition: Whisper fell behind (final ready %.2f s after the end of "
            "speech, over %.2f s); %s decodes the finals for the next %.0f s",
            late_s,
            self.policy.late_after_s,
            self.fallback_name,
            self.policy.shed_for_s,
        )


_POCKETSPHINX = PocketsphinxOptions()  # the dealership LM and dictionary


def pocketsphinx_final(pcm: bytes) -> Transcript:
    """One utterance of 16 kHz PCM decoded by pocketsphinx (blocking), as Whisper's type."""
    data = recognize_pcm(pcm, _POCKETSPHINX)
    words = tuple(_timed(w) for w in data.words or ())
    return Transcript(data.text, data.confidence, words)


def _timed(word: TimedString) -> tuple[str, float, float, float]:
    def seconds(value: object) -> float:  # pocketsphinx always sets them; NotGiven is typing
        return float(value) if isinstance(value, (int, float)) else 0.0

    return (str(word), seconds(word.start_time), seconds(word.end_time), seconds(word.confidence))
