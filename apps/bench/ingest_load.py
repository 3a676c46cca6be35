"""The ingest bench's load driver: open-loop submission of prebuilt commands of N
interleaved calls at a fixed rate through the application's group commit, from one
process or several writer processes, and what each run measured (`RunStats`)."""

from __future__ import annotations

import gc
import multiprocessing
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from adapters.group_commit import Receipt
from adapters.postgres.database import DatabaseSettings
from apps.bench.common import percentiles
from apps.bench.workload import CallMix
from apps.gc_tuning import tune_gc
from domain.commands import Command
from domain.outcome import Outcome


@dataclass
class RunStats:
    offered: float  # commands/s
    duration_s: float
    calls: int
    commands: int = 0
    events: int = 0
    rejected: int = 0
    failed: int = 0
    backlog_end: int = 0
    cpu_s: float = 0.0  # the writer processes' CPU time within the window
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        return self.events / self.duration_s if self.duration_s else 0.0

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_s / self.events * 1e6 if self.events else 0.0

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.duration_s if self.duration_s else 0.0

    @property
    def sustained(self) -> bool:
        return (
            self.failed == 0
            and self.commands >= 0.97 * self.offered * self.duration_s
            and self.backlog_end <= max(50, 0.5 * self.offered)
            and percentiles(self.latencies_ms, (99,))["p99"] <= 1000
        )

    def summary(self) -> dict[str, Any]:
        p = percentiles(self.latencies_ms, (50, 90, 99, 99.9))
        return {
            "offered_commands_per_s": self.offered,
            "events_per_s": self.events_per_s,
            "commands_per_s": self.commands_per_s,
            "calls": self.calls,
            "sustained": self.sustained,
            "rejected": self.rejected,
            "writer_cpu_us_per_event": self.cpu_us_per_event,
            **{f"{k}_ms": v for k, v in p.items()},
        }


def prebuild(mix: CallMix, count: int) -> list[Command]:
    """The next `count` commands of the calls, interleaved round-robin."""
    calls = len(mix.scripts)
    return [mix.next_for(i % calls) for i in range(count)]


def drive(
    app: GroupCommitCallCenter,
    mix: CallMix,
    rate: float,
    duration: float,
    warmup: float,
    *,
    start_at: float | None = None,
) -> RunStats:
    """Offer `rate` commands/s for warmup + duration seconds; measure the window.

    The commands are built before the clock starts (the load generator's own cost is not
    the system's); the generator thread then only submits them on schedule."""
    calls = len(mix.scripts)
    stats = RunStats(offered=rate, duration_s=duration, calls=calls)
    commands = prebuild(mix, int(rate * (warmup + duration)) + 1)
    # The prebuilt load is the generator's, not the system's: keep the garbage collector
    # from walking it over and over during the run.
    gc.collect()
    gc.freeze()
    # (due, committed, receipt): appending to a list needs no lock of its own (the GIL)
    done: list[tuple[float, float, Receipt[Outcome]]] = []

    def finished(t0: float, receipt: Receipt[Outcome]) -> None:
        done.append((t0, time.perf_counter(), receipt))

    if start_at is not None:
        time.sleep(max(0.0, start_at - time.perf_counter()))
    start = time.perf_counter()
    window_start, window_end = start + warmup, start + warmup + duration
    issued = 0
    cpu_start: float | None = None
    while True:
        now = time.perf_counter()
        if cpu_start is None and now >= window_start:
            cpu_start = time.process_time()
        if now >= window_end:
            stats.cpu_s = time.process_time() - (cpu_start or 0.0)
            break
        due = min(int((now - start) * rate), len(commands)) - issued
        for k in range(issued, issued + max(0, due)):
            # Latency counts from when the command was due, not from when the generator
            # got round to it: a late generator is not the system's credit.
            app.submit(commands[k]).add_done_callback(partial(finished, start + k / rate))
        issued += max(0, due)
        time.sleep(0.001)  # due times are exact; the tick only sets the wake-ups
    backlog_at_end = issued - len(done)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(done) < issued:
        time.sleep(0.01)
    stats.backlog_end = backlog_at_end
    gc.unfreeze()
    for t0, t1, receipt in done:
        error = receipt.exception()
        if error is not None:
            stats.failed += 1
            continue
        outcome = receipt.result()
        events, status = len(outcome.positions), outcome.status
        if window_start <= t1 < window_end:
            stats.commands += 1
            stats.events += events
        if window_start <= t0 < window_end:
            stats.latencies_ms.append((t1 - t0) * 1000)
            if status == "rejected":
                stats.rejected += 1
    return stats


def _writer_process(
    env: dict[str, str],
    index: int,
    calls: int,
    rate: float,
    duration: float,
    warmup: float,
    prefix: str,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    tune_gc()  # as the agent's job processes do
    app = GroupCommitCallCenter(env=env)
    try:
        mix = CallMix(calls, prefix=f"{prefix}-p{index}", seed=100 + index)
        app.record_many([mix.next_for(0)])  # connect and warm up before the clock starts
        ready.put(index)
        start_at = go.get()
        stats = drive(app, mix, rate, duration, warmup, start_at=start_at)
        results.put((index, stats))
    finally:
        app.close()


def drive_processes(
    db: DatabaseSettings,
    processes: int,
    calls: int,
    rate: float,
    duration: float,
    warmup: float,
    prefix: str,
) -> RunStats:
    """The same open-loop load from `processes` writer processes (as several agent
    workers would write), each with its share of the calls and of the rate."""
    if processes == 1:
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        try:
            mix = CallMix(calls, prefix=f"{prefix}-p0", seed=100)
            app.record_many([mix.next_for(0)])
            return drive(app, mix, rate, duration, warmup)
        finally:
            app.close()
    GroupCommitCallCenter(env=db.eventsourcing_env()).close()  # the tables exist before they start
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    gos = [ctx.Queue() for _ in range(processes)]
    procs = [
        ctx.Process(
            target=_writer_process,
            args=(
                db.eventsourcing_env(),
                i,
                max(1, calls // processes),
                rate / processes,
                duration,
                warmup,
                prefix,
                ready,
                gos[i],
                results,
            ),
            daemon=True,
        )
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=120)
        start_at = time.perf_counter() + 0.2
        for go in gos:
            go.put(start_at)
        parts = [results.get(timeout=duration + warmup + 120)[1] for _ in procs]
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
    total = RunStats(offered=rate, duration_s=duration, calls=calls)
    for part in parts:
        total.commands += part.commands
        total.events += part.events
        total.rejected += part.rejected
        total.failed += part.failed
        total.backlog_end += part.backlog_end
        total.cpu_s += part.cpu_s
        total.latencies_ms.extend(part.latencies_ms)
    return total
