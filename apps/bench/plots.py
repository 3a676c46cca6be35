"""The PNG plots of the bench results (matplotlib, loaded only when plotting): one figure
per bench, drawn from its figures and details."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from apps.bench import voice_figures
from apps.bench.common import BenchResult
from apps.bench.report import _num


def plot(results: Sequence[BenchResult], outdir: Path) -> dict[str, list[str]]:
    """One PNG per bench in `outdir`; their file names by bench."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir.mkdir(parents=True, exist_ok=True)
    made: dict[str, list[str]] = {}
    for r in results:
        fn = _PLOTS.get(r.name)
        if fn is None:
            continue
        fig = fn(plt, r)
        name = f"{r.name}.png"
        fig.savefig(outdir / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        made[r.name] = [name]
    return made


def _bars(
    plt: Any,
    title: str,
    labels: list[str],
    values: list[float],
    unit: str,
    colors: list[str],
    *,
    log: bool = False,
    target: float | None = None,
    target_label: str = "",
) -> Any:
    fig, ax = plt.subplots(figsize=(8, 3.8))
    y = range(len(labels))
    ax.barh(list(y), values, color=colors)
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
    for i, v in enumerate(values):
        ax.text(v, i, f"  {_num(v, unit)}", va="center", fontsize=9)
    if target is not None:
        ax.axvline(target, color="black", linestyle="--", linewidth=1)
        ax.text(target, len(labels) - 0.5, f" {target_label}", fontsize=8, va="bottom")
    ax.set_xlabel(unit)
    ax.set_title(title)
    right = max(values) * (4 if log else 1.35)
    if target is not None:
        right = max(right, target * (2 if log else 1.15))
    ax.set_xlim(right=right)
    return fig


OURS, BASE, BASE2, BASE3 = "#2b6cb0", "#a0aec0", "#cbd5e0", "#718096"


def _plot_ingest(plt: Any, r: BenchResult) -> Any:
    d = r.details
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2))
    ax2 = a.twinx()
    ax2.set_ylabel("p99 command→commit (ms, orange)", color="#c05621")
    ax2.set_yscale("log")
    for procs, marker in ((1, "o"), (2, "s")):
        pts = [s for s in d.get("sweep", []) if s.get("processes", 1) == procs]
        if not pts:
            continue
        x = [s["offered_commands_per_s"] for s in pts]
        style = "-" if procs == 1 else "--"
        a.plot(
            x,
            [s["events_per_s"] for s in pts],
            marker=marker,
            color=OURS,
            label=f"committed, {procs} writer process(es)",
            linestyle=style,
        )
        ax2.plot(x, [s["p99_ms"] for s in pts], marker=marker, color="#c05621", linestyle=style)
    base = d.get("baselines", {})
    if "single_insert" in base:
        a.axhline(
            base["single_insert"]["rate"],
            color=BASE3,
            linestyle=":",
            label="single-row INSERT/commit",
        )
    a.axhline(20_000, color="black", linestyle="--", linewidth=1, label="target 20,000 ev/s")
    a.set_xlabel("offered commands/s")
    a.set_ylabel("events/s committed")
    a.set_title(f"Ingest: offered load vs committed ({d.get('calls')} calls)")
    a.legend(fontsize=8, loc="upper left")
    lat = sorted(d.get("latencies_ms", []))
    if lat:
        ys = [i / len(lat) for i in range(1, len(lat) + 1)]
        b.plot(lat, ys, color=OURS, label=f"ours at {d.get('offered_commands_per_s', 0):,.0f}/s")
    b.axvline(50, color="black", linestyle="--", linewidth=1, label="target p99 50 ms")
    b.axhline(0.99, color=BASE3, linestyle=":", linewidth=1)
    b.set_xscale("log")
    b.set_xlabel("command → durable commit (ms)")
    b.set_ylabel("fraction of commands")
    b.set_title("Latency distribution at the reported rate")
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _plot_live(plt: Any, r: BenchResult) -> Any:
    d = r.details
    fig, ax = plt.subplots(figsize=(9, 4.5))
    styles = {"1000": OURS, "10000": "#c05621"}
    for rate, color in styles.items():
        for series, label, ls in (
            (d.get("latencies_ms", {}).get(rate, []), f"commit→SSE at {int(rate):,} ev/s", "-"),
            (d.get("baseline_ms", {}).get(rate, []), f"LISTEN/NOTIFY at {int(rate):,}/s", ":"),
        ):
            s = sorted(series)
            if s:
                ax.plot(
                    s,
                    [i / len(s) for i in range(1, len(s) + 1)],
                    color=color,
                    linestyle=ls,
                    label=label,
                )
    ax.axvline(100, color=OURS, linestyle="--", linewidth=0.8, label="target p99 @1k: 100 ms")
    ax.axvline(250, color="#c05621", linestyle="--", linewidth=0.8, label="target p99 @10k: 250 ms")
    ax.axhline(0.99, color=BASE3, linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("fraction of messages")
    ax.set_title(f"Live: commit → SSE message, {d.get('clients')} clients")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _plot_rebuild(plt: Any, r: BenchResult) -> Any:
    d = r.details
    labels = [
        "rebuild, 2 processes",
        "rebuild, 1 process",
        "raw keyset scan + decode",
        "stock ProjectionRunner",
    ]
    values = [
        d["ours"]["rate"],
        d["one_process"]["rate"],
        d["raw_scan"]["rate"],
        d["stock_runner"]["rate"],
    ]
    return _bars(
        plt,
        f"Rebuild of every read model ({d['ours']['events']:,} events)",
        labels,
        values,
        "ev/s",
        [OURS, OURS, BASE, BASE3],
        log=True,
        target=50_000,
        target_label="target 50,000 ev/s",
    )


def _plot_replay(plt: Any, r: BenchResult) -> Any:
    d = r.details["runs_ms"]
    names = ["timeline", "state_at_instant", "raw_fetch", "library_get"]
    labels = [
        "timeline (ours)",
        "state at an instant (ours)",
        "raw fetch of the rows",
        "library repository.get(version)",
    ]
    medians = [statistics.median(d[n]) for n in names]
    ratio = r.details.get("ratio_target", 4.0)
    fig = _bars(
        plt,
        f"Replay of a one-hour call ({r.details['events']:,} events): medians, min–max",
        labels,
        medians,
        "ms",
        [OURS, OURS, BASE, BASE3],
        target=ratio * medians[2],
        target_label=f"target {ratio:g}× raw fetch",
    )
    ax = fig.axes[0]
    lows = [m - min(d[n]) for m, n in zip(medians, names, strict=True)]
    highs = [max(d[n]) - m for m, n in zip(medians, names, strict=True)]
    ax.errorbar(medians, range(len(names)), xerr=[lows, highs], fmt="none", ecolor="black")
    ax.set_xlim(right=max(ax.get_xlim()[1], 1.2 * max(max(d[n]) for n in names)))
    return fig


def _plot_agent(plt: Any, r: BenchResult) -> Any:
    d = r.details
    q = d["queue"]
    n = d["commands"]
    labels = [
        "EventSink.put",
        "agent loop per event (put + writer task)",
        "asyncio.Queue.put_nowait",
        "asyncio.Queue put + get",
    ]
    values = [d["put_us"], d["loop_us"], q["put_s"] / n * 1e6, q["loop_cpu_s"] / n * 1e6]
    return _bars(
        plt,
        "Agent event loop time per recorded event",
        labels,
        values,
        "µs",
        [OURS, OURS, BASE, BASE3],
        log=True,
        target=50,
        target_label="target 50 µs",
    )


def _plot_understanding(plt: Any, r: BenchResult) -> Any:
    """Left: word error rate per condition, Whisper beside pocketsphinx; right: task success
    per input path; each with its target."""
    wer: dict[str, float] = r.details["wer_percent"]
    conditions = ["clean", "noise", "telephone"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    width = 0.38
    for i, (recogniser, color) in enumerate((("whisper", "tab:blue"), ("pocketsphinx", "0.6"))):
        xs = [c + (i - 0.5) * width for c in range(len(conditions))]
        values = [wer[f"{recogniser}, {c}"] for c in conditions]
        left.bar(xs, values, width, label=recogniser, color=color)
        for x, v in zip(xs, values, strict=True):
            left.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
    left.hlines([15, 25, 25], [-0.4, 0.6, 1.6], [0.4, 1.4, 2.4], colors="r", linestyles="--",
                label="target")  # fmt: skip
    left.set_xticks(range(len(conditions)), conditions)
    left.set_ylabel("word error rate (%)")
    left.set_title("Held-out speech")
    left.legend(fontsize=8)
    tasks = [f for f in r.figures if f.name.startswith("task success")]
    labels = [f.name.removeprefix("task success, ") for f in tasks]
    right.barh(range(len(tasks)), [f.value for f in tasks], color="tab:green")
    right.set_yticks(range(len(tasks)), labels)
    right.invert_yaxis()
    right.axvline(90, color="r", linestyle="--", linewidth=1, label="target ≥ 90 %")
    right.set_xlim(0, 100)
    right.set_xlabel("dialogues with the right tool and arguments (%)")
    right.set_title("Task success")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


_PLOTS = {
    "ingest": _plot_ingest,
    "live": _plot_live,
    "rebuild": _plot_rebuild,
    "replay": _plot_replay,
    "agent": _plot_agent,
    "voice": voice_figures.plot,
    "understanding": _plot_understanding,
}
