"""What every bench shares: throw-away databases, figures with their baselines, progress."""

from __future__ import annotations

import contextlib
import math
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg.sql import SQL, Identifier

from adapters.postgres.database import DatabaseSettings, drop_database, ensure_database
from apps.progress import ProgressBar


@dataclass
class Figure:
    """One measured figure beside a baseline measured in the same run (ratio = value ÷
    baseline, so a ratio above 1 means more events/s or more milliseconds)."""

    bench: str
    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    target: str = ""
    met: bool | None = None
    note: str = ""
    #: Repeated runs: `value` and `baseline_value` are their medians, these their
    #: (min, max), and `runs` how many there were.
    spread: tuple[float, float] | None = None
    baseline_spread: tuple[float, float] | None = None
    runs: int = 0
    #: A target stated as a ratio to the baseline (value ÷ baseline ≤ this).
    ratio_target: float | None = None

    @property
    def ratio(self) -> float:
        if not self.baseline_value or math.isnan(self.baseline_value):
            return math.nan
        return self.value / self.baseline_value

    def as_dict(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
            "spread": self.spread,
            "baseline_spread": self.baseline_spread,
            "runs": self.runs,
            "ratio_target": self.ratio_target,
        }


def repeated(
    bench: str,
    name: str,
    runs: Sequence[float],
    unit: str,
    baseline: str,
    baseline_runs: Sequence[float],
    ratio_target: float | None = None,
) -> Figure:
    """A figure of repeated runs, judged on the medians (value ÷ baseline ≤
    `ratio_target` when there is one), with each side's spread."""
    value, base = statistics.median(runs), statistics.median(baseline_runs)
    figure = Figure(
        bench,
        name,
        value,
        unit,
        baseline,
        base,
        spread=(min(runs), max(runs)),
        baseline_spread=(min(baseline_runs), max(baseline_runs)),
        runs=len(runs),
        ratio_target=ratio_target,
    )
    if ratio_target is not None:
        figure.target = f"median ≤ {ratio_target:g}× baseline median"
        figure.met = figure.ratio <= ratio_target
    return figure


@dataclass
class BenchResult:
    name: str
    figures: list[Figure] = field(default_factory=list)
    #: Series and settings for the plots and the BENCHMARKS.md section.
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    #: The machine while this bench ran (when, load averages at its start and end, ...).
    machine: dict[str, str] = field(default_factory=dict)


class Progress:
    """Progress on stderr: a line per step, and a bar for long loops."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._started = time.monotonic()

    def step(self, bench: str, text: str) -> None:
        elapsed = time.monotonic() - self._started
        self.stream.write(f"[{elapsed:6.1f}s] {bench:<8} {text}\n")
        self.stream.flush()

    def bar(self, label: str) -> ProgressBar:
        return ProgressBar(label, stream=self.stream)


@dataclass
class BenchContext:
    server: DatabaseSettings
    quick: bool
    progress: Progress
    #: Each bench's own throw-away databases are dropped afterwards unless this is set.
    keep_databases: bool = False
    _created: list[DatabaseSettings] = field(default_factory=list)

    @contextlib.contextmanager
    def database(self, label: str) -> Iterator[DatabaseSettings]:
        """A fresh database on the same server, dropped afterwards."""
        settings = self.server.with_dbname(f"bench_{label}_{uuid.uuid4().hex[:8]}")
        ensure_database(settings)
        try:
            yield settings
        finally:
            if not self.keep_databases:
                drop_database(settings)

    def step(self, bench: str, text: str) -> None:
        self.progress.step(bench, text)


# --- statistics ----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank on sorted values; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return float(ordered[rank])


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95, 99)) -> dict[str, float]:
    if not values:
        return {f"p{q:g}": math.nan for q in qs}
    ordered = sorted(values)
    out: dict[str, float] = {}
    for q in qs:
        rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
        out[f"p{q:g}"] = float(ordered[rank])
    return out


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


# --- the machine ---------------------------------------------------------------------------


def machine_info(conninfo: str) -> dict[str, str]:
    info: dict[str, str] = {}
    info["cpu"] = _cpu_model()
    info["cores"] = _run(["nproc"]) or "?"
    info["memory"] = _memory()
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = platform.python_version()
    try:
        with psycopg.connect(conninfo) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = str(row[0]) if row else "?"
            settings = []
            for name in ("shared_buffers", "synchronous_commit", "fsync", "max_wal_size"):
                r = conn.execute(SQL("SHOW {}").format(Identifier(name))).fetchone()
                settings.append(f"{name}={r[0] if r else '?'}")
            info["postgresql settings"] = ", ".join(settings)
    except psycopg.Error as e:
        info["postgresql"] = f"unavailable ({e})"
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory() -> str:
    out = _run(["free", "-h"])
    for line in out.splitlines():
        if line.startswith("Mem:"):
            return line.split()[1]
    return "?"


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
