"""AgentSession events as domain commands.

Handlers run on the audio loop, so each only builds a command and hands it to the sink
(`Facts.record` → `EventSink.put`): no I/O, no waiting.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livekit.agents import AgentSession, llm, stt, tts
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    CloseEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    FunctionToolsExecutedEvent,
    MetricsCollectedEvent,
    SpeechCreatedEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)

from apps.agent.facts import Facts
from apps.agent.latency import TurnLatency
from apps.agent.silence import SilenceMonitor
from domain import commands as c
from domain.rules import MAX_TEXT

log = logging.getLogger(__name__)

CUSTOMER = "customer"


@dataclass(frozen=True)
class SpeechDetails:
    """What the STT said about a transcript that the session's event leaves out."""

    confidence: float | None
    start_time: float | None
    end_time: float | None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {"raw": raw}
    return value if isinstance(value, dict) else {"value": value}


def _component(source: Any) -> str:
    for kind in (stt.STT, llm.LLM, tts.TTS, llm.RealtimeModel):
        if isinstance(source, kind):
            return f"{kind.__module__.split('.')[-1]}:{type(source).__name__}"[:100]
    return type(source).__name__[:100] or "agent"


class SessionEvents:
    """Subscribes to one AgentSession; `on_speech` is the assistant's STT tap."""

    def __init__(
        self,
        facts: Facts,
        *,
        silence: SilenceMonitor | None = None,
        on_close: Callable[[CloseEvent], None] | None = None,
    ) -> None:
        self._facts = facts
        self._silence = silence
        self._on_close = on_close
        self.latency = TurnLatency(facts)
        self._details: OrderedDict[tuple[bool, str], SpeechDetails] = OrderedDict()
        self._utterance = 1

    def attach(self, session: AgentSession[Any]) -> None:
        session.on("user_input_transcribed", self._transcribed)
        session.on("conversation_item_added", self._item_added)
        session.on("user_state_changed", self._user_state)
        session.on("agent_state_changed", self._agent_state)
        session.on("function_tools_executed", self._tools_executed)
        session.on("speech_created", self._speech_created)
        session.on("metrics_collected", self._metrics)
        session.on("error", self._error)
        session.on("close", self._closed)

    def on_speech(self, ev: stt.SpeechEvent) -> None:
        final = ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT
        if not final and ev.type != stt.SpeechEventType.INTERIM_TRANSCRIPT or not ev.alternatives:
            return
        alt = ev.alternatives[0]
        # SpeechData.confidence defaults to 0.0: a provider that gives none leaves it there
        confidence = alt.confidence if 0 < alt.confidence <= 1 else None
        start = alt.start_time if alt.start_time >= 0 else None
        end = alt.end_time if alt.end_time >= (start or 0) and alt.end_time > 0 else None
        self._details[(final, alt.text.strip())] = SpeechDetails(confidence, start, end)
        while len(self._details) > 32:
            self._details.popitem(last=False)

    # --- handlers ---------------------------------------------------------------------------

    def _transcribed(self, ev: UserInputTranscribedEvent) -> None:
        text = ev.transcript.strip()
        if not text:
            return
        if self._silence:
            self._silence.activity()
        details = self._details.pop((ev.is_final, text), None) or SpeechDetails(None, None, None)
        segment = f"u{self._utterance}"
        if not ev.is_final:
            self._facts.record(
                c.RecordInterimTranscript,
                self._facts.next("interim"),
                ev.created_at,
                speaker=CUSTOMER,
                text=_clip(text),
                segment_id=segment,
                confidence=details.confidence,
            )
            return
        self._utterance += 1
        self._facts.record(
            c.RecordFinalTranscript,
            self._facts.next("final"),
            ev.created_at,
            speaker=CUSTOMER,
            text=_clip(text),
            confidence=details.confidence,
            start_time=details.start_time,
            end_time=details.end_time,
            language=str(ev.language or "en")[:20],
            segment_id=segment,
        )

    def _item_added(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if not isinstance(item, llm.ChatMessage):
            return
        text = (item.text_content or "").strip()
        if item.role == "assistant":
            if text or item.interrupted:
                self._facts.record(
                    c.RecordAgentReply,
                    f"{item.id}/reply",
                    ev.created_at,
                    text=_clip(text),
                    interrupted=item.interrupted,
                )
        elif item.role == "user" and item.transcript_confidence is None and text:
            # typed input (text chat, session.run): no STT event described it
            self._facts.record(
                c.RecordFinalTranscript,
                f"{item.id}/typed",
                ev.created_at,
                speaker=CUSTOMER,
                text=_clip(text),
                segment_id=item.id,
            )

    def _user_state(self, ev: UserStateChangedEvent) -> None:
        if self._silence:
            self._silence.speaking("user", ev.new_state == "speaking")
        self._facts.record(
            c.ChangeUserState, self._facts.next("user-state"), ev.created_at, new_state=ev.new_state
        )

    def _agent_state(self, ev: AgentStateChangedEvent) -> None:
        if self._silence:
            self._silence.speaking("agent", ev.new_state == "speaking")
        self._facts.record(
            c.ChangeAgentState,
            self._facts.next("agent-state"),
            ev.created_at,
            new_state=ev.new_state,
        )

    def _tools_executed(self, ev: FunctionToolsExecutedEvent) -> None:
        for call, output in ev.zipped():
            failed = output is not None and output.is_error
            result = None if output is None or failed else _clip(output.output)
            self._facts.record(
                c.RecordToolCall,
                f"{call.call_id}/tool",
                ev.created_at,
                call_id=call.call_id[:200],
                name=call.name[:100],
                arguments=_arguments(call.arguments),
                result=result,
                error=_clip(output.output or "tool failed") if failed and output else None,
            )

    def _speech_created(self, ev: SpeechCreatedEvent) -> None:
        self.latency.speech_created(ev.speech_handle)

    def _metrics(self, ev: MetricsCollectedEvent) -> None:
        self.latency.metrics(ev.metrics)

    def _error(self, ev: ErrorEvent) -> None:
        error = ev.error
        self._facts.record(
            c.ReportError,
            self._facts.next("error"),
            ev.created_at,
            component=_component(ev.source),
            message=_clip(str(getattr(error, "error", None) or error) or repr(error)),
            recoverable=bool(getattr(error, "recoverable", True)),
        )

    def _closed(self, ev: CloseEvent) -> None:
        if ev.error is not None:
            self._facts.record(
                c.ReportError,
                "close/error",
                ev.created_at,
                component="agent_session",
                message=_clip(str(ev.error) or repr(ev.error)),
                recoverable=False,
            )
        self._facts.record(c.CloseAgentSession, "close", ev.created_at, reason=str(ev.reason.value))
        if self._on_close is not None:
            self._on_close(ev)
