"""Voice-to-voice: real calls through livekit-server and the agent worker, timed as the
caller hears them, with the local providers (Whisper + Piper) beside the previous local
stack (pocketsphinx + espeak-ng) measured in the same run.

Each stack is `callcenter up`'s own machinery (livekit-server, MinIO, the web app, the agent
worker process) on free ports, with a throw-away database. Callers (`voice_caller`) speak
sentences written for this bench in voices the agent does not use (`voice_speech`). One
call at a time first (the latency figures), then for the default stack 2 and 4 calls at
once (capacity), stopping once p95 is past twice its target. The agent's CPU and memory
are sampled on the worker's process tree (psutil) over each level.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from apps.bench.common import BenchContext, BenchResult, percentile
from apps.bench.voice_calls import CallResult, TurnFigures, run_call
from apps.bench.voice_speech import Utterance, script

BENCH = "voice"
P50_TARGET_S, P95_TARGET_S, LOADED_P95_TARGET_S = 0.8, 1.2, 1.5
STACKS = {  # label -> provider settings
    "whisper + piper": {"CALLCENTER_STT": "whisper", "CALLCENTER_TTS": "piper"},
    "pocketsphinx + espeak": {"CALLCENTER_STT": "pocketsphinx", "CALLCENTER_TTS": "espeak"},
}
DEFAULT, BASELINE = "whisper + piper", "pocketsphinx + espeak"
#: The default stack with Whisper never falling back, measured at the top load only: the
#: same run's baseline for what the fallback to pocketsphinx buys under load
NO_FALLBACK = "whisper + piper, Whisper only (no fallback)"
NO_FALLBACK_SETTINGS = {**STACKS[DEFAULT], "CALLCENTER_WHISPER_LATE_S": "0"}
# the agent's log line when it sheds to pocketsphinx; its log writes each record twice, as
# text and as JSON, and this is the text one's
FELL_BEHIND = b"recogniser_load: speech recognition: Whisper fell behind"
CONCURRENCY = (2, 4)
#: Turn-taking candidates, each measured on the default stack one call at a time
#: (`apps/agent/turns.py` reads these settings; the chosen values are its defaults).
CANDIDATES = {
    "eot-mini 0.3–2.5 s, preemptive (livekit's default)": {
        "CALLCENTER_TURN_DETECTION": "eot-mini",
        "CALLCENTER_MIN_ENDPOINTING_S": "0.3",
        "CALLCENTER_MAX_ENDPOINTING_S": "2.5",
        "CALLCENTER_PREEMPTIVE": "1",
    },
    "vad 0.2 s, preemptive": {"CALLCENTER_MIN_ENDPOINTING_S": "0.2", "CALLCENTER_PREEMPTIVE": "1"},
    "vad 0.5 s, no preemptive": {
        "CALLCENTER_MIN_ENDPOINTING_S": "0.5",
        "CALLCENTER_PREEMPTIVE": "0",
    },
}
CANDIDATE_VOICES = 2
STAGES = (
    "voice_to_voice_s",
    "endpointing_s",
    "stt_final_s",
    "llm_ttft_s",
    "tts_ttfb_s",
    "transport_s",
)


@contextmanager
def running_stack(
    ctx: BenchContext, label: str, settings: dict[str, str], idle: int
) -> Iterator[Any]:
    from adapters.call_center import GroupCommitCallCenter
    from apps.runtime import Config, Runtime
    from apps.stack.stack import LocalStack, StackOptions, StackPorts, isolated_env

    with ctx.database("voice") as db:
        data_dir = Path(tempfile.mkdtemp(prefix="bench-voice-"))
        app = GroupCommitCallCenter(env=db.eventsourcing_env())
        ports = StackPorts.free()
        env = isolated_env(
            os.environ,
            **{
                **settings,
                "CALLCENTER_LLM": "policy",
                "CALLCENTER_RECORDING_MODE": "off",
                "CALLCENTER_DATA_DIR": str(data_dir),
                "CALLCENTER_TOKEN_RATE_PER_MINUTE": "1000",
                "CALLCENTER_AGENT_IDLE_PROCESSES": str(idle),
                "CALLCENTER_ADMIN_PASSWORD": "bench voice admin",
            },
        )
        runtime = Runtime(Config(database_url=db.url, data_dir=data_dir), db, app)
        stack = LocalStack(runtime, StackOptions(data_dir=data_dir, ports=ports, env=env))
        ctx.step(BENCH, f"starting livekit-server, MinIO, web app and agent ({label})")
        try:
            stack.start()
            time.sleep(3.0 if ctx.quick else 10.0)  # idle job processes finish their prewarm
            yield stack
        finally:
            stack.stop()
            app.close()
            shutil.rmtree(data_dir, ignore_errors=True)


class TreeSampler:
    """CPU seconds and resident memory of a process and its descendants (the worker and
    its job processes)."""

    def __init__(self, pid: int) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self._cpu: dict[int, float] = {}

    def _procs(self) -> list[Any]:
        import psutil

        try:
            return [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return []

    def sample(self) -> tuple[float, float, float]:
        """(CPU seconds used so far, counting processes since gone, RSS in MiB now, and the
        largest job process's RSS in MiB now: one call's memory, models included)."""
        import psutil

        rss = job = 0.0
        for p in self._procs():
            try:
                t = p.cpu_times()
                self._cpu[p.pid] = t.user + t.system
                mib = p.memory_info().rss / 2**20
            except psutil.Error:
                continue
            rss += mib
            if p.pid != self._root.pid:
                job = max(job, mib)
        return sum(self._cpu.values()), rss, job


async def _level(
    stack: Any, calls: list[list[Utterance]], sampler: TreeSampler | None
) -> dict[str, Any]:
    peak = job_peak = 0.0
    stop = asyncio.Event()

    async def watch() -> None:
        nonlocal peak, job_peak
        while not stop.is_set():
            if sampler is not None:
                _, rss, job = await asyncio.to_thread(sampler.sample)
                peak, job_peak = max(peak, rss), max(job_peak, job)
            await asyncio.sleep(0.5)

    cpu0, rss0, _ = sampler.sample() if sampler else (0.0, 0.0, 0.0)
    fell_behind0 = _fell_behind(stack)
    t0 = time.monotonic()
    watcher = asyncio.create_task(watch())
    results: list[CallResult] = await asyncio.gather(*(run_call(stack, u) for u in calls))
    stop.set()
    await watcher
    wall = time.monotonic() - t0
    cpu1, _, _ = sampler.sample() if sampler else (0.0, 0.0, 0.0)
    return {
        "calls": results,
        "wall_s": wall,
        "cpu_cores": (cpu1 - cpu0) / wall if wall else 0.0,
        "rss_idle_mib": rss0,
        "rss_peak_mib": max(peak, rss0),
        "job_rss_peak_mib": job_peak,
        "fell_behind": _fell_behind(stack) - fell_behind0,
    }


def _fell_behind(stack: Any) -> int:
    """How often the agent has logged Whisper falling behind (each sheds to pocketsphinx)."""
    agent = next(p for p in stack.processes if p.name == "agent")
    try:
        return int(agent.log_path.read_bytes().count(FELL_BEHIND))
    except OSError:
        return 0


async def _sequential(
    stack: Any, scripts: list[list[Utterance]], sampler: TreeSampler | None
) -> dict[str, Any]:
    calls: list[CallResult] = []
    cpu = wall = 0.0
    rss0 = peak = job_peak = 0.0
    fell_behind = 0
    for utterances in scripts:  # one call at a time
        level = await _level(stack, [utterances], sampler)
        calls += level["calls"]
        cpu += level["cpu_cores"] * level["wall_s"]
        wall += level["wall_s"]
        rss0 = rss0 or level["rss_idle_mib"]
        peak = max(peak, level["rss_peak_mib"])
        job_peak = max(job_peak, level["job_rss_peak_mib"])
        fell_behind += level["fell_behind"]
    return {"calls": calls, "wall_s": wall, "cpu_cores": cpu / wall if wall else 0.0,
            "rss_idle_mib": rss0, "rss_peak_mib": peak, "job_rss_peak_mib": job_peak,
            "fell_behind": fell_behind}  # fmt: skip


def _turns(level: dict[str, Any]) -> list[TurnFigures]:
    return [t for call in level["calls"] for t in call.turns]


def summary(turns: list[TurnFigures]) -> dict[str, Any]:
    """p50/p95 (and min/max: the spread) of each stage over the turns that have it."""
    out: dict[str, Any] = {"turns": len(turns)}
    for stage in STAGES:
        values = [
            v
            for t in turns
            if (v := getattr(t, stage) if stage != "transport_s" else t.transport_s) is not None
        ]
        out[stage] = {
            "n": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "min": min(values) if values else None,
            "max": max(values) if values else None,
        }
    out["unanswered"] = sum(1 for t in turns if t.voice_to_voice_s is None)
    out["cut_in"] = sum(1 for t in turns if t.cut_in)
    return out


def _describe(label: str, level: dict[str, Any], calls: int) -> dict[str, Any]:
    turns = _turns(level)
    return {
        "stack": label,
        "concurrent_calls": calls,
        "summary": summary(turns),
        "cpu_cores": level["cpu_cores"],
        "cpu_per_call_pct": 100 * level["cpu_cores"] / calls,
        "rss_idle_mib": level["rss_idle_mib"],
        "rss_peak_mib": level["rss_peak_mib"],
        "job_rss_peak_mib": level["job_rss_peak_mib"],
        "fell_behind": level["fell_behind"],
        "wall_s": level["wall_s"],
        "errors": [c.error for c in level["calls"] if c.error],
        "turn_list": [t.as_dict() for t in turns],
    }


def run(ctx: BenchContext) -> BenchResult:
    turns = 2 if ctx.quick else 3
    voices = 1 if ctx.quick else None
    ctx.step(BENCH, "synthesising the callers' sentences (festival, espeak-ng)")
    scripts = script(turns, voices)
    ctx.step(
        BENCH,
        f"{len(scripts)} caller voice(s) × {turns} turns: "
        + ", ".join(s[0].voice for s in scripts),
    )
    levels: dict[str, list[dict[str, Any]]] = {}
    for label in (BASELINE, DEFAULT):
        concurrency = () if ctx.quick or label == BASELINE else CONCURRENCY
        idle = 1 if ctx.quick else max(CONCURRENCY)  # the same job processes for both stacks
        with running_stack(ctx, label, STACKS[label], idle) as stack:
            levels[label] = asyncio.run(_measure(ctx, label, stack, scripts, concurrency))
    top = levels[DEFAULT][-1]["concurrent_calls"]
    if top > 1:  # what the fallback buys, at the load the default stack reached
        with running_stack(ctx, NO_FALLBACK, NO_FALLBACK_SETTINGS, max(CONCURRENCY)) as stack:
            levels[NO_FALLBACK] = asyncio.run(_loaded(ctx, NO_FALLBACK, stack, scripts, top))
    candidates: dict[str, dict[str, Any]] = {}
    if not ctx.quick and os.environ.get("CALLCENTER_BENCH_VOICE_CANDIDATES", "1") != "0":
        for name, settings in CANDIDATES.items():
            with running_stack(ctx, f"turns: {name}", {**STACKS[DEFAULT], **settings}, 1) as stack:
                level = asyncio.run(_measure(ctx, name, stack, scripts[:CANDIDATE_VOICES], ()))[0]
            candidates[name] = level
    from apps.bench.voice_figures import figures

    result = BenchResult(BENCH)
    result.figures = figures(levels, DEFAULT, BASELINE, candidates)

    result.details = {
        "sentences": [u.text for u in scripts[0]],
        "caller voices": [s[0].voice for s in scripts],
        "levels": levels,
        "turn candidates": candidates,
    }
    return result


async def _measure(
    ctx: BenchContext,
    label: str,
    stack: Any,
    scripts: list[list[Utterance]],
    concurrency: tuple[int, ...],
) -> list[dict[str, Any]]:
    agent = next(p for p in stack.processes if p.name == "agent")
    sampler = _sampler(agent.process.pid if agent.process else None)
    ctx.step(BENCH, f"{label}: {len(scripts)} call(s), one at a time")
    level = _describe(label, await _sequential(stack, scripts, sampler), 1)
    _report(ctx, label, level)
    levels = [level]
    for n in concurrency:
        calls = [scripts[i % len(scripts)] for i in range(n)]
        ctx.step(BENCH, f"{label}: {n} calls at once")
        level = _describe(label, await _level(stack, calls, sampler), n)
        _report(ctx, label, level)
        levels.append(level)
        # blown up: past twice the target and twice what one call alone got
        limit = 2 * max(LOADED_P95_TARGET_S, levels[0]["summary"]["voice_to_voice_s"]["p95"])
        if level["summary"]["voice_to_voice_s"]["p95"] > limit:
            ctx.step(BENCH, f"  p95 past {limit:.1f}s: stopping here")
            break
    return levels


async def _loaded(
    ctx: BenchContext, label: str, stack: Any, scripts: list[list[Utterance]], n: int
) -> list[dict[str, Any]]:
    agent = next(p for p in stack.processes if p.name == "agent")
    sampler = _sampler(agent.process.pid if agent.process else None)
    calls = [scripts[i % len(scripts)] for i in range(n)]
    ctx.step(BENCH, f"{label}: {n} calls at once")
    level = _describe(label, await _level(stack, calls, sampler), n)
    _report(ctx, label, level)
    return [level]


def _sampler(pid: int | None) -> TreeSampler | None:
    if pid is None:
        return None
    try:
        return TreeSampler(pid)
    except ImportError:  # psutil is optional: the figures go without CPU and memory
        return None


def _report(ctx: BenchContext, label: str, level: dict[str, Any]) -> None:
    s = level["summary"]
    v = s["voice_to_voice_s"]
    ctx.step(
        BENCH,
        f"  {label}, {level['concurrent_calls']} call(s): voice-to-voice p50 {v['p50']:.2f}s "
        f"p95 {v['p95']:.2f}s over {v['n']} turns ({s['unanswered']} unanswered, "
        f"{s['cut_in']} cut in); agent CPU {level['cpu_cores']:.2f} cores, "
        f"RSS {level['rss_peak_mib']:.0f} MiB (a call's process {level['job_rss_peak_mib']:.0f}); "
        f"Whisper fell behind {level['fell_behind']}×; errors: {level['errors'] or 'none'}",
    )
