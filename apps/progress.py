"""A progress line for long work: events done, rate, ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self._tty = self.stream.isatty()
        self._last = 0.0

    def update(
        self, done: int, total: int, rate: float, eta_s: float | None, *, final: bool = False
    ) -> None:
        now = time.monotonic()
        # On a terminal redraw often; in logs print a line every few seconds.
        if not final and now - self._last < (0.1 if self._tty else 5.0):
            return
        self._last = now
        fraction = done / total if total else 1.0
        filled = int(self.width * min(1.0, fraction))
        eta = "--" if eta_s is None else f"{eta_s:,.0f}s"
        line = (
            f"{self.label:<18} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} "
            f"{done:,}/{total:,} events  {rate:,.0f} ev/s  ETA {eta}"
        )
        if self._tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
