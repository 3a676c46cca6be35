"""BENCHMARKS.md holds what each run measured: medians with their spread, a missed ratio
target with by how much, the machine state in each bench's own section, and notes whose
numbers come from the run's result."""

from __future__ import annotations

import re
from pathlib import Path

from apps.bench.common import BenchResult, repeated
from apps.bench.notes import missed_lines, notes_for
from apps.bench.report import write_markdown


def _replay(timeline: list[float], fetch: list[float]) -> BenchResult:
    figure = repeated("replay", "timeline", timeline, "ms", "raw fetch", fetch, 4.0)
    details = {
        "events": 10_022,
        "runs": len(timeline),
        "median_ms": {"timeline": figure.value},
        "parts_median_ms": {"fetch": 31.5, "decode": 27.25},
    }
    machine = {"started": "2026-12-04 21:00 UTC", "load average at start": "3.10 2.00 1.00"}
    return BenchResult("replay", [figure], details, [], 12.0, machine)


def test_a_repeated_figure_is_judged_on_its_medians() -> None:
    met = _replay([100.0, 140.0, 120.0], [30.0, 40.0, 35.0]).figures[0]
    assert (met.value, met.baseline_value, met.spread) == (120.0, 35.0, (100.0, 140.0))
    assert met.met is True  # 120 / 35 = 3.4: the best run (100) plays no part
    missed = _replay([100.0, 200.0, 180.0], [30.0, 40.0, 35.0])
    assert missed.figures[0].met is False
    [line] = missed_lines(missed)
    assert "5.14×" in line and "1.14× over the 4× target" in line and "40.0 ms" in line


def test_each_section_has_its_own_run_and_machine(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n<!-- bench:machine -->\nold table\n<!-- /bench:machine -->\n")
    result = _replay([100.0, 200.0, 180.0], [30.0, 40.0, 35.0])
    write_markdown(path, [result], quick=False, plots={}, notes={"replay": notes_for(result)})
    text = path.read_text()
    assert "bench:machine" not in text and "old table" not in text
    section = text[text.index("<!-- bench:replay -->") :]
    assert "180 ms (100–200 ms)" in section and "35.0 ms (30.0–40.0 ms)" in section
    assert "| load average at start | 3.10 2.00 1.00 |" in section
    assert "| 2026-12-04 21:00 UTC |" in text[: text.index("<!-- bench:replay -->")]


def test_notes_hold_only_numbers_of_their_run() -> None:
    result = _replay([100.0, 200.0, 180.0], [30.0, 40.0, 35.0])
    note = notes_for(result)
    numbers = set(re.findall(r"\d[\d,.]*\d|\d", note))
    assert numbers == {"10,022", "3", "31.5", "27.2", "180.0"}, numbers
