"""Monitoring and quality: silence alerts, supervisor listen-ins, turn latency, errors."""

from __future__ import annotations

from domain import events as ev
from domain import rules
from domain.conversation_state import ConversationState
from domain.errors import InvalidCommand, InvalidTransition
from domain.meta import EventMeta


class MonitoringPart(ConversationState):
    class SilenceDetected(ev.SilenceDetected):
        def apply(self, c: ConversationState) -> None:
            c.silence_active = True

    class SilenceEnded(ev.SilenceEnded):
        def apply(self, c: ConversationState) -> None:
            c.silence_active = False

    class ListenInStarted(ev.ListenInStarted):
        def apply(self, c: ConversationState) -> None:
            c.listen_ins[self.listen_id] = self.supervisor

    class ListenInEnded(ev.ListenInEnded):
        def apply(self, c: ConversationState) -> None:
            c.listen_ins.pop(self.listen_id, None)

    TurnLatencyMeasured = ev.TurnLatencyMeasured
    ErrorReported = ev.ErrorReported

    # --- monitoring ----------------------------------------------------------------------

    def detect_silence(self, silent_for_s: float, meta: EventMeta) -> None:
        rules.non_negative(silent_for_s, "silence duration")
        if self.silence_active:
            raise InvalidTransition("silence is already being reported")
        self._require_open(meta)
        self._record(MonitoringPart.SilenceDetected, meta, float(silent_for_s))

    def end_silence(self, silent_for_s: float, meta: EventMeta) -> None:
        rules.non_negative(silent_for_s, "silence duration")
        if not self.silence_active:
            raise InvalidTransition("no silence is being reported")
        self._record(MonitoringPart.SilenceEnded, meta, float(silent_for_s))

    def start_listen_in(self, listen_id: str, supervisor: str, meta: EventMeta) -> None:
        rules.text(listen_id, "listen-in id")
        rules.text(supervisor, "supervisor")
        if listen_id in self.listen_ins:
            raise InvalidTransition(f"listen-in {listen_id!r} already started")
        self._require_open(meta)
        self._record(MonitoringPart.ListenInStarted, meta, listen_id, supervisor)

    def end_listen_in(self, listen_id: str, meta: EventMeta) -> None:
        rules.text(listen_id, "listen-in id")
        supervisor = self.listen_ins.get(listen_id)
        if supervisor is None:
            raise InvalidTransition(f"listen-in {listen_id!r} is not open")
        self._record(MonitoringPart.ListenInEnded, meta, listen_id, supervisor)

    # --- quality -------------------------------------------------------------------------

    def measure_turn(
        self,
        speech_id: str,
        meta: EventMeta,
        *,
        end_of_utterance_delay_s: float | None = None,
        llm_ttft_s: float | None = None,
        tts_ttfb_s: float | None = None,
        end_to_end_s: float | None = None,
    ) -> None:
        rules.text(speech_id, "speech id", allow_empty=True)
        eou = rules.non_negative(end_of_utterance_delay_s, "end-of-utterance delay")
        ttft = rules.non_negative(llm_ttft_s, "LLM time to first token")
        ttfb = rules.non_negative(tts_ttfb_s, "TTS time to first byte")
        e2e = rules.non_negative(end_to_end_s, "end-to-end latency")
        if eou is None and ttft is None and ttfb is None and e2e is None:
            raise InvalidCommand("a latency measurement needs at least one figure")
        self._require_open(meta)
        self._record(MonitoringPart.TurnLatencyMeasured, meta, speech_id, eou, ttft, ttfb, e2e)

    def report_error(
        self, component: str, message: str, recoverable: bool, meta: EventMeta
    ) -> None:
        rules.text(component, "component", limit=100)
        rules.text(message, "error message", limit=rules.MAX_TEXT)
        self._record(MonitoringPart.ErrorReported, meta, component, message, bool(recoverable))
