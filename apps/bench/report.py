"""The table on the terminal, the BENCHMARKS.md sections and results.json; the PNG plots
are drawn by `apps.bench.plots` (`plot` here hands over to it)."""

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
    "understanding": "Understanding (held-out speech)",
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
        notes = list(r.get("notes", []))
        results.append(BenchResult(r["name"], figures, r["details"], notes, r["elapsed_s"]))
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
                "notes": r.notes,
            }
            for r in results
        ],
    }
    path.write_text(json.dumps(data, indent=1, default=str))


def plot(results: Sequence[BenchResult], outdir: Path) -> dict[str, list[str]]:
    """One PNG per bench in `outdir`; their file names by bench (see `apps.bench.plots`)."""
    from apps.bench import plots

    return plots.plot(results, outdir)
