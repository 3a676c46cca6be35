"""The voice bench's own arithmetic, without a call: end of speech, turns matched to the
agent's events by time, the per-stage summary, figures against their targets, the plot.
(The bench itself needs livekit-server and the agent worker: `callcenter bench voice`.)"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from apps.bench.common import BenchResult
from apps.bench.voice import summary
from apps.bench.voice_caller import Turn
from apps.bench.voice_calls import TurnFigures, match_turns
from apps.bench.voice_figures import figures, plot
from apps.bench.voice_speech import RATE, TURNS, trim_trailing_silence

REPO = Path(__file__).resolve().parents[2]


def test_the_end_of_speech_is_the_last_loud_10_ms() -> None:
    speech = (np.sin(np.arange(RATE) / 5) * 8000).astype(np.int16)  # one second of tone
    padded = np.concatenate([speech, np.zeros(RATE // 2, dtype=np.int16)])
    assert len(trim_trailing_silence(padded)) == RATE


def test_the_bench_sentences_are_in_no_corpus_prompt_or_test() -> None:
    searched = [
        *REPO.glob("adapters/**/*.txt"),
        *REPO.glob("adapters/**/*.py"),
        *REPO.glob("apps/agent/**/*"),
        *(p for p in REPO.glob("tests/**/*.py") if p.name != "test_bench_voice.py"),
    ]
    texts = [p.read_text(errors="ignore").lower() for p in searched if p.is_file()]
    for sentence in TURNS:
        assert not any(sentence.lower() in t for t in texts), sentence


def _event(name: str, at: float, **data: Any) -> tuple[str, dict[str, Any]]:
    when = datetime.fromtimestamp(at, UTC).isoformat()
    return name, {"meta": {"occurred_at": when}, **data}


def test_each_turn_gets_the_events_recorded_between_its_start_and_the_next() -> None:
    turns = [
        Turn("a", "v", 1.0, ended_mono=11.0, ended_wall=101.0, heard_mono=11.9),
        Turn("b", "v", 1.0, ended_mono=21.0, ended_wall=111.0, heard_mono=None),
    ]
    events = [
        _event("TurnLatencyMeasured", 99.0, tts_ttfb_s=0.1, end_of_utterance_delay_s=None),
        _event("FinalTranscriptRecorded", 101.4, speaker="customer", text="a"),
        _event("AgentReplied", 102.0, text="answer a"),
        _event(
            "TurnLatencyMeasured",
            104.0,
            end_of_utterance_delay_s=0.5,
            llm_ttft_s=0.01,
            tts_ttfb_s=0.2,
        ),
        _event("FinalTranscriptRecorded", 111.6, speaker="customer", text="b"),
    ]
    first, second = match_turns(turns, [100.0, 110.0], [False, True], events)
    assert first.reply_text == "answer a" and first.heard_text == "a"
    assert math.isclose(first.stt_final_s or 0, 0.4)
    assert first.endpointing_s == 0.5 and first.tts_ttfb_s == 0.2
    assert math.isclose(first.transport_s or 0, 0.9 - 0.5 - 0.01 - 0.2)
    assert second.voice_to_voice_s is None and second.cut_in and second.endpointing_s is None


def _level(values: list[float], calls: int = 1) -> dict[str, Any]:
    turns = [TurnFigures("v", "t", v, endpointing_s=v / 2) for v in values]
    return {
        "concurrent_calls": calls,
        "summary": summary(turns),
        "cpu_per_call_pct": 30.0,
        "rss_peak_mib": 900.0,
        "turn_list": [t.as_dict() for t in turns],
    }


def test_figures_hold_the_default_stack_to_its_targets_beside_the_baseline() -> None:
    levels = {
        "ours": [_level([0.6, 0.7, 1.3]), _level([0.8, 1.4], 2), _level([1.0, 2.0], 4)],
        "base": [_level([2.0, 3.0])],
    }
    out = {f.name: f for f in figures(levels, "ours", "base", {"x": _level([0.5])})}
    p50 = out["voice-to-voice p50, 1 call (ours)"]
    assert p50.value == 700 and p50.baseline_value == 2000 and p50.met is True
    assert out["voice-to-voice p95, 1 call (ours)"].met is False  # 1,300 ms
    assert out["voice-to-voice p95, 4 calls at once"].met is False
    assert out["calls at once with p95 ≤ 1.5 s"].value == 2
    assert out["turns x: voice-to-voice p50"].baseline_value == 700
    assert not any("falling back" in name or "per call (its job" in name for name in out)


def test_the_fallback_is_measured_beside_whisper_alone_at_the_same_load() -> None:
    ours = [_level([0.6, 0.7]), {**_level([1.0, 1.2], 4), "fell_behind": 3}]
    for level in ours:
        level["job_rss_peak_mib"] = 610.0
    base = {**_level([2.0]), "job_rss_peak_mib": 250.0}
    levels = {"ours": ours, "base": [base], "ours, Whisper only": [_level([3.0, 9.0], 4)]}
    out = {f.name: f for f in figures(levels, "ours", "base")}
    loaded = out["voice-to-voice p95, 4 calls at once, falling back to pocketsphinx when late"]
    assert (loaded.value, loaded.baseline, loaded.baseline_value) == (1200, "Whisper only", 9000)
    assert loaded.met is True and "fell behind 3×" in loaded.note
    memory = out["agent memory per call (its job process, models included), peak"]
    assert (memory.value, memory.baseline_value) == (610.0, 250.0)
    assert out["calls at once with p95 ≤ 1.5 s"].value == 4  # the Whisper-only level is apart


def test_the_plot_draws(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = {"ours": [_level([0.6, 0.7]), _level([0.8, 1.4], 2)], "base": [_level([2.0])]}
    fig = plot(plt, BenchResult("voice", details={"levels": levels}))
    fig.savefig(tmp_path / "voice.png")
    assert (tmp_path / "voice.png").stat().st_size > 1000


def test_the_section_tables_every_configuration(tmp_path: Path) -> None:
    from apps.bench import report

    levels = {"ours": [_level([0.6, 0.7]), _level([0.8, 1.4], 2)], "base": [_level([2.0])]}
    details = {"levels": levels, "turn candidates": {"eot": _level([0.5])}}
    result = BenchResult("voice", figures(levels, "ours", "base"), details, machine={"cores": "2"})
    out = tmp_path / "BENCHMARKS.md"
    report.write_markdown(out, [result], quick=False, plots={})
    text = out.read_text()
    assert "| ours | 2 | 2 | 0.80 / 1.40 s (0.80–1.40)" in text
    assert "| whisper + piper, turns eot | 1 | 1 | 0.50 / 0.50 s" in text


def test_falling_behind_is_counted_once_per_log_record(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from apps.bench.voice import _fell_behind

    log = tmp_path / "agent.log"
    message = "speech recognition: Whisper fell behind (final ready 1.70 s after the end"
    log.write_text(
        f"2026-12-05 00:10:00,000 WARNING adapters.voice.recogniser_load: {message}\n"
        f'{{"message": "{message}", "level": "WARNING", "name": "adapters.voice.recogniser_load"}}\n'
    )
    stack = SimpleNamespace(processes=[SimpleNamespace(name="agent", log_path=log)])
    assert _fell_behind(stack) == 1
