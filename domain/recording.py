"""Recording: requested, started, updated, completed or failed, in any order after the end."""

from __future__ import annotations

from domain import events as ev
from domain import rules
from domain.conversation_state import ConversationState
from domain.errors import InvalidCommand, InvalidTransition
from domain.meta import EventMeta


class RecordingPart(ConversationState):
    class RecordingRequested(ev.RecordingRequested):
        def apply(self, c: ConversationState) -> None:
            # The egress webhooks may have told us of it first: never move its status back.
            c.recordings.setdefault(self.recording_id, "requested")

    class RecordingStarted(ev.RecordingStarted):
        def apply(self, c: ConversationState) -> None:
            c.recordings[self.recording_id] = "started"

    class RecordingUpdated(ev.RecordingUpdated):
        def apply(self, c: ConversationState) -> None:
            c.recordings.setdefault(self.recording_id, "started")

    class RecordingCompleted(ev.RecordingCompleted):
        def apply(self, c: ConversationState) -> None:
            c.recordings[self.recording_id] = "completed"

    class RecordingFailed(ev.RecordingFailed):
        def apply(self, c: ConversationState) -> None:
            c.recordings[self.recording_id] = "failed"

    # --- recording -----------------------------------------------------------------------

    def request_recording(self, recording_id: str, mode: str, meta: EventMeta) -> None:
        rules.text(recording_id, "recording id")
        if mode not in rules.RECORDING_MODES:
            raise InvalidCommand(f"recording mode must be one of {sorted(rules.RECORDING_MODES)}")
        if self.recordings.get(recording_id) == "requested":
            raise InvalidTransition(f"recording {recording_id!r} was already requested")
        self._require_open(meta)
        self._record(RecordingPart.RecordingRequested, meta, recording_id, mode)

    def _require_unfinished(self, recording_id: str) -> None:
        rules.text(recording_id, "recording id")
        if self.recordings.get(recording_id) in ("completed", "failed"):
            raise InvalidTransition(f"recording {recording_id!r} already finished")

    # Recording results are late facts by nature (the egress ends after the room), so they
    # are accepted after the end, and in any order relative to each other.
    def start_recording(self, recording_id: str, egress_id: str | None, meta: EventMeta) -> None:
        self._require_unfinished(recording_id)
        if self.recordings.get(recording_id) == "started":
            raise InvalidTransition(f"recording {recording_id!r} already started")
        self._record(RecordingPart.RecordingStarted, meta, recording_id, egress_id)

    def update_recording(self, recording_id: str, status: str, meta: EventMeta) -> None:
        self._require_unfinished(recording_id)
        rules.text(status, "recording status", limit=64)
        self._record(RecordingPart.RecordingUpdated, meta, recording_id, status)

    def complete_recording(
        self,
        recording_id: str,
        bucket: str,
        object_key: str,
        size_bytes: int,
        duration_s: float,
        content_type: str,
        meta: EventMeta,
    ) -> None:
        self._require_unfinished(recording_id)
        rules.text(bucket, "bucket", limit=63)
        rules.text(object_key, "object key", limit=1024)
        rules.text(content_type, "content type", limit=100)
        if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or size_bytes < 0:
            raise InvalidCommand("recording size must be a non-negative integer")
        duration = rules.non_negative(duration_s, "recording duration")
        assert duration is not None
        self._record(
            RecordingPart.RecordingCompleted,
            meta,
            recording_id,
            bucket,
            object_key,
            size_bytes,
            duration,
            content_type,
        )

    def fail_recording(self, recording_id: str, reason: str, meta: EventMeta) -> None:
        self._require_unfinished(recording_id)
        rules.text(reason, "failure reason", limit=2000)
        self._record(RecordingPart.RecordingFailed, meta, recording_id, reason)
