"""`callcenter bench sealing`: what sealing personal data with per-conversation keys costs
the write path and a rebuild of every read model.

Each run stores the same simulated calls twice, into fresh databases, sealed and not
sealed (alternating which goes first), through the group-commit writer at full speed,
then rebuilds every read model of each database in one process. Figures are the medians
of the runs with their spread; the target is at most 15 % slower than unsealed.
"""

from __future__ import annotations

import time
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from apps.bench.common import BenchContext, BenchResult, repeated
from apps.bench.generate import generate
from projections.rebuild import rebuild_all
from projections.registry import READ_MODELS
from projections.worker import EventSource

BENCH = "sealing"
#: At most this much slower than without sealing (a rate at least 1 - this of it).
MAX_COST = 0.15


def _one(ctx: BenchContext, sealed: bool, events: int) -> tuple[float, float]:
    """(ingest events/s, rebuild events/s) of one fresh database."""
    label = "sealed" if sealed else "plain"
    with ctx.database(f"sealing_{label}") as db:
        started = time.perf_counter()
        stored = generate(ctx, BENCH, db, events, concurrent_calls=200, sealed=sealed)
        ingest = stored / (time.perf_counter() - started)
        env: dict[str, Any] = db.eventsourcing_env()
        if not sealed:
            env["SEAL_PERSONAL_DATA"] = "n"
        app = GroupCommitCallCenter(env=env)
        try:
            source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
            started = time.perf_counter()
            results = rebuild_all(db.conninfo, source, list(READ_MODELS.values()))
            rebuild = results[0].events / (time.perf_counter() - started)
        finally:
            app.close()
    ctx.step(BENCH, f"  {label}: ingest {ingest:,.0f} ev/s, rebuild {rebuild:,.0f} ev/s")
    return ingest, rebuild


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(BENCH)
    events = 20_000 if ctx.quick else 300_000
    runs = 2 if ctx.quick else 5
    sealed: list[tuple[float, float]] = []
    plain: list[tuple[float, float]] = []
    for k in range(runs):
        ctx.step(BENCH, f"run {k + 1}/{runs}: {events:,} events sealed and not sealed")
        for seal in (True, False) if k % 2 == 0 else (False, True):
            (sealed if seal else plain).append(_one(ctx, seal, events))
    for index, what in (
        (0, "ingest (group commit, 1 process)"),
        (1, "rebuild of every read model"),
    ):
        figure = repeated(
            BENCH,
            f"{what}, sealed",
            [s[index] for s in sealed],
            "ev/s",
            "the same, personal data not sealed",
            [p[index] for p in plain],
        )
        figure.target = f"median at most {MAX_COST:.0%} below the baseline's"
        figure.met = figure.ratio >= 1 - MAX_COST
        result.figures.append(figure)
    result.details = {"events": events, "runs": runs, "sealed": sealed, "plain": plain}
    return result
