"""Ingest: sustained domain events/s from concurrent simulated calls, and the latency from
a command's submission to its durable commit.

The load is open-loop: a generator thread submits commands of N interleaved calls at a
fixed rate, whatever the writer's progress (no coordinated omission), through the
application's group commit (`GroupCommitCallCenter.submit`); latency counts from when each command
was due. A rate is *sustained* when at least 97% of what was offered in the window
committed within it, the 99th percentile stayed under a second and the backlog under half
a second of load. Rates are stepped up until one is not sustained twice running (each
series in a fresh database); the best one is then held for 15 s in a fresh database, and
reported (stepping down when that run is not sustained).

Baselines, on the same server with rows of the same size (stored events of the same
workload): raw psycopg single-row INSERT per commit, raw binary COPY in batches of
1,000 rows, and the eventsourcing library's plain `Application.save()` of one event per
transaction.

This module is the bench itself (the sweep, the final run, the figures); the load driver
is in `apps.bench.ingest_load`, the baselines in `apps.bench.ingest_baselines`.
"""

from __future__ import annotations

import math
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.bench.common import BenchContext, BenchResult, Figure, percentiles
from apps.bench.ingest_baselines import (
    baseline_copy,
    baseline_library_save,
    baseline_single_insert,
    sample_rows,
)
from apps.bench.ingest_load import RunStats, drive_processes

BENCH = "ingest"


def _sweep(
    ctx: BenchContext,
    processes: int,
    calls: int,
    rates: list[float],
    seconds: float,
    warmup: float,
    sweep: list[dict[str, Any]],
) -> RunStats | None:
    """Step the offered rate up until it is not sustained twice running (this disk
    stalls for up to a second now and then: one stall in a short window is not the
    system's limit); the best sustained run."""
    best: RunStats | None = None
    with ctx.database(f"ingest_p{processes}") as db:
        for rate in rates:
            stats = None
            for attempt in (1, 2):
                again = " (again)" if attempt > 1 else ""
                ctx.step(
                    BENCH, f"{processes} writer process(es): offering {rate:,.0f} commands/s{again}"
                )
                stats = _run(ctx, db, processes, calls, rate, seconds, warmup, sweep)
                if stats.sustained:
                    break
            assert stats is not None
            if not stats.sustained:
                break
            if best is None or stats.events_per_s > best.events_per_s:
                best = stats
    return best


def _run(
    ctx: BenchContext,
    db: DatabaseSettings,
    processes: int,
    calls: int,
    rate: float,
    seconds: float,
    warmup: float,
    sweep: list[dict[str, Any]],
) -> RunStats:
    stats = drive_processes(db, processes, calls, rate, seconds, warmup, f"i{len(sweep)}")
    summary = {"processes": processes, "window_s": seconds, **stats.summary()}
    sweep.append(summary)
    ctx.step(
        BENCH,
        f"  {stats.events_per_s:,.0f} events/s, p50 {summary['p50_ms']:.1f} ms, "
        f"p99 {summary['p99_ms']:.1f} ms, writer CPU {stats.cpu_us_per_event:.0f} µs/event"
        f"{'' if stats.sustained else ' (not sustained)'}",
    )
    return stats


def _final(
    ctx: BenchContext,
    calls: int,
    processes: int,
    rate: float,
    sweep: list[dict[str, Any]],
) -> RunStats:
    """The best swept rate held for 15 s, stepping down 2,000/s (at most twice) until a
    run is sustained; the last run either way."""
    headline: RunStats | None = None
    for step in range(3):
        offered = rate - 2000.0 * step
        ctx.step(BENCH, f"sustaining {offered:,.0f} commands/s from {processes} process(es), 15s")
        with ctx.database("ingest_final") as db:
            headline = _run(ctx, db, processes, calls, offered, 15.0, 2.0, sweep)
        if headline.sustained:
            break
    assert headline is not None
    return headline


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    quick = ctx.quick
    base_s = 2.0 if quick else 6.0
    calls = 200 if quick else 1000
    sweep: list[dict[str, Any]] = []
    with ctx.database("ingest") as db:
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        try:
            ctx.step(BENCH, "sampling stored events of the workload for the baselines")
            rows = sample_rows(app, 20_000 if quick else 120_000)
        finally:
            app.close()
        size = sum(len(r[3]) for r in rows) / len(rows)
        ctx.step(BENCH, f"baseline: raw single-row INSERT per commit ({base_s:.0f}s)")
        single_rate, single_lat = baseline_single_insert(db, rows, base_s)
        ctx.step(BENCH, f"  {single_rate:,.0f} rows/s")
        ctx.step(BENCH, f"baseline: raw binary COPY, batches of 1,000 ({base_s:.0f}s)")
        copy_rate, copy_lat = baseline_copy(db, rows, base_s)
        ctx.step(BENCH, f"  {copy_rate:,.0f} rows/s")
        with ctx.database("ingest_stock") as stock_db:
            ctx.step(BENCH, f"baseline: eventsourcing save(), one event each ({base_s:.0f}s)")
            save_rate, save_lat = baseline_library_save(stock_db, base_s)
        ctx.step(BENCH, f"  {save_rate:,.0f} events/s")

    if quick:
        headline = _sweep(ctx, 1, calls, [3000.0], 2.0, 0.5, sweep)
        if headline is None:
            headline = _last(sweep, calls)
        processes = 1
    else:
        rates = [4000.0 * k for k in range(1, 16)]
        one = _sweep(ctx, 1, calls, rates, 5.0, 1.0, sweep)
        start = max(4000.0, (one.offered if one else 4000.0) - 4000.0)
        two = _sweep(ctx, 2, calls, [start + 2000.0 * k for k in range(0, 20)], 5.0, 1.0, sweep)
        candidates = [(r, p) for r, p in ((one, 1), (two, 2)) if r is not None]
        if candidates:
            best, processes = max(candidates, key=lambda rp: rp[0].events_per_s)
            headline = _final(ctx, calls, processes, best.offered, sweep)
        else:
            headline, processes = _last(sweep, calls), 1
    p = percentiles(headline.latencies_ms, (50, 99))
    sp = percentiles(single_lat, (50, 99))
    floor = time_weighted_percentile(single_lat, 99)
    stalled = stalled_share(single_lat, 20.0)
    rate = headline.events_per_s
    label = f"sustained events/s ({headline.calls} calls, {processes} proc)"
    result.figures = [
        Figure(
            BENCH,
            label,
            rate,
            "ev/s",
            "raw single-row INSERT per commit",
            single_rate,
            "≥ 20,000 ev/s and ≥ 5× single-row INSERT",
            rate >= 20_000 and rate >= 5 * single_rate,
        ),
        Figure(BENCH, label, rate, "ev/s", "raw binary COPY, 1,000-row batches", copy_rate),
        Figure(BENCH, label, rate, "ev/s", "eventsourcing save(), 1 event/transaction", save_rate),
        Figure(
            BENCH,
            "p50 command→durable commit",
            p["p50"],
            "ms",
            "single-row INSERT commit p50",
            sp["p50"],
        ),
        Figure(
            BENCH,
            "p99 command→durable commit",
            p["p99"],
            "ms",
            "single-row INSERT commit p99",
            sp["p99"],
            "≤ 50 ms",
            p["p99"] <= 50,
        ),
        Figure(
            BENCH,
            "p99 command→durable commit",
            p["p99"],
            "ms",
            "single-row INSERT commit p99 weighted by time (an arrival at a random moment)",
            floor,
        ),
    ]
    result.notes.append(
        f"The bare single-row INSERT loop spent {stalled:.1%} of its time in commits slower "
        f"than 20 ms (fsync stalls of this machine's disk); weighted by time its p99 was "
        f"{floor:,.1f} ms, against {sp['p99']:,.2f} ms counted per commit."
    )
    result.details = {
        "calls": headline.calls,
        "processes": processes,
        "offered_commands_per_s": headline.offered,
        "window_s": headline.duration_s,
        "sustained": headline.sustained,
        "rejected": headline.rejected,
        "row_bytes": size,
        "sweep": sweep,
        "latencies_ms": headline.latencies_ms,
        "baselines": {
            "single_insert": {
                "rate": single_rate,
                **percentiles(single_lat, (50, 99)),
                "time_weighted_p99": floor,
                "time_in_commits_over_20ms": stalled,
            },
            "copy_1000": {"rate": copy_rate, **percentiles(copy_lat, (50, 99))},
            "library_save": {"rate": save_rate, **percentiles(save_lat, (50, 99))},
        },
    }
    return result


def time_weighted_percentile(latencies: list[float], q: float) -> float:
    """The latency of the commit in progress at a random moment, at percentile q: each
    commit weighted by how long it took. For group commit, where every event arriving
    during a slow commit waits for it, this is the disk's floor; a plain percentile over
    commits hides a stall behind the many fast commits around it."""
    xs = sorted(latencies)
    total = sum(xs)
    if not xs or total <= 0:
        return math.nan
    acc = 0.0
    for x in xs:
        acc += x
        if acc >= total * q / 100:
            return x
    return xs[-1]


def stalled_share(latencies: list[float], over_ms: float) -> float:
    """The share of the loop's time spent in commits slower than `over_ms`."""
    total = sum(latencies)
    return sum(x for x in latencies if x > over_ms) / total if total else 0.0


def _last(sweep: list[dict[str, Any]], calls: int) -> RunStats:
    """No rate was sustained: report the last run's figures (from its summary)."""
    last = sweep[-1] if sweep else {}
    stats = RunStats(offered=last.get("offered_commands_per_s", 0.0), duration_s=1.0, calls=calls)
    stats.events = int(last.get("events_per_s", 0.0))
    stats.latencies_ms = [last.get("p50_ms", 0.0), last.get("p99_ms", 0.0)]
    return stats
