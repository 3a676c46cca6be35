"""The CI smoke test of `callcenter bench all --quick`: every bench runs end to end against
a real PostgreSQL server, the table has every row, each ratio is a positive number. No
thresholds: the figures of a small run on a shared machine say little."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from adapters.postgres.database import DatabaseSettings
from apps.cli_bench import add_bench_parser, cmd_bench

EXPECTED = {
    "ingest": [
        "sustained events/s",
        "p50 command→durable commit",
        "p99 command→durable commit",
    ],
    "live": [
        "commit→SSE p50, 1,000 ev/s",
        "commit→SSE p99, 1,000 ev/s",
        "commit→SSE p50, 10,000 ev/s",
        "commit→SSE p99, 10,000 ev/s",
    ],
    "rebuild": ["rebuild all models, 2 proc", "rebuild all models, 1 proc"],
    "replay": ["timeline of a one-hour call", "its state at an instant"],
    "agent": ["EventSink.put, per event", "agent loop time per recorded event"],
}


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["bench", *argv])


def test_parser_defaults_to_every_bench() -> None:
    args = _args()
    assert args.which == "all" and not args.quick and not args.write


def test_quick_bench_runs_every_bench_end_to_end(
    pg_server: DatabaseSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = SimpleNamespace(database=pg_server)
    code = cmd_bench(runtime, _args("all", "--quick", "--out", str(tmp_path)))  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [ln for ln in out.splitlines() if ln and not ln.startswith(("bench ", "-", "ratio"))]
    for bench, figures in EXPECTED.items():
        for figure in figures:
            row = next((ln for ln in lines if ln.startswith(bench) and figure in ln), None)
            assert row is not None, f"no row for {bench}: {figure}\n{out}"
    ratios = [re.findall(r"\s([\d,.]+)×", ln) for ln in lines]
    assert len(lines) >= sum(len(v) for v in EXPECTED.values())
    for ln, found in zip(lines, ratios, strict=True):
        assert found, f"no ratio in {ln!r}"
        ratio = float(found[0].replace(",", ""))
        assert ratio > 0 and math.isfinite(ratio), ln
    report = (tmp_path / "BENCHMARKS.md").read_text()
    for bench in EXPECTED:
        assert f"<!-- bench:{bench} -->" in report
        assert (tmp_path / "docs" / "bench" / f"{bench}.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("bench", "figures"),
    [
        ("sealing", ["ingest (group commit, 1 process), sealed", "rebuild of every read model"]),
        ("sse", ["commit→SSE p95, 25 dashboard clients"]),
    ],
)
def test_the_benches_outside_all_run_end_to_end(
    bench: str,
    figures: list[str],
    pg_server: DatabaseSettings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = SimpleNamespace(database=pg_server)
    code = cmd_bench(runtime, _args(bench, "--quick", "--out", str(tmp_path)))  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert code == 0, out
    for figure in figures:
        row = next((ln for ln in out.splitlines() if ln.startswith(bench) and figure in ln), None)
        assert row is not None, f"no row for {bench}: {figure}\n{out}"
        ratio = float(re.findall(r"\s([\d,.]+)×", row)[0].replace(",", ""))
        assert ratio > 0 and math.isfinite(ratio), row
