"""The live bench's load: commands submitted at a fixed rate (open loop) through the load
application's group commit, and the clock that stamps each event's commit time by log
position."""

from __future__ import annotations

import gc
import time
from typing import Any
from uuid import UUID

from adapters.call_center import GroupCommitCallCenter
from apps.bench.ingest_load import prebuild
from apps.bench.workload import CallMix


class CommitClock:
    """Wraps the load application's commits: the moment each event's transaction
    returned, by log position."""

    def __init__(self, app: GroupCommitCallCenter) -> None:
        self.at: dict[int, float] = {}
        #: The conversation of each event, by log position.
        self.conversation: dict[int, UUID] = {}
        commit, record = app.commit, app.record_many

        def timed_commit(prepared: Any) -> Any:
            outcomes = commit(prepared)
            self._stamp(outcomes)
            return outcomes

        def timed_record(commands: Any) -> Any:
            outcomes = record(commands)
            self._stamp(outcomes)
            return outcomes

        app.commit = timed_commit  # type: ignore[method-assign]
        app.queue._write = timed_record  # noqa: SLF001

    def _stamp(self, outcomes: Any) -> None:
        if not outcomes:
            return
        t = time.perf_counter()
        for o in outcomes:
            for p in o.positions:
                self.at[p] = t
                if o.conversation_id is not None:
                    self.conversation[p] = o.conversation_id


def run_load(
    app: GroupCommitCallCenter, mix: CallMix, rate: float, seconds: float
) -> tuple[float, float]:
    """Submit commands at `rate`/s for `seconds` (open loop); (start, end) of the run."""
    commands = prebuild(mix, int(rate * seconds) + 1)
    gc.collect()
    gc.freeze()
    futures = []
    start = time.perf_counter()
    issued = 0
    try:
        while True:
            now = time.perf_counter()
            if now - start >= seconds:
                break
            due = min(int((now - start) * rate), len(commands)) - issued
            for command in commands[issued : issued + due]:
                futures.append(app.submit(command))
            issued += max(0, due)
            time.sleep(0.0005)
        end = time.perf_counter()
        for f in futures:
            f.result(timeout=60)
    finally:
        gc.unfreeze()
    return start, end
