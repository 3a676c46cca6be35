"""Failed admin logins per account and per client address, kept in PostgreSQL so that every
web process sees the same counts and `callcenter logins clear` can lift a lockout.

After `free_failures` failures a key is locked out for `base_lockout_s`, doubling with each
further failure up to `max_lockout_s`: guessing slows to a crawl, yet a real user who waits
can always log in again. Attempts while locked are refused unchecked and do not extend the
lock. Failures are forgotten `forget_after_s` after the last one; a success clears them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS login_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
)"""

_RETRY_AFTER = """
SELECT extract(epoch FROM max(locked_until) - now())::float8 FROM login_throttle
WHERE key = ANY(%s) AND locked_until > now()"""

_COUNT_FAILURE = """
INSERT INTO login_throttle AS t (key, failures, last_failure_at) VALUES (%s, 1, now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => %s)
               THEN 1 ELSE t.failures + 1 END,
    last_failure_at = now()
RETURNING failures"""

_LOCK = "UPDATE login_throttle SET locked_until = now() + make_interval(secs => %s) WHERE key = %s"
_FORGET_OLD = "DELETE FROM login_throttle WHERE last_failure_at < now() - make_interval(secs => %s)"
_CLEAR = "DELETE FROM login_throttle WHERE key = ANY(%s)"


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5  # per client address; an account gets twice as many
    base_lockout_s: float = 1.0
    max_lockout_s: float = 900.0
    forget_after_s: float = 3600.0

    def lockout_s(self, failures: int, free: int) -> float:
        if failures < free:
            return 0.0
        return min(self.max_lockout_s, self.base_lockout_s * 2.0 ** (failures - free))


@dataclass(frozen=True)
class FailedLogin:
    failures: int  # the most failures counted against either key
    locked_for_s: float  # 0 when this failure locked nothing


def throttle_keys(username: str, address: str) -> tuple[str, str]:
    return f"account:{username.casefold()[:128]}", f"address:{address}"


class LoginThrottle:
    def __init__(self, conninfo: str, policy: ThrottlePolicy) -> None:
        self.policy = policy
        self.pool = AsyncConnectionPool(conninfo, min_size=1, max_size=2, open=False)

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)
        async with self.pool.connection() as conn:
            await conn.execute(SCHEMA)

    async def close(self) -> None:
        await self.pool.close()

    async def retry_after_s(self, username: str, address: str) -> int:
        """Whole seconds until either key may try again; 0 when neither is locked."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(_RETRY_AFTER, (list(throttle_keys(username, address)),))
            row = await cur.fetchone()
        remaining = row[0] if row else None
        return max(1, math.ceil(remaining)) if remaining else 0

    async def failed(self, username: str, address: str) -> FailedLogin:
        account, client = throttle_keys(username, address)
        p = self.policy
        worst = FailedLogin(0, 0.0)
        async with self.pool.connection() as conn, conn.transaction():
            for key, free in ((account, 2 * p.free_failures), (client, p.free_failures)):
                cur = await conn.execute(_COUNT_FAILURE, (key, p.forget_after_s))
                row = await cur.fetchone()
                failures = int(row[0]) if row else 1
                lock = p.lockout_s(failures, free)
                if lock:
                    await conn.execute(_LOCK, (lock, key))
                worst = FailedLogin(max(worst.failures, failures), max(worst.locked_for_s, lock))
            await conn.execute(_FORGET_OLD, (p.forget_after_s,))
        return worst

    async def succeeded(self, username: str, address: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(_CLEAR, (list(throttle_keys(username, address)),))


# --- the CLI's view --------------------------------------------------------------------


def throttled(conninfo: str) -> list[dict[str, Any]]:
    """Every key with failures on record, locked ones first."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(SCHEMA)
        rows = conn.execute(
            "SELECT key, failures, last_failure_at, locked_until, locked_until > now() "
            "FROM login_throttle ORDER BY locked_until DESC NULLS LAST, key"
        ).fetchall()
    return [
        {
            "key": key,
            "failures": failures,
            "last_failure_at": last,
            "locked_until": until if locked else None,
        }
        for key, failures, last, until, locked in rows
    ]


def clear(conninfo: str, keys: Sequence[str] | None) -> int:
    """Forget the failures of these keys (all keys when None); returns how many were cleared."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(SCHEMA)
        if keys is None:
            cur = conn.execute("DELETE FROM login_throttle")
        else:
            cur = conn.execute(_CLEAR, (list(keys),))
        return cur.rowcount


def describe(row: dict[str, Any]) -> str:
    until: datetime | None = row["locked_until"]
    state = f"locked until {until.isoformat(timespec='seconds')}" if until else "not locked"
    return f"{row['key']}: {row['failures']} failures, {state}"
