"""The transcript read model: final lines in log order; the latest interim per speaker
kept apart, and dropped when that speaker's final line arrives or the call ends."""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.base import ReadModel, handles, occurred
from projections.store import RowStore
from projections.tables import TableSpec

TRANSCRIPT_LINES = TableSpec(
    name="transcript_lines",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("speaker", "text"),
        ("kind", "text"),
        ("text", "text"),
        ("confidence", "double precision"),
        ("start_time", "double precision"),
        ("end_time", "double precision"),
        ("language", "text"),
        ("segment_id", "text"),
        ("interrupted", "boolean"),
        ("occurred_at", "timestamptz"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
)

TRANSCRIPT_INTERIMS = TableSpec(
    name="transcript_interims",
    columns=(
        ("conversation_id", "uuid"),
        ("speaker", "text"),
        ("text", "text"),
        ("segment_id", "text"),
        ("confidence", "double precision"),
        ("occurred_at", "timestamptz"),
        ("position", "bigint"),
    ),
    key=("conversation_id", "speaker"),
)


class TranscriptProjection(ReadModel):
    name = "transcript"
    tables = (TRANSCRIPT_LINES, TRANSCRIPT_INTERIMS)

    @handles(ev.InterimTranscriptRecorded)
    def on_interim_transcript_recorded(self, e: Any, position: int, store: RowStore) -> None:
        store.put(
            TRANSCRIPT_INTERIMS,
            TRANSCRIPT_INTERIMS.blank(
                conversation_id=e.originator_id,
                speaker=e.speaker,
                text=e.text,
                segment_id=e.segment_id,
                confidence=e.confidence,
                occurred_at=occurred(e),
                position=position,
            ),
        )

    @handles(ev.FinalTranscriptRecorded)
    def on_final_transcript_recorded(self, e: Any, position: int, store: RowStore) -> None:
        store.delete(TRANSCRIPT_INTERIMS, (e.originator_id, e.speaker))
        store.put(
            TRANSCRIPT_LINES,
            TRANSCRIPT_LINES.blank(
                conversation_id=e.originator_id,
                position=position,
                speaker=e.speaker,
                kind="final",
                text=e.text,
                confidence=e.confidence,
                start_time=e.start_time,
                end_time=e.end_time,
                language=e.language,
                segment_id=e.segment_id,
                interrupted=False,
                occurred_at=occurred(e),
            ),
        )

    @handles(ev.AgentReplied)
    def on_agent_replied(self, e: Any, position: int, store: RowStore) -> None:
        store.delete(TRANSCRIPT_INTERIMS, (e.originator_id, "assistant"))
        store.put(
            TRANSCRIPT_LINES,
            TRANSCRIPT_LINES.blank(
                conversation_id=e.originator_id,
                position=position,
                speaker="assistant",
                kind="reply",
                text=e.text,
                interrupted=e.interrupted,
                occurred_at=occurred(e),
            ),
        )

    @handles(ev.CallEnded)
    def on_call_ended(self, e: Any, position: int, store: RowStore) -> None:
        for speaker in ("customer", "assistant"):
            store.delete(TRANSCRIPT_INTERIMS, (e.originator_id, speaker))
