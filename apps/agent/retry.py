"""Retrying transient failures (a room connection, an egress request) with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


async def with_backoff(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    base_delay_s: float = 0.5,
    max_delay_s: float = 8.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> T:
    """Run `attempt` until it succeeds, up to `attempts` times; re-raise the last error."""
    for n in range(1, attempts + 1):
        try:
            return await attempt()
        except retry_on as e:
            if n == attempts:
                raise
            # jitter: many jobs reconnecting at once should not retry in lockstep
            delay = min(max_delay_s, base_delay_s * 2 ** (n - 1)) * random.uniform(0.8, 1.2)
            log.warning(
                "%s failed (attempt %d/%d): %s; retrying in %.1fs", what, n, attempts, e, delay
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
