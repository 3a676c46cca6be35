"""Live latency: from a command's commit to its Server-Sent Event arriving at a client.

Three processes on the same machine, clocks compared with CLOCK_MONOTONIC:
- the real web app (`create_app`) under uvicorn on 127.0.0.1, with its in-process
  projection worker and SSE broadcaster, as `callcenter serve` runs it;
- 100 SSE clients (asyncio, plain sockets), each following one call's stream
  (`/api/conversations/{id}/stream`) with an admin bearer token;
- this process, the load: an application writing commands of 200 simulated calls at a
  fixed rate through its group commit, like an agent worker; the moment each batch's
  transaction returns is its events' commit time. (At 10,000 events/s that is 50 events/s
  per call, many times a real call's pace; the clients follow half of the calls, so about
  half of all events become a message.)

Latency = time the client read the message whose id is the event's log position minus
that event's commit time, for the messages of events committed in the measured window,
at 1,000 and at 10,000 events/s. Baseline: a bare LISTEN/NOTIFY round trip on the same
server (NOTIFY sent and committed by one connection, received by another) at the same
rates.

The web app and client processes are in `apps.bench.live_processes`, the load and its
commit clock in `apps.bench.live_load`; this module is the baseline and the bench.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from typing import Any
from uuid import UUID

import httpx
import psycopg

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.bench.common import BenchContext, BenchResult, Figure, percentiles
from apps.bench.live_load import CommitClock, run_load
from apps.bench.live_processes import CLIENTS, _clients, start_deployed
from apps.bench.workload import CallMix

BENCH = "live"
CALLS = 200
#: After the last window, how long the clients are given for the last messages.
DRAIN_S = 3.0
#: Fewest commands in one turn of a call's script (`apps.bench.workload.call_script`).
COMMANDS_PER_TURN_AT_LEAST = 12


# --- the baseline ----------------------------------------------------------------------------


def listen_notify(db: DatabaseSettings, rate: float, count: int) -> list[float]:
    """Round trips (ms) of bare NOTIFYs, sent at `rate`/s, to a LISTENing connection."""
    sent: dict[str, float] = {}
    got: list[float] = []
    with psycopg.connect(db.conninfo, autocommit=True) as listener:
        listener.execute("LISTEN bench_roundtrip")

        def receive() -> None:
            for n in listener.notifies(timeout=max(5.0, count / rate + 5.0)):
                t = time.perf_counter()
                start = sent.get(n.payload)
                if start is not None:
                    got.append((t - start) * 1000)
                if len(got) >= count:
                    return

        thread = threading.Thread(target=receive, daemon=True)
        thread.start()
        with psycopg.connect(db.conninfo, autocommit=True) as sender:
            started = time.perf_counter()
            for i in range(count):
                wait = started + i / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                key = str(i)
                sent[key] = time.perf_counter()
                sender.execute("SELECT pg_notify('bench_roundtrip', %s)", (key,))
        thread.join(30)
    return got


# --- the bench --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    quick = ctx.quick
    seconds = 2.0 if quick else 10.0
    rates = [1000.0, 10000.0]
    mp = multiprocessing.get_context("spawn")
    with ctx.database("live") as db:
        ctx.step(BENCH, "baseline: bare LISTEN/NOTIFY round trips")
        baseline = {r: listen_notify(db, r, int(r * (1.0 if quick else 3.0))) for r in rates}
        for r in rates:
            b = percentiles(baseline[r])
            ctx.step(BENCH, f"  at {r:,.0f}/s: p50 {b['p50']:.2f} ms, p99 {b['p99']:.2f} ms")

        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        clock = CommitClock(app)
        server_stop = mp.Event()
        started: list[Any] = []  # the projections' process, then the web app's
        clients: Any = None
        try:
            # Enough turns that no call ends before the last window closes: a followed
            # call that ended would stop producing messages partway through.
            commands_per_call = (sum(rates) * seconds * 1.1) / CALLS + 50
            turns = int(commands_per_call // COMMANDS_PER_TURN_AT_LEAST) + 2
            mix = CallMix(CALLS, prefix="live", seed=3, turns=turns)
            opening = [mix.next_for(i) for i in range(CALLS)]  # each call's first command
            outcomes = []
            for i in range(0, len(opening), 500):
                outcomes += app.record_many(opening[i : i + 500])
            ids: list[UUID] = [o.conversation_id for o in outcomes if o.conversation_id]
            port = _free_port()
            ctx.step(BENCH, f"starting the projections and the web app (127.0.0.1:{port})")
            token = start_deployed(
                mp, db.eventsourcing_env(), db.conninfo, port, server_stop, started
            )
            base = f"http://127.0.0.1:{port}"
            _wait_projected(base, token, ids[:CLIENTS])
            ctx.step(BENCH, f"connecting {CLIENTS} SSE clients, one call each")
            paths = [f"/api/conversations/{cid}/stream" for cid in ids[:CLIENTS]]
            c_ready, c_go, c_out = mp.Queue(), mp.Queue(), mp.Queue()
            clients = mp.Process(
                target=_clients, args=(port, token, paths, c_ready, c_go, c_out), daemon=True
            )
            clients.start()
            c_ready.get(timeout=120)
            time.sleep(1.0)
            windows: dict[float, tuple[float, float]] = {}
            for r in rates:
                ctx.step(BENCH, f"recording {r:,.0f} commands/s for {seconds:.0f}s")
                windows[r] = run_load(app, mix, r, seconds)
                time.sleep(2.0 if r != rates[-1] else DRAIN_S)  # the last messages
            c_go.put(True)
            received: list[tuple[int, int, float]]
            received, ended_streams = c_out.get(timeout=120)
            clients.join(30)
            calls_replaced = mix.calls_started - CALLS
            followed = ids[:CLIENTS]
            shown = _shown_positions(app, followed)
        finally:
            server_stop.set()
            if clients is not None and clients.is_alive():
                clients.kill()
            for process in started:
                process.join(30)
                if process.is_alive():
                    process.kill()
            app.close()

    import os

    if os.environ.get("BENCH_TRACE"):
        import json

        with open(os.environ["BENCH_TRACE"] + ".client", "w") as f:
            json.dump({"commit": clock.at, "received": received}, f)
    latencies: dict[float, list[float]] = {r: [] for r in rates}
    committed: dict[float, int] = {r: 0 for r in rates}
    expected: dict[float, int] = {r: 0 for r in rates}
    missing: dict[float, int] = {r: 0 for r in rates}
    got = {(followed[index], position) for index, position, _ in received}
    for r, (start, end) in windows.items():
        lo, hi = start + (0.5 if quick else 2.0), end
        committed[r] = sum(1 for t in clock.at.values() if lo <= t <= hi)
        for _, position, t in received:
            c = clock.at.get(position)
            if c is not None and lo <= c <= hi:
                latencies[r].append((t - c) * 1000)
        # Every event of a followed call committed in the window that its stream shows
        # must have reached that call's client.
        for cid, positions in shown.items():
            for position in positions:
                c = clock.at.get(position)
                if c is not None and lo <= c <= hi:
                    expected[r] += 1
                    missing[r] += (cid, position) not in got
    for r in rates:
        p = percentiles(latencies[r])
        ctx.step(
            BENCH,
            f"{r:,.0f}/s: {len(latencies[r]):,} messages of {expected[r]:,} expected "
            f"({missing[r]:,} missing), p50 {p['p50']:.1f} ms, "
            f"p95 {p['p95']:.1f} ms, p99 {p['p99']:.1f} ms",
        )
    figures = []
    for r, target in ((1000.0, 100.0), (10000.0, 250.0)):
        p, b = percentiles(latencies[r]), percentiles(baseline[r])
        for q in ("p50", "p95", "p99"):
            figures.append(
                Figure(
                    BENCH,
                    f"commit→SSE {q}, {r:,.0f} ev/s, {CLIENTS} clients",
                    p[q],
                    "ms",
                    f"LISTEN/NOTIFY round trip {q}",
                    b[q],
                    f"≤ {target:.0f} ms" if q == "p99" else "",
                    (p[q] <= target) if q == "p99" else None,
                )
            )
    for r in rates:
        figures.append(
            Figure(
                BENCH,
                f"SSE messages delivered, {r:,.0f} ev/s",
                expected[r] - missing[r],
                "msgs",
                "messages expected (followed calls' events in the window)",
                expected[r],
                "all (0 missing)",
                missing[r] == 0 and expected[r] > 0,
            )
        )
    result.figures = figures
    result.details = {
        "clients": CLIENTS,
        "calls": CALLS,
        "turns_per_call": turns,
        "seconds": seconds,
        "drain_s": DRAIN_S,
        "latencies_ms": {str(int(r)): latencies[r] for r in rates},
        "baseline_ms": {str(int(r)): baseline[r] for r in rates},
        "messages": {str(int(r)): len(latencies[r]) for r in rates},
        "events_committed": {str(int(r)): committed[r] for r in rates},
        "expected_messages": {str(int(r)): expected[r] for r in rates},
        "missing_messages": {str(int(r)): missing[r] for r in rates},
        "followed_calls_ended": calls_replaced,
        "streams_ended_early": len(ended_streams),
    }
    return result


def _shown_positions(app: GroupCommitCallCenter, followed: list[UUID]) -> dict[UUID, list[int]]:
    """The log positions of each followed call's events that its stream shows."""
    from apps.web.messages import call_message

    return {
        cid: [p for p, event in app.events_of(cid) if call_message(p, event) is not None]
        for cid in followed
    }


def _wait_projected(base: str, token: str, ids: list[UUID], timeout: float = 60.0) -> None:
    """Until every watched call has its row (its stream would be a 404 before)."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        for cid in ids:
            while client.get(f"/api/conversations/{cid}").status_code != 200:
                if time.monotonic() > deadline:
                    raise TimeoutError("the web app did not project the calls")
                time.sleep(0.05)
