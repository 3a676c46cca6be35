"""Per-turn latency from the session's metrics: one `MeasureTurn` per agent speech.

A speech's figures arrive separately: the end-of-utterance delay (EOU metrics, tagged with
the speech id), and on the reply's chat message the end-to-end latency, the LLM node's
time to first token and the TTS node's time to first byte (the LLM and TTS metrics events
stand in when a message lacks them). They are recorded once the speech is done, when its
chat items are all known.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from livekit.agents import llm
from livekit.agents.metrics import EOUMetrics, LLMMetrics, TTSMetrics
from livekit.agents.voice import SpeechHandle

from apps.agent.facts import Facts
from domain import commands as c

MAX_OPEN_TURNS = 64
MESSAGE_FIGURES = {  # MeasureTurn field -> ChatMessage.metrics key
    "end_to_end_s": "e2e_latency",
    "llm_ttft_s": "llm_node_ttft",
    "tts_ttfb_s": "tts_node_ttfb",
}


def _figure(value: Any) -> float | None:
    """livekit reports 'unknown' as -1 or 0-less values; the domain wants >= 0 or nothing."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


class TurnLatency:
    def __init__(self, facts: Facts) -> None:
        self._facts = facts
        self._turns: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._speeches: dict[str, SpeechHandle] = {}
        self._finished: deque[str] = deque(maxlen=MAX_OPEN_TURNS)  # late metrics are ignored

    def _turn(self, speech_id: str) -> dict[str, float]:
        turn = self._turns.get(speech_id)
        if turn is None:
            turn = self._turns[speech_id] = {}
            while len(self._turns) > MAX_OPEN_TURNS:  # speeches that never finished
                self._turns.popitem(last=False)
        return turn

    def speech_created(self, handle: SpeechHandle) -> None:
        self._speeches[handle.id] = handle
        self._turn(handle.id)
        handle.add_done_callback(self._speech_done)

    def metrics(self, m: Any) -> None:
        speech_id = getattr(m, "speech_id", None)
        if not speech_id or speech_id in self._finished:
            return
        turn = self._turn(speech_id)
        if isinstance(m, EOUMetrics):
            key, value = "end_of_utterance_delay_s", m.end_of_utterance_delay
        elif isinstance(m, LLMMetrics):
            key, value = "llm_ttft_s", m.ttft
        elif isinstance(m, TTSMetrics):
            key, value = "tts_ttfb_s", m.ttfb
        else:
            return
        figure = _figure(value)
        if figure is not None:
            turn.setdefault(key, figure)  # the first step's figure is the turn's

    def _speech_done(self, handle: SpeechHandle) -> None:
        self._speeches.pop(handle.id, None)
        self._finished.append(handle.id)
        figures = self._turns.pop(handle.id, None) or {}
        for item in handle.chat_items:  # the first reply of a turn carries its figures
            if isinstance(item, llm.ChatMessage) and item.role == "assistant":
                for key, name in MESSAGE_FIGURES.items():
                    if (value := _figure(item.metrics.get(name))) is not None:
                        figures[key] = value  # node-level, as the turn saw it
                break
        if figures:
            self._facts.record(
                c.MeasureTurn, f"{handle.id}/latency", speech_id=handle.id, **figures
            )
