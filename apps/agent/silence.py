"""Silence on the line: an alert when nobody has spoken for a while, an end when speech resumes.

The clock and the sleep are injectable so tests can move time by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class SilenceMonitor:
    """Call `speaking(who, True/False)` as speakers start and stop, and `activity()` for
    any other sign of speech (an interim transcript). `run()` checks every `check_every_s`."""

    def __init__(
        self,
        on_detected: Callable[[float], None],
        on_ended: Callable[[float], None],
        *,
        timeout_s: float = 30.0,
        check_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if timeout_s <= 0 or check_every_s <= 0:
            raise ValueError("silence timeout and check interval must be positive")
        self.timeout_s = timeout_s
        self.check_every_s = min(check_every_s, timeout_s)
        self._on_detected, self._on_ended = on_detected, on_ended
        self._clock, self._sleep = clock, sleep
        self._speaking: set[str] = set()
        self._quiet_since = clock()
        self._alert = False
        self._task: asyncio.Task[None] | None = None

    @property
    def alerting(self) -> bool:
        return self._alert

    def silent_for(self) -> float:
        return 0.0 if self._speaking else max(0.0, self._clock() - self._quiet_since)

    def speaking(self, who: str, active: bool) -> None:
        if active:
            self._resume()
            self._speaking.add(who)
        elif who in self._speaking:  # other changes (listening -> away) are not speech
            self._speaking.discard(who)
            if not self._speaking:
                self._quiet_since = self._clock()

    def activity(self) -> None:
        self._resume()
        if not self._speaking:
            self._quiet_since = self._clock()

    def check(self) -> bool:
        """Raise the alert if the line has been quiet long enough; True if it was raised."""
        if self._alert or self._speaking:
            return False
        silent = self.silent_for()
        if silent < self.timeout_s:
            return False
        self._alert = True
        self._safely(self._on_detected, silent)
        return True

    def _resume(self) -> None:
        if self._alert:
            self._alert = False
            self._safely(self._on_ended, self.silent_for())

    @staticmethod
    def _safely(callback: Callable[[float], None], value: float) -> None:
        try:
            callback(value)
        except Exception:  # a monitoring hiccup must not stop the monitor
            log.exception("silence callback failed")

    async def run(self) -> None:
        while True:
            await self._sleep(self.check_every_s)
            self.check()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="silence")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
