"""`callcenter bench [NAME|all] [--quick] [--write]`: ingest, live, rebuild, replay, agent,
voice, understanding.

Runs the benches against the runtime's PostgreSQL server (each in throw-away databases of
its own), shows progress on stderr, prints the table of figures and baselines, writes the
BENCHMARKS.md sections and the PNG plots (docs/bench/). A --quick run is a smoke test
with small figures: it writes its report to a temporary directory unless --write (or
--out) says otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from apps.bench.common import BenchContext, BenchResult, Progress, machine_info
from apps.runtime import Runtime

BENCHES = ("ingest", "live", "rebuild", "replay", "agent", "search", "analytics")
#: Benches that need the speech models (and, for voice, livekit-server and the agent worker)
#: and take minutes: run by name, not by `all`.
CALL_BENCHES = ("voice", "supervise")
SPEECH_BENCHES = ("understanding",)
#: Benches not in `all`: each answers one question on demand.
EXTRA_BENCHES = ("sealing", "sse")
REPO = Path(__file__).resolve().parents[1]


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="measure ingest, live latency, rebuild, replay, agent overhead, voice, understanding",
        description=(
            "Benchmarks against the configured PostgreSQL, each figure beside a baseline "
            "measured in the same run. Writes BENCHMARKS.md and docs/bench/*.png."
        ),
    )
    p.add_argument(
        "which",
        nargs="?",
        default="all",
        choices=[*BENCHES, *CALL_BENCHES, *SPEECH_BENCHES, *EXTRA_BENCHES, "all"],
        help="which bench (voice and understanding run only when named)",
    )
    p.add_argument("--quick", action="store_true", help="small figures, for a smoke test")
    p.add_argument(
        "--write",
        action="store_true",
        help="write BENCHMARKS.md and docs/bench/ in the repository (default unless --quick)",
    )
    p.add_argument("--out", type=Path, help="write the report here instead")
    p.add_argument("--keep-databases", action="store_true", help="do not drop the bench DBs")
    p.add_argument(
        "--rerender",
        action="store_true",
        help="rewrite BENCHMARKS.md from docs/bench/results.json (no measuring)",
    )
    p.set_defaults(handler="bench")
    return p


def cmd_bench(runtime: Runtime, args: argparse.Namespace) -> int:
    if getattr(args, "rerender", False):
        return _rerender(_destination(args))
    names = list(BENCHES) if args.which == "all" else [args.which]
    progress = Progress()
    ctx = BenchContext(
        runtime.database, bool(args.quick), progress, keep_databases=args.keep_databases
    )
    machine = machine_info(runtime.database.conninfo)
    started = time.perf_counter()
    results: list[BenchResult] = []
    failed: list[str] = []
    for name in names:
        module = importlib.import_module(f"apps.bench.{name}")
        progress.step(name, "starting" + (" (quick)" if args.quick else ""))
        from apps.bench.report import now

        state = {"started": now(), "load average at start": _load()}
        t = time.perf_counter()
        try:
            result: BenchResult = module.run(ctx)
        except Exception:
            failed.append(name)
            progress.step(name, "FAILED")
            traceback.print_exc(file=sys.stderr)
            continue
        result.elapsed_s = time.perf_counter() - t
        # Each bench's own machine state: others share this machine, and load moves figures.
        result.machine = {**state, "load average at end": _load(), **machine}
        if args.quick:  # a smoke test's figures are not held to the targets
            for figure in result.figures:
                figure.met = None
        progress.step(name, f"done in {result.elapsed_s:.0f}s")
        results.append(result)
    elapsed = time.perf_counter() - started

    from apps.bench import report

    print(report.table(results))
    out = _destination(args)
    out.mkdir(parents=True, exist_ok=True)
    plots_dir = out / "docs" / "bench"
    plots = report.plot(results, plots_dir)
    plot_paths = {k: [f"docs/bench/{p}" for p in v] for k, v in plots.items()}
    json_path = plots_dir / ("results-quick.json" if args.quick else "results.json")
    everything = report.merged(report.read_json(json_path)[0], results)
    report.write_markdown(
        out / "BENCHMARKS.md",
        results,
        quick=bool(args.quick),
        plots=plot_paths,
        notes=_notes(results),
        summary=everything,
    )
    report.write_json(json_path, everything)
    print(
        f"\n{len(results)} bench(es) in {elapsed:.0f}s; report: {out / 'BENCHMARKS.md'}, "
        f"plots: {plots_dir}",
        file=sys.stderr,
    )
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _notes(results: list[BenchResult]) -> dict[str, str]:
    from apps.bench.notes import missed_lines, notes_for

    notes = {}
    for r in results:
        missed = missed_lines(r)
        notes[r.name] = "\n".join(missed + ([""] if missed else []) + [notes_for(r)])
    return notes


def _rerender(out: Path) -> int:
    """BENCHMARKS.md again from the last full run's results (after editing the notes)."""
    from apps.bench import report

    results, _ = report.read_json(out / "docs" / "bench" / "results.json")
    # Plots whose series are kept in results.json are drawn again; the others (latency
    # distributions) stay as the run drew them.
    report.plot(
        [r for r in results if r.name in ("rebuild", "replay", "agent", "understanding")],
        out / "docs" / "bench",
    )
    plots = {
        r.name: [f"docs/bench/{r.name}.png"]
        for r in results
        if (out / "docs" / "bench" / f"{r.name}.png").exists()
    }
    report.write_markdown(
        out / "BENCHMARKS.md", results, quick=False, plots=plots, notes=_notes(results)
    )
    print(f"rewrote {out / 'BENCHMARKS.md'}", file=sys.stderr)
    return 0


def _destination(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    if args.write or not args.quick:
        return REPO
    return Path(tempfile.mkdtemp(prefix="callcenter-bench-"))


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    """`python -m apps.cli_bench ...` until `callcenter bench` is wired into apps/cli.py."""
    import logging

    from apps.runtime import open_runtime

    parser = argparse.ArgumentParser(prog="callcenter")
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with open_runtime() as rt:
        return cmd_bench(rt, args)


if __name__ == "__main__":
    sys.exit(main())
