"""`callcenter bench understanding`: its speech is held out, its scoring is right, and a
--quick run produces every figure and both tables with sane values."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from adapters.postgres.database import DatabaseSettings
from adapters.voice.vocabulary import dealership_prompt
from apps.bench.understanding_score import ErrorTally, normalise
from apps.bench.understanding_set import DIALOGUES, SENTENCES, VOICES
from apps.cli_bench import add_bench_parser, cmd_bench

REPO = Path(__file__).resolve().parents[2]
# where tuning text lives: the pocketsphinx corpus and LM, prompts, code with phrases, tests
SEARCHED = ("adapters", "apps", "tests", "domain", "projections", "web/src", "README.md")
NOT_TUNING = {
    "apps/bench/understanding_set.py",  # the held-out set itself
    "tests/bench/test_bench_understanding.py",
}


def _flat(text: str) -> str:
    return " " + " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower()).split()) + " "


def _repository_text() -> dict[str, str]:
    texts = {"whisper prompt": _flat(dealership_prompt())}
    for top in SEARCHED:
        root = REPO / top
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            rel = str(path.relative_to(REPO))
            if not path.is_file() or rel in NOT_TUNING or "node_modules" in rel:
                continue
            if path.suffix not in (".py", ".txt", ".md", ".json", ".ts", ".tsx", ".dic", ".lm"):
                continue
            texts[rel] = _flat(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def test_held_out_sentences_are_in_no_corpus_prompt_or_test() -> None:
    texts = _repository_text()
    assert "adapters/voice/data/dealership_corpus.txt" in texts
    assert "apps/agent/prompts/dealership.md" in texts
    assert len(set(SENTENCES)) == len(SENTENCES) >= 40
    found = [(s, where) for s in SENTENCES for where, text in texts.items() if _flat(s) in text]
    assert found == []
    corpus_lines = {
        _flat(line)
        for line in (REPO / "adapters/voice/data/dealership_corpus.txt").read_text().splitlines()
    }
    turns = [t for d in DIALOGUES for t in d.turns]
    assert [t for t in turns if _flat(t) in corpus_lines] == []


def test_dialogues_cover_each_task_with_at_least_thirty() -> None:
    kinds = [d.kind for d in DIALOGUES]
    assert len(DIALOGUES) >= 30
    assert {k: kinds.count(k) >= 10 for k in set(kinds)} == {
        "vin lookup": True,
        "inventory search": True,
        "test drive booking": True,
    }
    assert not any("piper" in v or v == "espeak:en-us" or "slt" in v for v in VOICES)


def test_numbers_are_compared_as_said() -> None:
    assert normalise("Under $25,000, a 2023 RAV4?") == (
        "under twenty five thousand a twenty twenty three rav four"
    )
    assert normalise("I'm sure it's one we don't have") == "i am sure it is one we do not have"
    assert normalise("Call 312-555-0147 at 10 a.m.") == (
        "call three one two five five five zero one four seven at ten a m"
    )
    assert normalise("the BMW X5 or the CR-V") == "the b m w x five or the c r v"
    tally = ErrorTally()
    tally.add("my cell is five five five", "My cell is 555.")
    tally.add("the kia forte", "")
    assert (tally.errors, tally.words) == (3, 9)
    assert tally.missed == {"the": 1, "kia": 1, "forte": 1}


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["bench", *argv])


def test_quick_understanding_bench_produces_sane_figures_and_both_tables(
    pg_server: DatabaseSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = SimpleNamespace(database=pg_server)
    code = cmd_bench(runtime, _args("understanding", "--quick", "--out", str(tmp_path)))  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads((tmp_path / "docs/bench/results-quick.json").read_text())
    [result] = data["results"]
    figures = {f["name"]: f for f in result["figures"]}
    assert set(figures) == {
        "held-out WER, clean, whisper",
        "held-out WER, noise, whisper",
        "held-out WER, telephone, whisper",
        "task success, whisper",
        "task success, whisper, telephone",
        "task success, text input (ceiling)",
    }
    wer = result["details"]["wer_percent"]
    assert len(wer) == 6 and all(0 <= v <= 200 for v in wer.values())
    assert wer["whisper, clean"] < 40, wer
    assert wer["whisper, clean"] < wer["pocketsphinx, clean"], wer
    for f in figures.values():
        assert f["baseline"] and f["baseline_value"] == f["baseline_value"]  # not NaN
        if f["name"].startswith("task success"):
            assert 0 <= f["value"] <= 100
    # the quick dialogues are understood as typed: a miss here is the harness or the policy
    assert figures["task success, text input (ceiling)"]["value"] == 100
    report = (tmp_path / "BENCHMARKS.md").read_text()
    assert "<!-- bench:understanding -->" in report
    assert "### Word error rate, by voice × condition × recogniser" in report
    assert "| festival:kal_diphone |" in report
    assert "### Task success, by task type × input path" in report
    assert "| test drive booking |" in report


def test_the_understanding_plot_draws_from_the_stored_figures(tmp_path: Path) -> None:
    from apps.bench.common import BenchResult, Figure
    from apps.bench.plots import plot

    wer = {
        f"{r}, {c}": 20.0
        for r in ("whisper", "pocketsphinx")
        for c in ("clean", "noise", "telephone")
    }
    figures = [Figure("understanding", "task success, whisper", 42.0, "%", "pocketsphinx", 36.0)]
    result = BenchResult("understanding", figures, {"wer_percent": wer})
    assert plot([result], tmp_path) == {"understanding": ["understanding.png"]}
    assert (tmp_path / "understanding.png").stat().st_size > 1000
