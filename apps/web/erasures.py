"""Erasures in the web process: the admin API's erasure runs in a thread (the route
answers 202 while it runs), and the retention policy is enforced once a day. Only one
process of a cluster runs retention at a time (a PostgreSQL advisory lock)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from uuid import UUID

import psycopg

from apps.usecases.erasure import Erasure
from apps.usecases.retention import Retention

log = logging.getLogger(__name__)

#: How long the erase route waits for the erasure before answering 202.
ANSWER_WITHIN_S = 5.0
RETENTION_EVERY_S = 24 * 3600.0
#: The first retention run (which also finishes interrupted erasures) after start-up.
FIRST_RUN_AFTER_S = 60.0
_RETENTION_LOCK = 0x43_4D_45_52  # "CMER"


class Erasures:
    def __init__(self, erasure: Erasure, retention: Retention, conninfo: str) -> None:
        self.erasure = erasure
        self.retention = retention
        self.conninfo = conninfo
        self._running: dict[UUID, asyncio.Task[object]] = {}
        self._daily: asyncio.Task[None] | None = None

    async def erase(self, conversation_id: UUID, requested_by: str, reason: str) -> str:
        """ "erased", or "erasing" when it is still running after `ANSWER_WITHIN_S`.
        Raises the use case's errors (not found, refused) before anything runs."""
        task = self._running.get(conversation_id)
        if task is None:
            await asyncio.to_thread(
                self.erasure.request, conversation_id, requested_by, reason, "all"
            )
            task = asyncio.create_task(
                asyncio.to_thread(self.erasure.resume_one, conversation_id, "all")
            )
            self._running[conversation_id] = task
            task.add_done_callback(lambda _: self._running.pop(conversation_id, None))
        try:
            await asyncio.wait_for(asyncio.shield(task), ANSWER_WITHIN_S)
        except TimeoutError:
            return "erasing"
        return "erased"

    def start(self) -> None:
        self._daily = asyncio.create_task(self._every_day())

    async def stop(self) -> None:
        if self._daily is not None:
            self._daily.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._daily
        for task in list(self._running.values()):
            with contextlib.suppress(Exception):
                await task

    async def _every_day(self) -> None:
        await asyncio.sleep(FIRST_RUN_AFTER_S)
        while True:
            try:
                await asyncio.to_thread(self.run_retention)
            except Exception:  # logged; tried again tomorrow
                log.exception("retention run failed")
            await asyncio.sleep(RETENTION_EVERY_S)

    def run_retention(self) -> bool:
        """One retention run, unless another process is running one (False then)."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_RETENTION_LOCK,)).fetchone()
            if not row or not row[0]:
                return False
            plan, done = self.retention.run()
            log.info(
                "retention: %d call(s) and %d recording set(s) due, %d erasure(s) done",
                len(plan.conversations),
                len(plan.recordings),
                len(done),
            )
            return True
