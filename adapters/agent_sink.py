"""The agent's way into the event store: a bounded, ordered, asynchronous command queue.

`EventSink.put` only appends to a deque, so the audio loop never waits for the database.
A background task writes batches with `CallCenter.record_many` in a worker thread. While
the store is unreachable, commands stay in order: in memory up to a bound, the oldest
spilled beyond it to an append-only JSONL spool file; once the store is back they are
written spooled first, then in memory. Every command carries an external id, so a batch
retried after an unacknowledged commit is recorded once. A spool left by a process that
stopped while the store was down is adopted and written by the next sink.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from eventsourcing import persistence

from adapters.command_spool import Spool, decode_command, encode_command
from domain.application import CallCenter
from domain.commands import Command
from domain.outcome import Outcome

__all__ = ["EventSink", "SinkStats", "TRANSIENT", "decode_command", "encode_command"]

log = logging.getLogger(__name__)

TRANSIENT: tuple[type[BaseException], ...] = (
    persistence.OperationalError,
    persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    ConnectionError,
    TimeoutError,
)

# --- the sink -------------------------------------------------------------------------------


@dataclass
class SinkStats:
    put: int = 0
    recorded: int = 0
    duplicate: int = 0
    rejected: int = 0
    dropped: int = 0
    spilled: int = 0
    failures: int = 0
    adopted: int = 0


AppSource = CallCenter | Callable[[], CallCenter]
_Batch = tuple[list[Command], Spool | None, int, int]  # commands, source spool, lines, offset


class EventSink:
    """Call `await start()` on the event loop, `put` from it, `await close()` at the end."""

    def __init__(
        self,
        app: AppSource,
        *,
        spool_dir: Path,
        max_memory: int = 10_000,
        batch_size: int = 500,
        base_delay_s: float = 0.5,
        max_delay_s: float = 15.0,
    ) -> None:
        # a factory is called lazily, in the writer thread: the store may be down at start
        self._factory = None if isinstance(app, CallCenter) else app
        self.app: CallCenter | None = app if isinstance(app, CallCenter) else None
        self._spool_dir = spool_dir
        self._max_memory, self._batch_size = max_memory, batch_size
        self._base_delay, self._max_delay = base_delay_s, max_delay_s
        self._memory: deque[Command] = deque()
        self._retry: list[Command] = []  # a failed memory batch: older than any spool
        self._inflight: list[Command] = []  # a memory batch being written
        self._spools: deque[Spool] = deque()  # adopted ones first, our own last
        self._own: Spool | None = None
        self._wake, self._progress = asyncio.Event(), asyncio.Event()
        self._spill_task: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._done = 0  # own commands stored, rejected or dropped, in put order
        self._closed = False
        self._down_since: float | None = None
        self.stats = SinkStats()

    # --- the hot path ----------------------------------------------------------------------

    def put(self, command: Command) -> None:
        """Queue a command; never waits. Call from the event loop's thread."""
        if self._closed:
            raise RuntimeError("event sink is closed")
        self._memory.append(command)
        self.stats.put += 1
        if not self._wake.is_set():
            self._wake.set()
        if len(self._memory) > self._max_memory and self._spill_task is None:
            self._spill_task = asyncio.get_running_loop().create_task(self._spill())

    @property
    def backlog(self) -> int:
        """Commands not yet written: in memory, in flight or retried, and spooled."""
        pending = len(self._memory) + len(self._retry or self._inflight)
        return pending + sum(s.pending for s in self._spools)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Adopt spools that stopped processes left behind, then start writing."""
        self._own = await asyncio.to_thread(Spool.create, self._spool_dir)
        self._spools.extend(await asyncio.to_thread(self._adopt))
        self._spools.append(self._own)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="event-sink")

    def _adopt(self) -> list[Spool]:
        found = []
        for path in sorted(self._spool_dir.glob("*.jsonl")):
            if self._own is not None and path == self._own.path:
                continue
            if (spool := Spool.try_lock(path)) is None:
                continue  # a live sink's
            if spool.count():
                self.stats.adopted += spool.pending
                log.info("adopting %d spooled events from %s", spool.pending, path.name)
                found.append(spool)
            else:
                spool.remove()
        return found

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every command put so far is written; False if `timeout` ran out."""
        target = self.stats.put
        try:
            async with asyncio.timeout(timeout):
                while self._done < target:
                    self._progress.clear()
                    await self._progress.wait()
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float = 10.0) -> bool:
        """Flush for up to `timeout`; whatever is left is spooled for a later sink."""
        flushed = await self.flush(timeout)
        self._closed = True
        for task in (self._task, self._spill_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        # a batch whose write was cancelled may still commit: replaying it is recognised
        head, tail = list(self._retry or self._inflight), list(self._memory)
        self._retry, self._inflight, self._memory = [], [], deque()
        await asyncio.to_thread(self._shutdown, head, tail)
        if head or tail:
            log.warning("event store unreachable: %d events kept in the spool", len(head + tail))
        return flushed

    def _shutdown(self, head: list[Command], tail: list[Command]) -> None:
        for spool in self._spools:
            if spool is self._own and (head or tail):
                spool.rewrite(head, tail)
            if spool.pending:
                spool.close()  # kept for the next sink to adopt
            else:
                spool.remove()
        if self._factory is not None and self.app is not None:
            self.app.close()

    # --- writing ---------------------------------------------------------------------------

    async def _spill(self) -> None:
        """Move the oldest in-memory commands to our spool, down to half the bound."""
        try:
            while len(self._memory) > self._max_memory and self._own is not None:
                n = len(self._memory) - self._max_memory // 2
                chunk = [self._memory.popleft() for _ in range(n)]
                try:
                    written = await asyncio.to_thread(self._own.append, chunk)
                except OSError as e:  # no disk: better unbounded memory than lost events
                    log.error("cannot spill events to %s: %s", self._own.path, e)
                    self._memory.extendleft(reversed(chunk))
                    return
                self.stats.spilled += written
                self._count_done(len(chunk) - written, dropped=True)
        finally:
            self._spill_task = None

    async def _next(self) -> _Batch:
        while True:
            if self._retry:
                return self._retry, None, 0, 0
            if self._spill_task is not None:  # its chunk is in neither memory nor the spool
                await asyncio.shield(self._spill_task)
                continue
            while self._spools[0] is not self._own and not self._spools[0].pending:
                await asyncio.to_thread(self._spools.popleft().remove)
            for spool in self._spools:
                if spool.pending:
                    batch, lines, offset = await asyncio.to_thread(spool.read, self._batch_size)
                    return batch, spool, lines, offset
            if self._memory:
                n = min(self._batch_size, len(self._memory))
                return [self._memory.popleft() for _ in range(n)], None, 0, 0
            self._wake.clear()
            await self._wake.wait()

    async def _run(self) -> None:
        delay = self._base_delay
        while True:
            batch, spool, lines, offset = await self._next()
            if spool is None:
                self._inflight = batch
            try:
                outcomes = await asyncio.to_thread(self._write, batch)
            except TRANSIENT as e:
                self.stats.failures += 1
                if self._down_since is None:
                    self._down_since = time.monotonic()
                    log.warning("event store unreachable (%s); buffering agent events", e)
                if spool is None:
                    self._retry = batch
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_delay)
                continue
            if self._down_since is not None:
                log.info("event store back after %.1fs", time.monotonic() - self._down_since)
                self._down_since = None
            delay = self._base_delay
            self._retry = self._inflight = []
            own = spool is None or spool is self._own
            if spool is not None:
                await asyncio.to_thread(spool.commit, lines, offset)
                if spool is self._own and not spool.pending:
                    await asyncio.to_thread(spool.compact)
                self.stats.dropped += lines - len(batch)  # unreadable lines
                if own:
                    self._count_done(lines - len(batch))
            self._tally(batch, outcomes, own=own)

    def _write(self, batch: Sequence[Command]) -> list[Outcome | None]:
        """Record a batch; after a non-transient failure, one by one, so that one bad
        command cannot hold the rest back. None marks a dropped command."""
        if self.app is None:
            assert self._factory is not None
            try:
                self.app = self._factory()
            except Exception as e:  # cannot open the store: like being unable to reach it
                raise ConnectionError(f"cannot open the event store: {e}") from e
        try:
            return list(self.app.record_many(batch))
        except TRANSIENT:
            raise
        except Exception:
            log.exception("batch of %d failed; writing one at a time", len(batch))
        out: list[Outcome | None] = []
        for command in batch:
            try:
                out.append(self.app.record_many([command])[0])
            except TRANSIENT:
                raise  # those already written are recognised as duplicates on retry
            except Exception:
                log.exception("dropping %s that cannot be recorded", type(command).__name__)
                out.append(None)
        return out

    def _tally(self, batch: list[Command], outcomes: list[Outcome | None], *, own: bool) -> None:
        s = self.stats
        for command, outcome in zip(batch, outcomes, strict=True):
            if outcome is None:
                s.dropped += 1
            elif outcome.status == "rejected":
                s.rejected += 1
                reason = outcome.error.message if outcome.error else "?"
                log.warning("%s rejected: %s", type(command).__name__, reason)
            elif outcome.status == "duplicate":
                s.duplicate += 1
            else:
                s.recorded += 1
        if own:
            self._count_done(len(batch))

    def _count_done(self, n: int, *, dropped: bool = False) -> None:
        if dropped:
            self.stats.dropped += n
        self._done += n
        self._progress.set()
