"""Speech: interim and final transcripts, agent replies, user and agent states."""

from __future__ import annotations

from domain import events as ev
from domain import rules
from domain.conversation_state import ConversationState
from domain.errors import InvalidCommand
from domain.meta import EventMeta


class SpeechPart(ConversationState):
    InterimTranscriptRecorded = ev.InterimTranscriptRecorded
    FinalTranscriptRecorded = ev.FinalTranscriptRecorded
    AgentReplied = ev.AgentReplied

    class UserStateChanged(ev.UserStateChanged):
        def apply(self, c: ConversationState) -> None:
            c.user_state = self.new_state

    class AgentStateChanged(ev.AgentStateChanged):
        def apply(self, c: ConversationState) -> None:
            c.agent_state = self.new_state

    # --- speech --------------------------------------------------------------------------

    def record_interim(
        self, speaker: str, text: str, segment_id: str, confidence: float | None, meta: EventMeta
    ) -> None:
        self._check_speaker(speaker)
        rules.text(text, "interim text", limit=rules.MAX_TEXT)
        rules.text(segment_id, "segment id", allow_empty=True)
        confidence = rules.confidence(confidence)
        self._require_open(meta)
        self._record(
            SpeechPart.InterimTranscriptRecorded, meta, speaker, text, segment_id, confidence
        )

    def record_final(
        self,
        speaker: str,
        text: str,
        meta: EventMeta,
        *,
        confidence: float | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
        language: str = "en",
        segment_id: str = "",
    ) -> None:
        self._check_speaker(speaker)
        rules.text(text, "final transcript text", limit=rules.MAX_TEXT)
        confidence = rules.confidence(confidence)
        start_time = rules.non_negative(start_time, "start time")
        end_time = rules.non_negative(end_time, "end time")
        if start_time is not None and end_time is not None and end_time < start_time:
            raise InvalidCommand("end time is before start time")
        rules.text(language, "language", limit=20)
        rules.text(segment_id, "segment id", allow_empty=True)
        self._require_open(meta)
        self._record(
            SpeechPart.FinalTranscriptRecorded,
            meta,
            speaker,
            text,
            confidence,
            start_time,
            end_time,
            language,
            segment_id,
        )

    def record_reply(self, text: str, interrupted: bool, meta: EventMeta) -> None:
        rules.text(text, "reply text", limit=rules.MAX_TEXT, allow_empty=bool(interrupted))
        self._require_open(meta)
        self._record(SpeechPart.AgentReplied, meta, text, bool(interrupted))

    def change_user_state(self, new_state: str, meta: EventMeta) -> None:
        if new_state not in rules.USER_STATES:
            raise InvalidCommand(f"user state must be one of {sorted(rules.USER_STATES)}")
        self._require_open(meta)
        self._record(SpeechPart.UserStateChanged, meta, self.user_state, new_state)

    def change_agent_state(self, new_state: str, meta: EventMeta) -> None:
        if new_state not in rules.AGENT_STATES:
            raise InvalidCommand(f"agent state must be one of {sorted(rules.AGENT_STATES)}")
        self._require_open(meta)
        self._record(SpeechPart.AgentStateChanged, meta, self.agent_state, new_state)

    @staticmethod
    def _check_speaker(speaker: str) -> None:
        if speaker not in rules.SPEAKERS:
            raise InvalidCommand(f"speaker must be one of {sorted(rules.SPEAKERS)}")
