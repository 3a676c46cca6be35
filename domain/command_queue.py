"""Group commit: many callers' commands are written in few transactions.

Callers from any thread (or event loop) put a command and get a future; one writer thread
takes everything queued so far as one batch. While a batch commits, the next one fills,
so batches grow with load and a lone command is written at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from domain.commands import Command
from domain.outcome import Outcome

log = logging.getLogger(__name__)

_STOP = object()


class CommandQueue:
    def __init__(
        self,
        write: Callable[[Sequence[Command]], list[Outcome]],
        *,
        max_batch: int = 2000,
        max_pending: int = 100_000,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_pending)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, command: Command) -> Future[Outcome]:
        self._ensure_started()
        future: Future[Outcome] = Future()
        self._queue.put(([command], future, True))
        return future

    def submit_many(self, commands: list[Command]) -> Future[list[Outcome]]:
        """Commands that must be written in the same transaction (one webhook's, say)."""
        self._ensure_started()
        future: Future[list[Outcome]] = Future()
        self._queue.put((list(commands), future, False))
        return future

    def close(self, timeout: float = 10.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="command-queue", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            stop = item is _STOP
            batch = [] if stop else [item]
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            if batch:
                self._write_batch(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _write_batch(self, batch: list[tuple[list[Command], Future[Any], bool]]) -> None:
        live = [item for item in batch if item[1].set_running_or_notify_cancel()]
        try:
            outcomes = self._write([c for commands, _, _ in live for c in commands])
        except BaseException as exc:  # the store is down: every caller learns it
            log.warning("batch of %d submissions failed: %s", len(live), exc)
            for _, f, _ in live:
                f.set_exception(exc)
            return
        i = 0
        for commands, f, single in live:
            mine = outcomes[i : i + len(commands)]
            i += len(commands)
            f.set_result(mine[0] if single else mine)
