"""One bench call through the real stack: a customer token from the web app (which
dispatches the agent), the caller joins, waits out the greeting, speaks each utterance
after the agent's previous reply, and times the first audible answer; then the agent's own
events for the call are read back from the event store and matched to the turns by time."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from livekit import rtc

from apps.bench.voice_caller import Caller, Turn
from apps.bench.voice_speech import Utterance
from apps.stack.stack import LocalStack
from domain.ids import conversation_id_for_room

QUIET_S = 1.5  # the agent's reply is over once it has been silent this long
REPLY_TIMEOUT_S = 15.0  # no audible answer this long after the end of speech: a miss


@dataclass
class TurnFigures:
    """One customer turn as the caller heard it, with the agent's stages for it."""

    voice: str
    text: str
    voice_to_voice_s: float | None
    #: the agent was audible while the caller was still speaking (it cut in)
    cut_in: bool = False
    endpointing_s: float | None = None  # end_of_utterance_delay: VAD end → turn decided
    stt_final_s: float | None = None  # end of audio → final transcript (inside endpointing)
    llm_ttft_s: float | None = None
    tts_ttfb_s: float | None = None
    heard_text: str = ""
    reply_text: str = ""

    @property
    def transport_s(self) -> float | None:
        v2v, eou, llm, tts = (
            self.voice_to_voice_s, self.endpointing_s, self.llm_ttft_s, self.tts_ttfb_s
        )  # fmt: skip
        if v2v is None or eou is None or llm is None or tts is None:
            return None
        return v2v - eou - llm - tts

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "transport_s": self.transport_s}


@dataclass
class CallResult:
    room: str
    turns: list[TurnFigures] = field(default_factory=list)
    greeting_s: float | None = None  # join → first audible greeting
    error: str = ""


async def run_call(stack: LocalStack, utterances: list[Utterance]) -> CallResult:
    async with httpx.AsyncClient(base_url=stack.web_url, timeout=30) as http:
        grant = (await http.post("/api/get-token", json={"participant_name": "Bench"})).json()
    result = CallResult(grant["room_name"])
    room = rtc.Room()
    caller = Caller(room)
    turns: list[Turn] = []
    starts: list[float] = []  # wall clock when each utterance began
    offset = time.time() - time.monotonic()
    try:
        joined = time.monotonic()
        await room.connect(
            grant["livekit_url"], grant["token"], rtc.RoomOptions(auto_subscribe=True)
        )
        await caller.start()
        greeting = await caller.wait_heard(joined, 90)
        if greeting is None:
            result.error = "no greeting within 90 s"
            return result
        result.greeting_s = greeting - joined
        await caller.wait_quiet(greeting, QUIET_S, 60)
        for utterance in utterances:
            starts.append(time.time())
            turn = await caller.say(utterance)
            turn.heard_mono = await caller.wait_heard(turn.ended_mono, REPLY_TIMEOUT_S)
            turns.append(turn)
            await caller.wait_quiet(turn.heard_mono or turn.ended_mono, QUIET_S, 60)
    except Exception as e:  # one broken call is reported, the run goes on
        result.error = f"{type(e).__name__}: {e}"
    finally:
        await caller.close()
        await room.disconnect()
    cut_in = [
        any(s - offset < a < t.ended_mono for a in caller.audible)
        for s, t in zip(starts, turns, strict=False)
    ]
    events = await _agent_events(stack, result.room, len(turns))
    result.turns = match_turns(turns, starts, cut_in, events)
    return result


async def _agent_events(
    stack: LocalStack, room: str, turns: int, timeout: float = 15.0
) -> list[tuple[str, dict[str, Any]]]:
    """The call's events once the agent has flushed a latency figure per turn (or after
    `timeout`: a turn with no reply has none)."""
    cid = conversation_id_for_room(room)
    deadline = time.monotonic() + timeout
    while True:
        events = await asyncio.to_thread(_log, stack, cid)
        measured = [d for n, d in events if n == "TurnLatencyMeasured" and _eou(d) is not None]
        if len(measured) >= turns or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.5)


def _log(stack: LocalStack, cid: UUID) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).__name__, {**vars(e)}) for _, e in stack.runtime.app.log_of(cid)]


def _eou(data: dict[str, Any]) -> float | None:
    value = data.get("end_of_utterance_delay_s")
    return float(value) if value is not None else None


def _when(data: dict[str, Any]) -> float:
    at = data["meta"]["occurred_at"]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.timestamp() if isinstance(at, datetime) else float(at)


def match_turns(
    turns: list[Turn],
    starts: list[float],
    cut_in: list[bool],
    events: list[tuple[str, dict[str, Any]]],
) -> list[TurnFigures]:
    """Each turn's agent figures: those recorded between the end of its speech and the
    start of the next utterance (the agent's final transcript, its first reply and the
    latency figures of the speech that answered it)."""
    out = []
    for i, turn in enumerate(turns):
        lo = starts[i]
        hi = starts[i + 1] if i + 1 < len(starts) else math.inf
        within = [(n, d) for n, d in events if lo <= _when(d) < hi]
        finals = [
            d
            for n, d in within
            if n == "FinalTranscriptRecorded" and d.get("speaker") == "customer"
        ]
        latency = next(
            (d for n, d in within if n == "TurnLatencyMeasured" and _eou(d) is not None), None
        )
        replies = [d["text"] for n, d in within if n == "AgentReplied"]
        figures = TurnFigures(
            voice=turn.voice,
            text=turn.text,
            voice_to_voice_s=turn.voice_to_voice_s,
            cut_in=cut_in[i] if i < len(cut_in) else False,
            heard_text=" ".join(d["text"] for d in finals),
            reply_text=" ".join(replies),
        )
        if finals:
            figures.stt_final_s = _when(finals[-1]) - turn.ended_wall
        if latency is not None:
            figures.endpointing_s = _eou(latency)
            figures.llm_ttft_s = latency.get("llm_ttft_s")
            figures.tts_ttfb_s = latency.get("tts_ttfb_s")
        out.append(figures)
    return out
