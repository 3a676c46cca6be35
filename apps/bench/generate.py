"""Filling a database with the events of many simulated calls, fast: group commit with
large batches (the command queue's pipeline), from one or two writer processes."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from adapters.group_commit import Receipt
from adapters.postgres.database import DatabaseSettings
from apps.bench.common import BenchContext
from apps.bench.workload import CallMix, simulated_meta
from apps.gc_tuning import tune_gc

CHUNK = 2000  # commands per submission (one transaction each, or part of one)
IN_FLIGHT = 4
BASE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _fill(
    env: dict[str, str],
    index: int,
    events: int,
    concurrent_calls: int,
    counter: Any,
    turns: int = 24,
) -> int:
    """Record commands of interleaved simulated calls until `events` events are stored."""
    tune_gc()  # as the agent's job processes do
    app = GroupCommitCallCenter(env=env)
    try:
        mix = CallMix(
            concurrent_calls,
            prefix=f"gen{index}",
            seed=1000 + index,
            turns=turns,
            make_meta=simulated_meta(BASE),
        )
        slot = 0
        done = 0
        submitted = 0
        pending: list[Receipt[list[Any]]] = []

        def settle(future: Receipt[list[Any]]) -> int:
            return sum(len(o.positions) for o in future.result())

        while submitted < events:
            commands = []
            for _ in range(min(CHUNK, events - submitted)):
                commands.append(mix.next_for(slot))
                slot = (slot + 1) % concurrent_calls
            submitted += len(commands)
            pending.append(app.queue.submit_many(commands))
            while len(pending) >= IN_FLIGHT:
                n = settle(pending.pop(0))
                done += n
                with counter.get_lock():
                    counter.value += n
        for future in pending:
            n = settle(future)
            done += n
            with counter.get_lock():
                counter.value += n
        return done
    finally:
        app.close()


def _worker(
    env: dict[str, str], index: int, events: int, calls: int, counter: Any, out: Any, turns: int
) -> None:
    out.put(_fill(env, index, events, calls, counter, turns))


def generate(
    ctx: BenchContext,
    bench: str,
    db: DatabaseSettings,
    events: int,
    *,
    concurrent_calls: int = 500,
    processes: int = 1,
    turns: int = 24,
    sealed: bool = True,
) -> int:
    """Store about `events` events of calls of `turns` turns each; returns how many were
    stored. Shows progress. `sealed=False` writes personal data unsealed (a baseline)."""
    env = db.eventsourcing_env()
    if not sealed:
        env["SEAL_PERSONAL_DATA"] = "n"
    bar = ctx.progress.bar(f"{bench}: generating")
    started = time.perf_counter()
    mp = multiprocessing.get_context("spawn")
    counter = mp.Value("q", 0)
    if processes <= 1:
        import threading

        errors: list[BaseException] = []

        def fill() -> None:
            try:
                _fill(env, 0, events, concurrent_calls, counter, turns)
            except BaseException as e:
                errors.append(e)

        thread = threading.Thread(target=fill, daemon=True)
        thread.start()
        workers: list[Any] = [thread]
    else:
        out = mp.Queue()
        share = -(-events // processes)
        workers = [
            mp.Process(
                target=_worker,
                args=(
                    env,
                    i,
                    share,
                    concurrent_calls // processes,
                    counter,
                    out,
                    turns,
                ),
                daemon=True,
            )
            for i in range(processes)
        ]
        for w in workers:
            w.start()
    while any(w.is_alive() for w in workers):
        done = counter.value
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed else 0.0
        eta = (events - done) / rate if rate else None
        bar.update(done, events, rate, eta)
        time.sleep(0.2)
    for w in workers:
        w.join()
    if processes <= 1 and errors:
        raise errors[0]
    if processes > 1 and any(w.exitcode for w in workers):
        raise RuntimeError("an event generator process failed")
    done = counter.value
    elapsed = time.perf_counter() - started
    bar.update(done, events, done / elapsed if elapsed else 0.0, 0.0, final=True)
    return int(done)
