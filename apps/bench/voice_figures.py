"""The voice bench's figures (each beside the same run's baseline) and its plot."""

from __future__ import annotations

import math
from typing import Any

from apps.bench.common import BenchResult, Figure

BENCH = "voice"
P50_TARGET_MS, P95_TARGET_MS, LOADED_P95_TARGET_MS = 800.0, 1200.0, 1500.0
STAGE_NAMES = {
    "endpointing_s": "endpointing (end_of_utterance_delay)",
    "stt_final_s": "STT final after end of audio (inside endpointing)",
    "llm_ttft_s": "LLM first token",
    "tts_ttfb_s": "TTS first byte",
    "transport_s": "transport and playout (remainder)",
}


def _ms(level: dict[str, Any], stage: str, q: str) -> float:
    value = level["summary"][stage][q]
    return math.nan if value is None else 1000 * float(value)


def figures(
    levels: dict[str, list[dict[str, Any]]],
    ours: str,
    base: str,
    candidates: dict[str, dict[str, Any]] | None = None,
) -> list[Figure]:
    one, one_base = levels[ours][0], levels[base][0]
    out = []
    for q, target in (("p50", P50_TARGET_MS), ("p95", P95_TARGET_MS)):
        value = _ms(one, "voice_to_voice_s", q)
        out.append(
            Figure(
                BENCH,
                f"voice-to-voice {q}, 1 call ({ours})",
                value,
                "ms",
                base,
                _ms(one_base, "voice_to_voice_s", q),
                f"≤ {target:,.0f} ms",
                value <= target,
                note=_spread(one),
            )
        )
    for stage, name in STAGE_NAMES.items():
        out.append(
            Figure(
                BENCH,
                f"{name} p50",
                _ms(one, stage, "p50"),
                "ms",
                base,
                _ms(one_base, stage, "p50"),
            )  # fmt: skip
        )
    for level in levels[ours][1:]:
        n = level["concurrent_calls"]
        value = _ms(level, "voice_to_voice_s", "p95")
        out.append(
            Figure(
                BENCH,
                f"voice-to-voice p95, {n} calls at once",
                value,
                "ms",
                f"{ours}, 1 call",
                _ms(one, "voice_to_voice_s", "p95"),
                f"≤ {LOADED_P95_TARGET_MS:,.0f} ms",
                value <= LOADED_P95_TARGET_MS,
                note=_spread(level),
            )
        )
    sustained = [
        lv["concurrent_calls"]
        for lv in levels[ours]
        if _ms(lv, "voice_to_voice_s", "p95") <= LOADED_P95_TARGET_MS
        and not lv["summary"]["unanswered"]
    ]
    tried = max(lv["concurrent_calls"] for lv in levels[ours])
    if tried > 1:
        capacity = float(max(sustained, default=0))
        out.append(
            Figure(
                BENCH,
                "calls at once with p95 ≤ 1.5 s",
                capacity,
                "calls",
                "most calls tried",
                float(tried),
                "≥ 4 calls",
                capacity >= 4,
            )  # fmt: skip
        )
    out.append(
        Figure(
            BENCH,
            "agent CPU per call, 1 call",
            one["cpu_per_call_pct"],
            "% of a core",
            base,
            one_base["cpu_per_call_pct"],
        )  # fmt: skip
    )
    top = levels[ours][-1]
    if top["concurrent_calls"] > 1:
        out.append(
            Figure(
                BENCH,
                f"agent CPU per call, {top['concurrent_calls']} calls",
                top["cpu_per_call_pct"],
                "% of a core",
                f"{ours}, 1 call",
                one["cpu_per_call_pct"],
            )  # fmt: skip
        )
    if levels[ours][0].get("job_rss_peak_mib"):  # runs before this figure did not sample it
        out.append(
            Figure(
                BENCH,
                "agent memory per call (its job process, models included), peak",
                one["job_rss_peak_mib"],
                "MiB",
                base,
                one_base["job_rss_peak_mib"],
            )  # fmt: skip
        )
    for label, lv in levels.items():
        if (
            label in (ours, base)
            or lv[0]["concurrent_calls"] != levels[ours][-1]["concurrent_calls"]
        ):
            continue
        loaded, n = levels[ours][-1], lv[0]["concurrent_calls"]
        out.append(
            Figure(
                BENCH,
                f"voice-to-voice p95, {n} calls at once, falling back to pocketsphinx when late",
                _ms(loaded, "voice_to_voice_s", "p95"),
                "ms",
                label.removeprefix(f"{ours}, "),
                _ms(lv[0], "voice_to_voice_s", "p95"),
                f"≤ {LOADED_P95_TARGET_MS:,.0f} ms",
                _ms(loaded, "voice_to_voice_s", "p95") <= LOADED_P95_TARGET_MS,
                note=f"Whisper fell behind {loaded.get('fell_behind', 0)}× in this level",
            )
        )
    out.append(
        Figure(
            BENCH,
            "agent worker memory (all job processes), peak",
            one["rss_peak_mib"],
            "MiB",
            base,
            one_base["rss_peak_mib"],
        )  # fmt: skip
    )
    for name, level in (candidates or {}).items():
        for q in ("p50", "p95"):
            out.append(
                Figure(
                    BENCH,
                    f"turns {name}: voice-to-voice {q}",
                    _ms(level, "voice_to_voice_s", q),
                    "ms",
                    f"{ours}, 1 call (default turns)",
                    _ms(one, "voice_to_voice_s", q),
                    note=_spread(level) + f", {level['summary']['cut_in']} cut in",
                )  # fmt: skip
            )
    return out


def _spread(level: dict[str, Any]) -> str:
    v = level["summary"]["voice_to_voice_s"]
    if not v["n"]:
        return "no turn answered"
    return f"{v['n']} turns, {v['min']:.2f}–{v['max']:.2f} s"


def plot(plt: Any, r: BenchResult) -> Any:
    """Left: each turn's voice-to-voice per stack, with p50/p95 and the targets; right:
    p50 and p95 against calls at once."""
    levels: dict[str, list[dict[str, Any]]] = r.details["levels"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels = [k for k in levels if levels[k][0]["concurrent_calls"] == 1]
    series = [
        [
            t["voice_to_voice_s"]
            for t in levels[k][0]["turn_list"]
            if t["voice_to_voice_s"] is not None
        ]
        for k in labels
    ]
    for i, values in enumerate(series):
        left.scatter([i] * len(values), values, alpha=0.6, s=18)
        s = levels[labels[i]][0]["summary"]["voice_to_voice_s"]
        for q, style in (("p50", "-"), ("p95", "--")):
            if s[q] is not None and not math.isnan(s[q]):
                left.hlines(s[q], i - 0.25, i + 0.25, colors="k", linestyles=style)
    left.axhline(P50_TARGET_MS / 1000, color="g", lw=0.8, label="p50 target 0.8 s")
    left.axhline(P95_TARGET_MS / 1000, color="r", lw=0.8, label="p95 target 1.2 s")
    left.set_xticks(range(len(labels)), labels)
    left.set_ylabel("end of caller's speech → first audible reply (s)")
    left.set_title("One call: every turn (— p50, - - p95)")
    left.legend(fontsize=8)
    for label, lv in levels.items():
        if len(lv) > 1 or lv[0]["concurrent_calls"] > 1:
            xs = [x["concurrent_calls"] for x in lv]
            for q, style in (("p50", "o-"), ("p95", "s--")):
                right.plot(xs, [x["summary"]["voice_to_voice_s"][q] for x in lv], style,
                           label=f"{label} {q}")  # fmt: skip
    right.axhline(LOADED_P95_TARGET_MS / 1000, color="r", lw=0.8, label="p95 target 1.5 s")
    right.set_xlabel("simultaneous calls on one worker")
    right.set_ylabel("voice-to-voice (s)")
    right.set_title("Capacity")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def stage_table(
    levels: dict[str, list[dict[str, Any]]], candidates: dict[str, dict[str, Any]]
) -> str:
    """Every measured configuration: voice-to-voice and each stage, p50 / p95 (min–max)."""
    head = ["configuration", "calls at once", "turns", "voice-to-voice", *STAGE_NAMES.values()]
    head += ["unanswered", "agent cut in", "agent CPU per call", "worker RSS peak"]
    head += ["a call's process RSS peak", "Whisper fell behind"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    measured = [(label, lv) for label, lvs in levels.items() for lv in lvs]
    measured += [(f"whisper + piper, turns {name}", lv) for name, lv in candidates.items()]
    for label, lv in measured:
        s = lv["summary"]
        cells = [label, str(lv["concurrent_calls"]), str(s["turns"])]
        for stage in ("voice_to_voice_s", *STAGE_NAMES):
            v = s[stage]
            cells.append(
                "n/a"
                if not v["n"]
                else f"{v['p50']:.2f} / {v['p95']:.2f} s ({v['min']:.2f}–{v['max']:.2f})"
            )
        cells += [str(s["unanswered"]), str(s["cut_in"]), f"{lv['cpu_per_call_pct']:.0f} %"]
        cells.append(f"{lv['rss_peak_mib']:,.0f} MiB")
        job = lv.get("job_rss_peak_mib")  # not sampled before 2026-12-05
        cells.append(f"{job:,.0f} MiB" if job else "n/a")
        cells.append(str(lv["fell_behind"]) if "fell_behind" in lv else "n/a")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def section(r: BenchResult) -> str:
    """The BENCHMARKS.md table of every configuration the run measured, and where the
    default stack's time goes."""
    levels = r.details["levels"]
    return (
        "Each configuration, p50 / p95 (min–max) over its turns; the stages come from the "
        "agent's own events for the same turns:\n\n"
        + stage_table(levels, r.details.get("turn candidates") or {})
        + "\n\n"
        + where_the_time_goes(levels)
    )


def where_the_time_goes(levels: dict[str, list[dict[str, Any]]]) -> str:
    """Each stack's p50 voice-to-voice split into its stages' p50s, in this run."""
    lines = ["**Where the time goes** (p50 of each stage, one call at a time):"]
    for label, lvs in levels.items():
        if lvs[0]["concurrent_calls"] != 1:
            continue
        s = lvs[0]["summary"]
        v2v = s["voice_to_voice_s"]["p50"]
        parts = []
        for stage, name in STAGE_NAMES.items():
            value = s[stage]["p50"]
            if value is not None and not math.isnan(value):
                share = f", {value / v2v:.0%}" if v2v and stage != "stt_final_s" else ""
                parts.append(f"{name} {value:.2f} s{share}")
        lines.append(f"- {label}: {v2v:.2f} s = " + "; ".join(parts))
    return "\n".join(lines)
