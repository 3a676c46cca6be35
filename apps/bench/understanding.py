"""Understanding on speech nobody tuned on: word error rate and task success.

Word error rate: the held-out sentences of `apps.bench.understanding_set`, spoken by the
held-out voices, clean, with noise and as telephone audio (`understanding_audio`), each
clip recognised whole by Whisper and by pocketsphinx as the agent builds them
(`select_providers`: the dealership prompt for Whisper, the dealership LM for
pocketsphinx). The baseline of each Whisper figure is pocketsphinx on the same clips.

Task success: the scripted dialogues, each spoken by one held-out voice, heard by each
recogniser, then run through the dialogue policy and the real tools
(`understanding_tasks`); the text path (the script itself) is the ceiling, pocketsphinx
the baseline.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

from apps.bench.common import BenchContext, BenchResult
from apps.bench.understanding_audio import RATE, ClipCache
from apps.bench.understanding_score import ErrorTally, missed_by_class
from apps.bench.understanding_set import (
    CONDITIONS,
    DIALOGUES,
    QUICK_DIALOGUES,
    QUICK_SENTENCES,
    QUICK_VOICES,
    SENTENCES,
    VOICES,
    Dialogue,
)
from apps.bench.understanding_tasks import DialogueOutcome, run_dialogue

BENCH = "understanding"
RECOGNISERS = ("whisper", "pocketsphinx")
WER_TARGETS = {"clean": 15.0, "noise": 25.0, "telephone": 25.0}
TASK_TARGET = 90.0
# input paths of the dialogues: the script itself, then what each recogniser heard
TASK_PATHS = ("text", "whisper", "whisper, telephone", "pocketsphinx")


def _recognisers() -> dict[str, Any]:
    from livekit.plugins import silero

    from adapters.voice.providers import select_providers

    vad = silero.VAD.load()
    return {
        name: select_providers({"CALLCENTER_STT": name, "CALLCENTER_TTS": "espeak"}, vad_model=vad)
        for name in RECOGNISERS
    }


class Hearing:
    """What each recogniser makes of a clip, with the CPU-time it took (cached per clip)."""

    def __init__(self, clips: ClipCache, providers: dict[str, Any]) -> None:
        self.clips = clips
        self.providers = providers
        self.decode_s: dict[str, float] = dict.fromkeys(providers, 0.0)
        self.audio_s: dict[str, float] = dict.fromkeys(providers, 0.0)
        self._heard: dict[tuple[str, str, str, str], str] = {}
        #: Whisper's misheard sentences: (errors, voice, condition, said, heard)
        self.misheard: list[tuple[int, str, str, str, str]] = []
        # one clip made at a time: two recognisers may ask for the same clip at once
        self._making = asyncio.Lock()

    async def hear(self, recogniser: str, text: str, voice: str, condition: str) -> str:
        key = (recogniser, text, voice, condition)
        if key not in self._heard:
            async with self._making:
                pcm = await asyncio.to_thread(self.clips.speech, text, voice, condition)
            # a quarter second of silence either side, as around an utterance the VAD cut
            pad = np.zeros(RATE // 4, dtype=np.int16)
            audio = np.concatenate([pad, pcm, pad])
            frame = rtc.AudioFrame(audio.tobytes(), RATE, 1, audio.size)
            started = time.perf_counter()
            event = await self.providers[recogniser].stt.recognize(buffer=frame)
            self.decode_s[recogniser] += time.perf_counter() - started
            self.audio_s[recogniser] += audio.size / RATE
            self._heard[key] = event.alternatives[0].text if event.alternatives else ""
        return self._heard[key]


async def _word_error_rates(
    hearing: Hearing, sentences: tuple[str, ...], voices: tuple[str, ...], ctx: BenchContext
) -> dict[tuple[str, str, str], ErrorTally]:
    """ErrorTally by (recogniser, voice, condition)."""
    tallies: dict[tuple[str, str, str], ErrorTally] = {}
    for voice in voices:
        ctx.step(BENCH, f"  {voice}: {len(sentences)} sentences × {len(CONDITIONS)} conditions")
        for condition in CONDITIONS:
            for sentence in sentences:
                # side by side: pocketsphinx's one thread beside Whisper's two
                heard = await asyncio.gather(
                    *(hearing.hear(r, sentence, voice, condition) for r in RECOGNISERS)
                )
                for recogniser, hypothesis in zip(RECOGNISERS, heard, strict=True):
                    tally = tallies.setdefault((recogniser, voice, condition), ErrorTally())
                    before = tally.errors
                    tally.add(sentence, hypothesis)
                    if recogniser == "whisper" and tally.errors > before:
                        hearing.misheard.append(
                            (tally.errors - before, voice, condition, sentence, hypothesis)
                        )
    return tallies


async def _task_outcomes(
    hearing: Hearing, dialogues: tuple[Dialogue, ...], ctx: BenchContext
) -> list[DialogueOutcome]:
    from apps.usecases.dealership import DealershipServices

    services = DealershipServices()
    policy = hearing.providers["whisper"].llm
    outcomes = []
    for i, dialogue in enumerate(dialogues):
        voice = VOICES[i % len(VOICES)]

        async def heard_on(
            path: str, dialogue: Dialogue = dialogue, voice: str = voice
        ) -> list[str]:
            if path == "text":
                return list(dialogue.turns)
            recogniser, _, condition = path.partition(", ")
            return [
                await hearing.hear(recogniser, turn, voice, condition or "clean")
                for turn in dialogue.turns
            ]

        # the paths side by side (Whisper's decodes queue behind each other in its model)
        heard = await asyncio.gather(*(heard_on(path) for path in TASK_PATHS))
        for path, said in zip(TASK_PATHS, heard, strict=True):
            calls = await run_dialogue(policy, services, dialogue, said)
            outcomes.append(DialogueOutcome(dialogue, path, said, calls))
        if (i + 1) % 8 == 0:
            ctx.step(BENCH, f"  {i + 1}/{len(dialogues)} dialogues")
    return outcomes


async def _measure(
    hearing: Hearing,
    sentences: tuple[str, ...],
    voices: tuple[str, ...],
    dialogues: tuple[Dialogue, ...],
    ctx: BenchContext,
) -> tuple[dict[tuple[str, str, str], ErrorTally], list[DialogueOutcome]]:
    ctx.step(BENCH, f"word error rate: {len(voices)} held-out voices")
    tallies = await _word_error_rates(hearing, sentences, voices, ctx)
    ctx.step(BENCH, f"task success: {len(dialogues)} dialogues × {len(TASK_PATHS)} paths")
    return tallies, await _task_outcomes(hearing, dialogues, ctx)


def _pooled(
    tallies: dict[tuple[str, str, str], ErrorTally], recogniser: str, condition: str
) -> ErrorTally:
    pooled = ErrorTally()
    for (r, _, c), t in tallies.items():
        if (r, c) == (recogniser, condition):
            pooled.errors += t.errors
            pooled.words += t.words
            pooled.substitutions += t.substitutions
            pooled.deletions += t.deletions
            pooled.insertions += t.insertions
            pooled.missed.update(t.missed)
    return pooled


def _success(outcomes: list[DialogueOutcome], path: str, kind: str | None = None) -> float:
    mine = [o for o in outcomes if o.path == path and kind in (None, o.dialogue.kind)]
    return 100.0 * sum(o.succeeded for o in mine) / len(mine) if mine else float("nan")


def run(ctx: BenchContext) -> BenchResult:
    from apps.bench.understanding_report import details, figures, notes

    sentences = QUICK_SENTENCES if ctx.quick else SENTENCES
    voices = QUICK_VOICES if ctx.quick else VOICES
    dialogues = QUICK_DIALOGUES if ctx.quick else DIALOGUES
    ctx.step(BENCH, "loading Whisper tiny.en (int8) and pocketsphinx as the agent builds them")
    providers = _recognisers()
    with tempfile.TemporaryDirectory(prefix="bench-understanding-") as tmp:
        hearing = Hearing(ClipCache(Path(tmp)), providers)
        tallies, outcomes = asyncio.run(_measure(hearing, sentences, voices, dialogues, ctx))
        synthesised = hearing.clips.synthesised
    result = BenchResult(BENCH)
    pooled = {(r, c): _pooled(tallies, r, c) for r in RECOGNISERS for c in CONDITIONS}
    success = {p: _success(outcomes, p) for p in TASK_PATHS}
    result.figures = figures(pooled, success)
    result.notes = notes(tallies, pooled, outcomes, voices)
    result.details = details(
        tallies, pooled, outcomes, hearing, sentences=len(sentences), clips=synthesised
    )
    for (r, c), t in pooled.items():
        ctx.step(BENCH, f"  WER {r:<12} {c:<9} {100 * t.wer:5.1f} % ({t.words} words)")
    for p, s in success.items():
        ctx.step(BENCH, f"  task success {p:<20} {s:5.1f} %")
    return result


def missed_words(pooled: dict[tuple[str, str], ErrorTally], recogniser: str) -> dict[str, int]:
    """Missed reference words by class, over every condition, for the error analysis."""
    from adapters.inventory import Inventory

    vocabulary: set[str] = set()
    for v in Inventory.load():
        vocabulary.update(f"{v.make} {v.model}".lower().replace("-", " ").split())
    missed: Counter[str] = Counter()
    for (r, _), t in pooled.items():
        if r == recogniser:
            missed.update(t.missed)
    return missed_by_class(missed, sorted(vocabulary))
