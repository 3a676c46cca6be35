"""The table on the terminal, the BENCHMARKS.md sections and the PNG plots."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apps.bench.common import BenchResult, Figure, percentiles

TITLES = {
    "ingest": "Ingest",
    "live": "Live latency",
    "rebuild": "Rebuild",
    "replay": "Replay",
    "agent": "Agent overhead",
}


def _num(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit in ("ev/s", "rows/s"):
        return f"{value:,.0f} {unit}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    if abs(value) >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


def _ratio(f: Figure) -> str:
    r = f.ratio
    if math.isnan(r):
        return "n/a"
    return f"{r:,.1f}×" if r >= 10 else f"{r:.2f}×"


def _met(f: Figure) -> str:
    if f.met is None:
        return ""
    return "met" if f.met else "MISSED"


def rows(results: Sequence[BenchResult]) -> list[list[str]]:
    out = []
    for r in results:
        for f in r.figures:
            out.append(
                [
                    f.bench,
                    f.name,
                    _num(f.value, f.unit),
                    f.baseline,
                    _num(f.baseline_value, f.unit),
                    _ratio(f),
                    f.target,
                    _met(f),
                ]
            )
    return out


HEADER = ["bench", "figure", "value", "baseline", "baseline value", "ratio", "target", ""]


def table(results: Sequence[BenchResult]) -> str:
    """A plain-text table (what the terminal shows)."""
    body = rows(results)
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(HEADER)
    ]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*HEADER).rstrip(), line.format(*("-" * w for w in widths)).rstrip()]
    out += [line.format(*r).rstrip() for r in body]
    out.append("ratio = figure ÷ baseline, both measured in this run on the same database")
    return "\n".join(out)


def markdown_table(results: Sequence[BenchResult]) -> str:
    out = ["| " + " | ".join(HEADER[:-1] + ["status"]) + " |", "|" + "---|" * len(HEADER)]
    for r in rows(results):
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


# --- BENCHMARKS.md ---------------------------------------------------------------------------

BEGIN = "<!-- bench:{name} -->"
END = "<!-- /bench:{name} -->"


def _section(name: str, body: str) -> str:
    return f"{BEGIN.format(name=name)}\n{body.rstrip()}\n{END.format(name=name)}"


def _replace(text: str, name: str, body: str) -> str:
    pattern = re.compile(
        re.escape(BEGIN.format(name=name)) + r".*?" + re.escape(END.format(name=name)), re.S
    )
    block = _section(name, body)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip() + "\n\n" + block + "\n"


PREAMBLE = """# Benchmarks

`callcenter bench [ingest|live|rebuild|replay|agent|all] [--quick]` measures these figures
against the configured PostgreSQL (the embedded server, or `CALLCENTER_DATABASE_URL`), in
throw-away databases of its own. Each figure is shown beside a baseline measured in the
same run on the same database, as a ratio (figure ÷ baseline). Plots are in `docs/bench/`.
Sections are rewritten by the bench that produced them.

The machine is a shared 2-core VM: other work ran alongside some runs (see the load
averages), and figures that depend on fsync latency or on CPU left over vary by tens of
percent from run to run.
"""


def write_markdown(
    path: Path,
    results: Sequence[BenchResult],
    machine: dict[str, str],
    *,
    quick: bool,
    plots: dict[str, list[str]],
    notes: dict[str, str] | None = None,
    when: str | None = None,
    summary: Sequence[BenchResult] | None = None,
) -> None:
    """Rewrite the machine, the summary (`summary`, or `results`) and each result's
    section; other sections stay as they are."""
    text = path.read_text() if path.exists() else PREAMBLE
    when = when or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    m = ["| | |", "|---|---|"]
    m += [f"| {k} | {v} |" for k, v in machine.items()]
    benches = ", ".join(r.name for r in results)
    m.append(f"| last run | {when}: {benches}{' (--quick)' if quick else ''} |")
    text = _replace(text, "machine", "## The machine\n\n" + "\n".join(m))
    overview = markdown_table(list(summary if summary is not None else results))
    text = _replace(text, "summary", "## Summary\n\n" + overview)
    for r in results:
        body = [f"## {TITLES.get(r.name, r.name)}", "", markdown_table([r]), ""]
        for note in r.notes:
            body += [note, ""]
        for png in plots.get(r.name, []):
            body += [f"![{r.name}]({png})", ""]
        extra = (notes or {}).get(r.name)
        if extra:
            body += [extra.rstrip(), ""]
        body += [
            "<details><summary>raw figures</summary>",
            "",
            "```json",
            json.dumps(_light(r.details), indent=1, default=str)[:6000],
            "```",
            "",
            "</details>",
        ]
        text = _replace(text, r.name, "\n".join(body))
    path.write_text(text.rstrip() + "\n")


def _light(details: dict[str, Any]) -> dict[str, Any]:
    """Details without the long series (summarised instead)."""
    out: dict[str, Any] = {}
    for k, v in details.items():
        if isinstance(v, list) and len(v) > 50 and all(isinstance(x, (int, float)) for x in v[:50]):
            out[k] = {"n": len(v), **percentiles(v, (50, 90, 99, 99.9))}
        elif isinstance(v, dict):
            out[k] = _light(v)
        else:
            out[k] = v
    return out


def read_json(path: Path) -> tuple[list[BenchResult], dict[str, Any]]:
    """The results a report was written from (figures and light details)."""
    if not path.exists():
        return [], {}
    data = json.loads(path.read_text())
    results = []
    for r in data.get("results", []):
        figures = [Figure(**{k: v for k, v in f.items() if k != "ratio"}) for f in r["figures"]]
        results.append(BenchResult(r["name"], figures, r["details"], [], r["elapsed_s"]))
    return results, data


def merged(earlier: Sequence[BenchResult], now: Sequence[BenchResult]) -> list[BenchResult]:
    """Every bench's latest results, in the benches' order."""
    latest = {r.name: r for r in earlier}
    latest.update({r.name: r for r in now})
    order = list(TITLES)
    return sorted(latest.values(), key=lambda r: order.index(r.name) if r.name in order else 99)


def write_json(path: Path, results: Sequence[BenchResult], machine: dict[str, str]) -> None:
    data = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "results": [
            {
                "name": r.name,
                "elapsed_s": r.elapsed_s,
                "figures": [f.as_dict() for f in r.figures],
                "details": _light(r.details),
            }
            for r in results
        ],
    }
    path.write_text(json.dumps(data, indent=1, default=str))


# --- plots -----------------------------------------------------------------------------------


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
    labels = [
        "timeline (ours)",
        "state at an instant (ours)",
        "raw fetch of the rows",
        "library repository.get(version)",
    ]
    values = [
        min(d["timeline"]),
        min(d["state_at_instant"]),
        min(d["raw_fetch"]),
        min(d["library_get"]),
    ]
    return _bars(
        plt,
        f"Replay of a one-hour call ({r.details['events']:,} events)",
        labels,
        values,
        "ms",
        [OURS, OURS, BASE, BASE3],
        target=200,
        target_label="target 200 ms",
    )


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


_PLOTS = {
    "ingest": _plot_ingest,
    "live": _plot_live,
    "rebuild": _plot_rebuild,
    "replay": _plot_replay,
    "agent": _plot_agent,
}
