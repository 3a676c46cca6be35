"""A token bucket per client address, for the public token endpoint."""

from __future__ import annotations

import time


class RateLimiter:
    def __init__(
        self, per_minute: int, *, burst: int | None = None, max_clients: int = 10_000
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(1, per_minute // 3))
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> tuple[bool, float]:
        """Whether a request may go ahead, and else how many seconds to wait."""
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._remember(client, (tokens - 1, now))
            return True, 0.0
        self._remember(client, (tokens, now))
        return False, (1 - tokens) / self.rate if self.rate else 60.0

    def _remember(self, client: str, state: tuple[float, float]) -> None:
        if len(self._buckets) >= self.max_clients and client not in self._buckets:
            self._buckets.pop(next(iter(self._buckets)))  # forget the oldest client
        self._buckets[client] = state
