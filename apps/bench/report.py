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
    "voice": "Voice-to-voice and capacity",
    "understanding": "Understanding (held-out speech)",
    "supervise": "Supervisor acts reaching the agent",
}


def _voice_section(r: BenchResult) -> str:
    from apps.bench.voice_figures import section

    return section(r)


#: Benches whose section has a table of its own beside the figures.
SECTION_TABLES = {"voice": _voice_section}


def _num(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit in ("ev/s", "rows/s", "calls"):
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


def _with_spread(value: float, spread: Sequence[float] | None, unit: str) -> str:
    """A median with the min–max of its runs beside it."""
    text = _num(value, unit)
    if spread:
        lo, hi = spread
        text += f" ({_num(lo, unit).removesuffix(' ' + unit)}–{_num(hi, unit)})"
    return text


def rows(results: Sequence[BenchResult]) -> list[list[str]]:
    out = []
    for r in results:
        for f in r.figures:
            out.append(
                [
                    f.bench,
                    f.name,
                    _with_spread(f.value, f.spread, f.unit),
                    f.baseline,
                    _with_spread(f.baseline_value, f.baseline_spread, f.unit),
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


def markdown_table(results: Sequence[BenchResult], *, with_run: bool = False) -> str:
    """Figures as a table; `with_run` adds the column saying which run measured each."""
    header = HEADER[:-1] + ["status"] + (["run"] if with_run else [])
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        run = [r.machine.get("started", "?")] if with_run else []
        for row in rows([r]):
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in row + run) + " |")
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
Each bench's section is rewritten by the run of that bench, with the state of the machine
during it; every number in a section comes from that run. Figures from earlier runs are
kept, dated, under History at the end.
"""


def write_markdown(
    path: Path,
    results: Sequence[BenchResult],
    *,
    quick: bool,
    plots: dict[str, list[str]],
    notes: dict[str, str] | None = None,
    summary: Sequence[BenchResult] | None = None,
) -> None:
    """Rewrite the summary (`summary`, or `results`) and each result's section, each with
    the machine state of its own run; other sections stay as they are."""
    text = path.read_text() if path.exists() else PREAMBLE
    text = _remove(text, "machine")  # one table for every bench: now each section has its own
    everything = list(summary if summary is not None else results)
    overview = markdown_table(everything, with_run=True)
    text = _replace(
        text,
        "summary",
        "## Summary\n\nEach bench's latest run (the run column says when; its section has the "
        "state of the machine during it).\n\n" + overview,
    )
    for r in results:
        body = [f"## {TITLES.get(r.name, r.name)}", "", markdown_table([r]), ""]
        if r.name in SECTION_TABLES:
            body += [SECTION_TABLES[r.name](r), ""]
        for note in r.notes:
            body += [note, ""]
        for png in plots.get(r.name, []):
            body += [f"![{r.name}]({png})", ""]
        extra = (notes or {}).get(r.name)
        if extra:
            body += [extra.rstrip(), ""]
        body += machine_table(r, quick=quick)
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


def machine_table(r: BenchResult, *, quick: bool = False) -> list[str]:
    """The machine during this bench's run: when, how long, the load around it."""
    rows = ["| | |", "|---|---|"]
    rows += [f"| {k} | {v} |" for k, v in r.machine.items()]
    rows.append(f"| duration | {r.elapsed_s:.0f} s{' (--quick)' if quick else ''} |")
    return ["**The machine during this run**", "", *rows, ""]


def _remove(text: str, name: str) -> str:
    pattern = re.compile(
        r"\n*" + re.escape(BEGIN.format(name=name)) + r".*?" + re.escape(END.format(name=name)),
        re.S,
    )
    return pattern.sub("", text)


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
        figures = [_figure(f) for f in r["figures"]]
        notes = list(r.get("notes", []))
        # Results written before each bench kept its own machine state: the invocation's.
        machine = r.get("machine") or {
            "started": data.get("when", "?"),
            **data.get("machine", {}),
            "load averages": "of the whole invocation that ran every bench",
        }
        results.append(
            BenchResult(r["name"], figures, r["details"], notes, r["elapsed_s"], machine)
        )
    return results, data


def merged(earlier: Sequence[BenchResult], now: Sequence[BenchResult]) -> list[BenchResult]:
    """Every bench's latest results, in the benches' order."""
    latest = {r.name: r for r in earlier}
    latest.update({r.name: r for r in now})
    order = list(TITLES)
    return sorted(latest.values(), key=lambda r: order.index(r.name) if r.name in order else 99)


def _figure(saved: dict[str, Any]) -> Figure:
    f = Figure(**{k: v for k, v in saved.items() if k != "ratio"})
    for name in ("spread", "baseline_spread"):  # JSON has lists
        value = getattr(f, name)
        if value is not None:
            setattr(f, name, (value[0], value[1]))
    return f


def write_json(path: Path, results: Sequence[BenchResult]) -> None:
    data = {
        "written": now(),
        "results": [
            {
                "name": r.name,
                "machine": r.machine,
                "elapsed_s": r.elapsed_s,
                "figures": [f.as_dict() for f in r.figures],
                "details": _light(r.details),
                "notes": r.notes,
            }
            for r in results
        ],
    }
    path.write_text(json.dumps(data, indent=1, default=str))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def plot(results: Sequence[BenchResult], outdir: Path) -> dict[str, list[str]]:
    """One PNG per bench in `outdir`; their file names by bench (see `apps.bench.plots`)."""
    from apps.bench import plots

    return plots.plot(results, outdir)
