"""`callcenter bench sse`: how many dashboard SSE clients one web process holds.

The real web app (`serve --no-projections`, its own process) with the projections in
another, as the cluster runs them; this process writes the commands of `CALLS`
simulated calls at `RATE` commands/s through the group commit (about the event rate of
that many real calls: the soak measured events per call per second). For each number of
dashboard clients (`/api/stream`, every call's updates: what a supervisor's screen
follows), connected at once from one client process, it measures commit → SSE arrival of
every message committed in the window, and the web process's CPU. The baseline is the
same with one client, in the same run. Client and server share this machine's cores.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from apps.bench.common import BenchContext, BenchResult, Figure, percentiles
from apps.bench.live import _free_port
from apps.bench.live_load import CommitClock, run_load
from apps.bench.live_processes import _clients, start_deployed
from apps.bench.workload import CallMix

BENCH = "sse"
CALLS = 100
#: Commands (about events) per second: 100 calls at the soak's pace.
RATE = 200.0
#: A screen that updates within this, at the 95th percentile, keeps up.
P95_TARGET_MS = 1000.0


def _cpu_s(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    seconds = 3.0 if ctx.quick else 10.0
    counts = [1, 25] if ctx.quick else [1, 100, 250, 500, 1000]
    mp = multiprocessing.get_context("spawn")
    rows: list[dict[str, Any]] = []
    with ctx.database("sse") as db:
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        clock = CommitClock(app)
        stop = mp.Event()
        started: list[Any] = []  # the projections' process, then the web app's
        try:
            turns = int(RATE * (seconds * len(counts) + 5.0) / CALLS / 12) + 4
            mix = CallMix(CALLS, prefix="sse", seed=5, turns=turns)
            app.record_many([mix.next_for(i) for i in range(CALLS)])
            port = _free_port()
            token = start_deployed(mp, db.eventsourcing_env(), db.conninfo, port, stop, started)
            server = started[1]
            # Past the calls' openings (joins, starts: more dashboard updates per event)
            # into their turns, so every count sees the same mix of messages.
            ctx.step(BENCH, "warming up: the calls into their turns")
            run_load(app, mix, RATE, 5.0)
            for n in counts:
                ctx.step(
                    BENCH, f"{n} dashboard client(s), {RATE:,.0f} commands/s for {seconds:.0f}s"
                )
                c_ready, c_go, c_out = mp.Queue(), mp.Queue(), mp.Queue()
                clients = mp.Process(
                    target=_clients,
                    args=(port, token, ["/api/stream"] * n, c_ready, c_go, c_out),
                    daemon=True,
                )
                clients.start()
                c_ready.get(timeout=300)
                time.sleep(1.0)
                cpu0, t0 = _cpu_s(server.pid), time.perf_counter()
                start, end = run_load(app, mix, RATE, seconds)
                cpu = (_cpu_s(server.pid) - cpu0) / (time.perf_counter() - t0)
                time.sleep(3.0)  # the last messages
                c_go.put(True)
                received, ended = c_out.get(timeout=300)
                clients.join(30)
                lo = start + 1.0
                latencies = [
                    (t - c) * 1000
                    for _, position, t in received
                    if (c := clock.at.get(position)) is not None and lo <= c <= end
                ]
                per_client = len(latencies) / n
                p = percentiles(latencies, (50, 95, 99))
                rows.append(
                    {"clients": n, **p, "messages_per_client": per_client, "server_cpu": cpu,
                     "streams_ended": len(ended)}
                )  # fmt: skip
                ctx.step(
                    BENCH,
                    f"  p50 {p['p50']:.0f} ms, p95 {p['p95']:.0f} ms, p99 {p['p99']:.0f} ms; "
                    f"{per_client:.0f} messages each; web process CPU {cpu:.0%}; "
                    f"{len(ended)} stream(s) ended early",
                )
        finally:
            stop.set()
            for process in started:
                process.join(30)
                if process.is_alive():
                    process.kill()
            app.close()
    one = rows[0]
    for row in rows[1:]:
        kept = row["p95"] <= P95_TARGET_MS and row["streams_ended"] == 0
        result.figures.append(
            Figure(
                BENCH,
                f"commit→SSE p95, {row['clients']} dashboard clients, {RATE:,.0f} ev/s",
                row["p95"],
                "ms",
                "the same with 1 client",
                one["p95"],
                f"≤ {P95_TARGET_MS:,.0f} ms, no stream dropped",
                kept,
                note=f"web process CPU {row['server_cpu']:.0%} of a core",
            )
        )
    result.details = {"calls": CALLS, "rate": RATE, "seconds": seconds, "rows": rows}
    return result
