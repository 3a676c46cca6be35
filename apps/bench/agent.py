"""Agent overhead: the time the agent's event loop spends per recorded event.

The agent records every fact through `adapters.agent_sink.EventSink`: `put(command)` on
the event loop only appends to a deque; a background task on the same loop takes batches
and hands each to a worker thread (`GroupCommitCallCenter.record_many`). What the loop pays per
event is the `put` plus its share of that task's work (batching, handing off, counting
outcomes): measured as the loop thread's CPU time while the sink records the commands of
simulated calls into the real store, divided by the events (the writing itself runs in
the worker thread and is not counted).

Baseline: the least an event loop can do to hand an item to a task, an `asyncio.Queue`
`put_nowait` and a consumer task's `get`, measured the same way.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from apps.bench.common import BenchContext, BenchResult, Figure
from apps.bench.ingest_load import prebuild
from apps.bench.workload import CallMix

BENCH = "agent"
BURST = 20  # events put between yields to the loop (an agent's events come in bursts)


async def _measure_sink(
    app: GroupCommitCallCenter, commands: list[Any], spool: Path
) -> dict[str, float]:
    from adapters.agent_sink import EventSink

    sink = EventSink(app, spool_dir=spool)
    await sink.start()
    put_s = 0.0
    cpu0 = time.thread_time()
    wall0 = time.perf_counter()
    for i in range(0, len(commands), BURST):
        t = time.perf_counter()
        for command in commands[i : i + BURST]:
            sink.put(command)
        put_s += time.perf_counter() - t
        await asyncio.sleep(0)
    await sink.flush(timeout=300)
    loop_cpu = time.thread_time() - cpu0
    wall = time.perf_counter() - wall0
    stats = sink.stats
    await sink.close()
    return {
        "put_s": put_s,
        "loop_cpu_s": loop_cpu,
        "wall_s": wall,
        "recorded": float(stats.recorded),
        "rejected": float(stats.rejected),
        "duplicate": float(stats.duplicate),
    }


async def _measure_queue(items: int) -> dict[str, float]:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    done = asyncio.Event()
    seen = 0

    async def consume() -> None:
        nonlocal seen
        while True:
            await queue.get()
            seen += 1
            if seen >= items:
                done.set()
                return

    task = asyncio.create_task(consume())
    put_s = 0.0
    cpu0 = time.thread_time()
    for i in range(0, items, BURST):
        t = time.perf_counter()
        for _ in range(min(BURST, items - i)):
            queue.put_nowait(i)
        put_s += time.perf_counter() - t
        await asyncio.sleep(0)
    await done.wait()
    loop_cpu = time.thread_time() - cpu0
    await task
    return {"put_s": put_s, "loop_cpu_s": loop_cpu}


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    count = 5_000 if ctx.quick else 50_000
    with ctx.database("agent") as db:
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        try:
            mix = CallMix(100, prefix="agent", seed=9)
            commands = prebuild(mix, count)
            ctx.step(BENCH, f"putting {count:,} commands through the agent's EventSink")
            gc.collect()
            gc.freeze()
            try:
                with tempfile.TemporaryDirectory(prefix="bench-spool-") as spool:
                    sink = asyncio.run(_measure_sink(app, commands, Path(spool)))
                queue = asyncio.run(_measure_queue(count))
            finally:
                gc.unfreeze()
        finally:
            app.close()
    events = sink["recorded"] or float(count)
    put_us = sink["put_s"] / count * 1e6
    loop_us = sink["loop_cpu_s"] / count * 1e6
    q_put_us = queue["put_s"] / count * 1e6
    q_loop_us = queue["loop_cpu_s"] / count * 1e6
    ctx.step(
        BENCH,
        f"  put {put_us:.2f} µs, loop total {loop_us:.1f} µs per event "
        f"({int(events):,} recorded in {sink['wall_s']:.1f}s)",
    )
    result.figures = [
        Figure(
            BENCH, "EventSink.put, per event", put_us, "µs", "asyncio.Queue.put_nowait", q_put_us
        ),
        Figure(
            BENCH,
            "agent loop time per recorded event",
            loop_us,
            "µs",
            "asyncio.Queue put + task get",
            q_loop_us,
            "≤ 50 µs",
            loop_us <= 50,
        ),
    ]
    result.details = {
        "commands": count,
        "sink": sink,
        "queue": queue,
        "burst": BURST,
        "put_us": put_us,
        "loop_us": loop_us,
        "writer_loop_us": loop_us - put_us,
    }
    return result
