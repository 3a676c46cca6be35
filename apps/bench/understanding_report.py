"""Figures, BENCHMARKS.md tables and raw details of `callcenter bench understanding`."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from apps.bench.common import Figure
from apps.bench.understanding_score import ErrorTally
from apps.bench.understanding_set import CONDITIONS
from apps.bench.understanding_tasks import DialogueOutcome

if TYPE_CHECKING:
    from apps.bench.understanding import Hearing

BENCH = "understanding"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.1f} %"


def figures(pooled: dict[tuple[str, str], ErrorTally], success: dict[str, float]) -> list[Figure]:
    from apps.bench.understanding import TASK_TARGET, WER_TARGETS

    out = []
    for condition in CONDITIONS:
        whisper = 100 * pooled[("whisper", condition)].wer
        target = WER_TARGETS[condition]
        out.append(
            Figure(
                BENCH,
                f"held-out WER, {condition}, whisper",
                whisper,
                "%",
                "pocketsphinx, same clips",
                100 * pooled[("pocketsphinx", condition)].wer,
                f"≤ {target:g} %",
                whisper <= target,
            )
        )
    for path in ("whisper", "whisper, telephone"):
        out.append(
            Figure(
                BENCH,
                f"task success, {path}",
                success[path],
                "%",
                "pocketsphinx",
                success["pocketsphinx"],
                f"≥ {TASK_TARGET:g} %",
                success[path] >= TASK_TARGET,
            )
        )
    out.append(
        Figure(
            BENCH,
            "task success, text input (ceiling)",
            success["text"],
            "%",
            "whisper",
            success["whisper"],
            f"≥ {TASK_TARGET:g} %",
            success["text"] >= TASK_TARGET,
        )
    )
    return out


def wer_table(
    tallies: dict[tuple[str, str, str], ErrorTally],
    pooled: dict[tuple[str, str], ErrorTally],
    voices: tuple[str, ...],
) -> str:
    """Word error rate by voice (rows) and condition × recogniser (columns)."""
    from apps.bench.understanding import RECOGNISERS

    cols = [(c, r) for c in CONDITIONS for r in RECOGNISERS]
    head = "| voice | " + " | ".join(f"{c}, {r}" for c, r in cols) + " |"
    lines = [head, "|---|" + "---:|" * len(cols)]
    for voice in voices:
        cells = [_pct(100 * tallies[(r, voice, c)].wer) for c, r in cols]
        lines.append(f"| {voice} | " + " | ".join(cells) + " |")
    cells = [f"**{_pct(100 * pooled[(r, c)].wer)}**" for c, r in cols]
    lines.append("| **all voices** | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def task_table(outcomes: list[DialogueOutcome]) -> str:
    """Dialogues where the right tool got the right arguments, by task type and path."""
    from apps.bench.understanding import TASK_PATHS

    kinds = list(dict.fromkeys(o.dialogue.kind for o in outcomes))
    lines = ["| task | " + " | ".join(TASK_PATHS) + " |", "|---|" + "---:|" * len(TASK_PATHS)]
    for kind in [*kinds, None]:
        cells = []
        for path in TASK_PATHS:
            mine = [o for o in outcomes if o.path == path and kind in (None, o.dialogue.kind)]
            ok = sum(o.succeeded for o in mine)
            cell = f"{ok}/{len(mine)} ({100 * ok / len(mine):.0f} %)" if mine else "n/a"
            cells.append(f"**{cell}**" if kind is None else cell)
        lines.append(f"| {kind or '**all**'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _failure_causes(outcomes: list[DialogueOutcome]) -> str:
    lines = []
    from apps.bench.understanding import TASK_PATHS

    for path in TASK_PATHS:
        failed = [o for o in outcomes if o.path == path and not o.succeeded]
        if not failed:
            continue
        causes: Counter[str] = Counter()
        for o in failed:
            wrong = o.wrong_arguments()
            causes[f"{o.dialogue.kind}: " + ("wrong " + "+".join(wrong) if wrong else
                                             o.failure())] += 1  # fmt: skip
        summary = "; ".join(f"{n}× {cause}" for cause, n in causes.most_common(6))
        lines.append(f"- **{path}** ({len(failed)} failed): {summary}")
    return "\n".join(lines)


def notes(
    tallies: dict[tuple[str, str, str], ErrorTally],
    pooled: dict[tuple[str, str], ErrorTally],
    outcomes: list[DialogueOutcome],
    voices: tuple[str, ...],
) -> list[str]:
    from apps.bench.understanding import RECOGNISERS, missed_words

    words = pooled[("whisper", "clean")].words
    where = "\n".join(
        f"- **{r}**, reference words missed (substituted or deleted) over all conditions, "
        "by kind: " + ", ".join(f"{k} {n}" for k, n in missed_words(pooled, r).items())
        for r in RECOGNISERS
    )
    top = "\n".join(
        f"- **{r}**, most missed words: "
        + ", ".join(
            f"{w} {n}"
            for w, n in sum((pooled[(r, c)].missed for c in CONDITIONS), Counter()).most_common(12)
        )
        for r in RECOGNISERS
    )
    return [
        f"### Word error rate, by voice × condition × recogniser\n\n"
        f"{words} reference words per condition and recogniser over all voices; "
        "each clip recognised whole (`STT.recognize`), as the stream's final would be.\n\n"
        + wer_table(tallies, pooled, voices),
        "### Task success, by task type × input path\n\n"
        "The right tool with the right arguments (the VIN looked up is the VIN read out; "
        "the search's make, model and price cap; the booking's name, phone and time).\n\n"
        + task_table(outcomes),
        "### Where the errors come from\n\n"
        + where
        + "\n"
        + top
        + "\n"
        + _failure_causes(outcomes),
    ]


def details(
    tallies: dict[tuple[str, str, str], ErrorTally],
    pooled: dict[tuple[str, str], ErrorTally],
    outcomes: list[DialogueOutcome],
    hearing: Hearing,
    *,
    sentences: int,
    clips: int,
) -> dict[str, Any]:
    failures = [
        {
            "path": o.path,
            "kind": o.dialogue.kind,
            "said": list(o.dialogue.turns),
            "heard": o.heard,
            "calls": o.calls,
            "why": o.failure(),
        }
        for o in outcomes
        if not o.succeeded
    ]
    return {
        "sentences": sentences,
        "clips_synthesised": clips,
        "wer_percent": {f"{r}, {c}": round(100 * t.wer, 2) for (r, c), t in pooled.items()},
        "errors": {
            f"{r}, {c}": {"S": t.substitutions, "D": t.deletions, "I": t.insertions, "N": t.words}
            for (r, c), t in pooled.items()
        },
        "wer_by_voice_percent": {
            f"{r}, {v}, {c}": round(100 * t.wer, 2) for (r, v, c), t in tallies.items()
        },
        "decode_wall_s_per_audio_s_side_by_side": {
            r: round(hearing.decode_s[r] / hearing.audio_s[r], 3)
            for r in hearing.decode_s
            if hearing.audio_s[r]
        },
        "dialogues": len({id(o.dialogue) for o in outcomes}),
        "whisper_worst_sentences": [
            {"errors": e, "voice": v, "condition": c, "said": said, "heard": heard}
            for e, v, c, said, heard in sorted(hearing.misheard, reverse=True)[:30]
        ],
        "failed_dialogues": failures,
    }
