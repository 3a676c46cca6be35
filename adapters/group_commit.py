"""Group commit: many callers' commands are written in few transactions.

Callers from any thread (or event loop) put a command and get a `Receipt`; one writer
thread takes everything queued so far as one batch. While a batch commits, the next one
fills, so batches grow with load and a lone command is written at once. A receipt is a
future without a lock of its own: a batch's receipts are resolved together under the
queue's one condition, which is what waiters wait on (a `Future` per command cost more
than planning the command). Once submitted, a command is written even if its caller
stops waiting.

With a pipeline (the application service's `prepare` / `commit` / `settle`), the writer plans the
next batch while the previous one's transaction runs in a second thread, so the Python
work of planning overlaps the database's work of appending. Batches still commit one at a
time, in the order they were taken; a batch whose plan no longer fits the store (another
process wrote to its conversations) is recorded again, in order, by `write`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypeVar, cast

from domain.commands import Command
from domain.outcome import Outcome

log = logging.getLogger(__name__)

_STOP = object()
_WAKE = object()  # a commit finished: the writer has something to settle

P = TypeVar("P")
T = TypeVar("T")


class Receipt(Generic[T]):
    """A submitted command's outcome to come (the parts of `Future` callers use)."""

    __slots__ = ("_settled", "_done", "_value", "_error", "_callbacks")

    def __init__(self, settled: threading.Condition) -> None:
        self._settled = settled
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Receipt[T]], object]] | None = None

    def done(self) -> bool:
        return self._done

    def result(self, timeout: float | None = None) -> T:
        if not self._done:
            self._wait(timeout)
        if self._error is not None:
            raise self._error
        return cast(T, self._value)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if not self._done:
            self._wait(timeout)
        return self._error

    def add_done_callback(self, fn: Callable[[Receipt[T]], object]) -> None:
        """Call `fn(receipt)` once resolved (in the writer's thread), or now if it is."""
        if not self._done:
            with self._settled:
                if not self._done:
                    if self._callbacks is None:
                        self._callbacks = []
                    self._callbacks.append(fn)
                    return
        fn(self)

    def _wait(self, timeout: float | None) -> None:
        with self._settled:
            if not self._settled.wait_for(lambda: self._done, timeout):
                raise TimeoutError("the command was not written in time")


async def outcome_of(receipt: Receipt[T]) -> T:
    """Await a receipt from an event loop."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[T] = loop.create_future()

    def copy(r: Receipt[T]) -> None:
        if waiter.done():
            return
        if r._error is not None:
            waiter.set_exception(r._error)
        else:
            waiter.set_result(cast(T, r._value))

    def resolved(r: Receipt[T]) -> None:
        try:
            loop.call_soon_threadsafe(copy, r)
        except RuntimeError:  # the loop closed meanwhile: nobody is waiting
            pass

    receipt.add_done_callback(resolved)
    return await waiter


_Item = tuple[list[Command], Receipt[Any], bool]


class Pipeline(Protocol[P]):
    def prepare(self, commands: Sequence[Command]) -> P | None:
        """Plan a batch (no I/O); None if it cannot be planned ahead."""

    def commit(self, prepared: P) -> list[Outcome] | None:
        """Append a planned batch; None if the store no longer fits the plan."""

    def settle(self, prepared: P, committed: bool) -> None:
        """The plan committed, or was abandoned (forget what it assumed)."""


class _Inflight(Generic[P]):
    def __init__(self, future: Future[list[Outcome] | None], prepared: P, items: list[_Item]):
        self.future = future
        self.prepared = prepared
        self.items = items


class CommandQueue:
    def __init__(
        self,
        write: Callable[[Sequence[Command]], list[Outcome]],
        *,
        max_batch: int = 2000,
        max_pending: int = 100_000,
        pipeline: Pipeline[Any] | None = None,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        # A C queue, bounded by hand: callers wait while `max_pending` submissions are
        # queued and not yet taken by the writer.
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._max_pending = max_pending
        self._pending = 0
        self._waiting = 0
        self._space = threading.Condition()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pipeline = pipeline
        self._committer: ThreadPoolExecutor | None = None
        self._settled = threading.Condition()

    def submit(self, command: Command) -> Receipt[Outcome]:
        self._ensure_started()
        receipt: Receipt[Outcome] = Receipt(self._settled)
        self._put(([command], receipt, True))
        return receipt

    def submit_many(self, commands: list[Command]) -> Receipt[list[Outcome]]:
        """Commands that must be written in the same transaction (one webhook's, say)."""
        self._ensure_started()
        receipt: Receipt[list[Outcome]] = Receipt(self._settled)
        self._put((list(commands), receipt, False))
        return receipt

    def _put(self, item: object) -> None:
        with self._space:
            while self._pending >= self._max_pending:
                self._waiting += 1
                try:
                    self._space.wait()
                finally:
                    self._waiting -= 1
            self._pending += 1
        self._queue.put(item)

    def _taken(self, n: int) -> None:
        if n:
            with self._space:
                self._pending -= n
                if self._waiting:
                    self._space.notify_all()

    def close(self, timeout: float = 10.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            committer, self._committer = self._committer, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)
        if committer is not None:
            committer.shutdown(wait=True)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                if self._pipeline is not None:
                    self._committer = ThreadPoolExecutor(1, thread_name_prefix="command-commit")
                self._thread = threading.Thread(target=self._run, name="command-queue", daemon=True)
                self._thread.start()

    # --- the writer thread ---------------------------------------------------------------

    def _take(self) -> tuple[list[_Item], bool]:
        """What is queued (waiting for at least something): items, and whether to stop."""
        items: list[_Item] = []
        item = self._queue.get()
        try:
            while True:
                if item is _STOP:
                    return items, True
                if item is not _WAKE:
                    items.append(item)  # type: ignore[arg-type]
                if len(items) >= self._max_batch:
                    return items, False
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    return items, False
        finally:
            self._taken(len(items))

    def _run(self) -> None:
        if self._pipeline is not None:
            self._run_pipelined(self._pipeline)
            return
        while True:
            batch, stop = self._take()
            if batch:
                self._write_batch(batch)
            if stop:
                return

    def _run_pipelined(self, pipeline: Pipeline[Any]) -> None:
        inflight: _Inflight[Any] | None = None
        stop = False
        while True:
            items: list[_Item] = []
            if not stop:
                items, stop = self._take()
            live = items
            if not live and inflight is not None and not inflight.future.done() and not stop:
                continue  # woken by an older commit's signal
            prepared = None
            if live:
                try:
                    prepared = pipeline.prepare([c for commands, _, _ in live for c in commands])
                except Exception:
                    log.exception("planning a batch failed; recording it without planning ahead")
            if inflight is not None:
                committed = self._settle(pipeline, inflight, later=prepared)
                inflight = None
                if not committed:
                    prepared = None  # it was planned on top of the batch that did not commit
            if live:
                if prepared is None:
                    self._write_batch(live)
                else:
                    inflight = self._start_commit(pipeline, prepared, live)
            if stop and inflight is None:
                return

    def _start_commit(
        self, pipeline: Pipeline[Any], prepared: Any, items: list[_Item]
    ) -> _Inflight[Any]:
        assert self._committer is not None
        future = self._committer.submit(pipeline.commit, prepared)
        future.add_done_callback(self._wake)
        return _Inflight(future, prepared, items)

    def _wake(self, _: object) -> None:
        self._queue.put(_WAKE)

    def _settle(self, pipeline: Pipeline[Any], inflight: _Inflight[Any], *, later: Any) -> bool:
        """Wait for a commit; resolve its callers. When it did not commit, the plan made
        on top of it (`later`) and its own are abandoned, and it is recorded afresh."""
        error: BaseException | None = None
        try:
            outcomes = inflight.future.result()
        except BaseException as exc:  # the store is down: every caller learns it
            outcomes, error = None, exc
        if outcomes is not None:
            pipeline.settle(inflight.prepared, True)
            self._resolve(inflight.items, outcomes)
            return True
        if later is not None:
            pipeline.settle(later, False)
        pipeline.settle(inflight.prepared, False)
        if error is not None:
            log.warning("batch of %d submissions failed: %s", len(inflight.items), error)
            self._fail(inflight.items, error)
        else:
            self._write_batch(inflight.items)
        return False

    def _write_batch(self, batch: list[_Item]) -> None:
        try:
            outcomes = self._write([c for commands, _, _ in batch for c in commands])
        except BaseException as exc:  # the store is down: every caller learns it
            log.warning("batch of %d submissions failed: %s", len(batch), exc)
            self._fail(batch, exc)
            return
        self._resolve(batch, outcomes)

    def _resolve(self, items: list[_Item], outcomes: list[Outcome]) -> None:
        called = []
        i = 0
        with self._settled:
            for commands, r, single in items:
                if single:
                    r._value = outcomes[i]
                    i += 1
                else:
                    n = len(commands)
                    r._value = outcomes[i : i + n]
                    i += n
                r._done = True
                if r._callbacks is not None:
                    called.append(r)
            self._settled.notify_all()
        self._call_back(called)

    def _fail(self, items: list[_Item], error: BaseException) -> None:
        called = []
        with self._settled:
            for _, r, _ in items:
                r._error = error
                r._done = True
                if r._callbacks is not None:
                    called.append(r)
            self._settled.notify_all()
        self._call_back(called)

    @staticmethod
    def _call_back(receipts: list[Receipt[Any]]) -> None:
        for r in receipts:
            for fn in r._callbacks or ():
                try:
                    fn(r)
                except Exception:
                    log.exception("a receipt's callback failed")
