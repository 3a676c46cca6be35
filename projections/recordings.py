"""Recordings: one row per recording of a call, whatever order its results arrive in."""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.base import ReadModel, handles, occurred
from projections.store import RowStore
from projections.tables import Row, TableSpec

RECORDINGS = TableSpec(
    name="recordings",
    columns=(
        ("conversation_id", "uuid"),
        ("recording_id", "text"),
        ("mode", "text"),
        ("status", "text"),
        ("egress_id", "text"),
        ("bucket", "text"),
        ("object_key", "text"),
        ("size_bytes", "bigint"),
        ("duration_s", "double precision"),
        ("content_type", "text"),
        ("error", "text"),
        ("requested_at", "timestamptz"),
        ("started_at", "timestamptz"),
        ("finished_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("position", "bigint"),
    ),
    key=("conversation_id", "recording_id"),
)

_FINISHED = ("completed", "failed")


class RecordingsProjection(ReadModel):
    name = "recordings"
    tables = (RECORDINGS,)

    def _row(self, e: Any, position: int, store: RowStore) -> Row:
        row = store.get(RECORDINGS, (e.originator_id, e.recording_id))
        if row is None:
            row = RECORDINGS.blank(
                conversation_id=e.originator_id, recording_id=e.recording_id, status="requested"
            )
        row["updated_at"] = occurred(e)
        row["position"] = position
        return row

    @handles(ev.RecordingRequested)
    def on_recording_requested(self, e: Any, position: int, store: RowStore) -> None:
        row = self._row(e, position, store)
        row.update(mode=e.mode, requested_at=occurred(e))
        store.put(RECORDINGS, row)

    @handles(ev.RecordingStarted)
    def on_recording_started(self, e: Any, position: int, store: RowStore) -> None:
        row = self._row(e, position, store)
        row.update(egress_id=e.egress_id, started_at=occurred(e))
        if row["status"] not in _FINISHED:
            row["status"] = "recording"
        store.put(RECORDINGS, row)

    @handles(ev.RecordingUpdated)
    def on_recording_updated(self, e: Any, position: int, store: RowStore) -> None:
        row = self._row(e, position, store)
        if row["status"] not in _FINISHED:
            row["status"] = "recording"
        store.put(RECORDINGS, row)

    @handles(ev.RecordingCompleted)
    def on_recording_completed(self, e: Any, position: int, store: RowStore) -> None:
        row = self._row(e, position, store)
        row.update(
            status="completed",
            bucket=e.bucket,
            object_key=e.object_key,
            size_bytes=e.size_bytes,
            duration_s=e.duration_s,
            content_type=e.content_type,
            finished_at=occurred(e),
        )
        store.put(RECORDINGS, row)

    @handles(ev.RecordingFailed)
    def on_recording_failed(self, e: Any, position: int, store: RowStore) -> None:
        row = self._row(e, position, store)
        row.update(status="failed", error=e.reason, finished_at=occurred(e))
        store.put(RECORDINGS, row)
