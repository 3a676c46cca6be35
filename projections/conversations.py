"""The conversations read model: one row per call, what the dashboard lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain import events as ev
from projections.base import EventTable, ReadModel, handles, iso, occurred
from projections.store import RowStore
from projections.tables import Row, TableSpec

CONVERSATIONS = TableSpec(
    name="conversations",
    columns=(
        ("conversation_id", "uuid"),
        ("room_name", "text"),
        ("room_sid", "text"),
        ("status", "text"),
        ("opened_at", "timestamptz"),
        ("requested_at", "timestamptz"),
        ("started_at", "timestamptz"),
        ("ended_at", "timestamptz"),
        ("end_reason", "text"),
        ("duration_s", "double precision"),
        ("customer_identity", "text"),
        ("customer_name", "text"),
        ("participants", "jsonb"),
        ("agent_state", "text"),
        ("user_state", "text"),
        ("last_activity_at", "timestamptz"),
        ("silence_active", "boolean"),
        ("silence_since", "timestamptz"),
        ("silence_alerts", "integer"),
        ("recording_status", "text"),
        ("recording_bucket", "text"),
        ("recording_key", "text"),
        ("final_count", "integer"),
        ("interim_count", "integer"),
        ("reply_count", "integer"),
        ("lookup_count", "integer"),
        ("tool_call_count", "integer"),
        ("listen_in_count", "integer"),
        ("error_count", "integer"),
        ("last_end_to_end_s", "double precision"),
        ("version", "integer"),
        ("position", "bigint"),
    ),
    key=("conversation_id",),
    indexes=("status, last_activity_at DESC", "room_name", "position"),
)

#: The counter column each event adds one to.
_COUNTED = {
    ev.InterimTranscriptRecorded: "interim_count",
    ev.FinalTranscriptRecorded: "final_count",
    ev.AgentReplied: "reply_count",
    ev.VehicleLookedUp: "lookup_count",
    ev.ToolCalled: "tool_call_count",
    ev.ListenInStarted: "listen_in_count",
    ev.ErrorReported: "error_count",
}
_COUNTERS = EventTable(_COUNTED)


class ConversationsProjection(ReadModel):
    name = "conversations"
    tables = (CONVERSATIONS,)

    def handle(self, event: Any, position: int, store: RowStore) -> None:
        key = (event.originator_id,)
        row = store.get(CONVERSATIONS, key)
        if row is None:
            row = CONVERSATIONS.blank(
                conversation_id=event.originator_id,
                status="opened",
                participants={},
                agent_state="initializing",
                user_state="listening",
                silence_active=False,
                silence_alerts=0,
                **dict.fromkeys(_COUNTED.values(), 0),
            )
        cls = type(event)
        counter = _COUNTERS[cls]
        if counter is not None:
            row[counter] += 1
        handler = self.handler_for(cls)
        if handler is not None:
            handler(event, row)
        moment, last = occurred(event), row["last_activity_at"]
        if last is None or moment > last:
            row["last_activity_at"] = moment
        row["version"] = event.originator_version
        row["position"] = position
        store.put(CONVERSATIONS, row)

    # Handlers here take the row and change it in place.

    @handles(ev.Opened)
    def on_opened(self, e: Any, row: Row) -> None:
        row["room_name"] = e.room_name
        row["opened_at"] = occurred(e)

    @handles(ev.CallRequested)
    def on_call_requested(self, e: Any, row: Row) -> None:
        row["requested_at"] = row["requested_at"] or occurred(e)
        row["customer_identity"] = e.participant_identity
        row["customer_name"] = e.participant_name
        if row["status"] == "opened":
            row["status"] = "requested"

    @handles(ev.CallStarted)
    def on_call_started(self, e: Any, row: Row) -> None:
        row["started_at"] = occurred(e)
        row["room_sid"] = e.room_sid
        if row["status"] != "ended":
            row["status"] = "active"

    @handles(ev.CallEnded)
    def on_call_ended(self, e: Any, row: Row) -> None:
        row["status"] = "ended"
        row["ended_at"] = occurred(e)
        row["end_reason"] = e.reason
        row["duration_s"] = e.duration_s
        row["silence_active"] = False
        row["silence_since"] = None
        participants = dict(row["participants"])
        for identity, p in participants.items():
            participants[identity] = {**p, "present": False}
        row["participants"] = participants

    @handles(ev.ParticipantJoined)
    def on_participant_joined(self, e: Any, row: Row) -> None:
        p = self._participant(row, e.identity)
        p.update(name=e.name, kind=e.kind, hidden=e.hidden, sid=e.sid)
        p["joined_at"] = _latest_iso(p.get("joined_at"), iso(occurred(e)))
        self._settle(row, e.identity, p)
        if row["status"] in ("opened", "requested"):
            row["status"] = "active"

    @handles(ev.ParticipantLeft)
    def on_participant_left(self, e: Any, row: Row) -> None:
        p = self._participant(row, e.identity)
        p["left_at"] = _latest_iso(p.get("left_at"), iso(occurred(e)))
        self._settle(row, e.identity, p)

    @handles(ev.ParticipantConnectionAborted)
    def on_participant_connection_aborted(self, e: Any, row: Row) -> None:
        p = self._participant(row, e.identity)
        p["left_at"] = _latest_iso(p.get("left_at"), iso(occurred(e)))
        p["aborted"] = True
        self._settle(row, e.identity, p)

    @staticmethod
    def _participant(row: Row, identity: str) -> dict[str, Any]:
        current = row["participants"].get(identity)
        if current is not None:
            return dict(current)
        return {
            "name": "",
            "kind": "other",
            "hidden": False,
            "sid": "",
            "joined_at": None,
            "left_at": None,
            "aborted": False,
        }

    @staticmethod
    def _settle(row: Row, identity: str, p: dict[str, Any]) -> None:
        """Present when the latest join is after the latest departure, whatever the
        order the webhooks arrived in, and never after the call ended."""
        joined, left = p.get("joined_at"), p.get("left_at")
        p["present"] = bool(joined and (left is None or left < joined) and row["status"] != "ended")
        row["participants"] = {**row["participants"], identity: p}

    @handles(ev.UserStateChanged)
    def on_user_state_changed(self, e: Any, row: Row) -> None:
        row["user_state"] = e.new_state

    @handles(ev.AgentStateChanged)
    def on_agent_state_changed(self, e: Any, row: Row) -> None:
        row["agent_state"] = e.new_state

    @handles(ev.SilenceDetected)
    def on_silence_detected(self, e: Any, row: Row) -> None:
        row["silence_active"] = True
        row["silence_alerts"] += 1
        row["silence_since"] = occurred(e) - timedelta(seconds=e.silent_for_s)

    @handles(ev.SilenceEnded)
    def on_silence_ended(self, e: Any, row: Row) -> None:
        row["silence_active"] = False
        row["silence_since"] = None

    @handles(ev.RecordingRequested)
    def on_recording_requested(self, e: Any, row: Row) -> None:
        if row["recording_status"] is None:
            row["recording_status"] = "requested"

    @handles(ev.RecordingStarted, ev.RecordingUpdated)
    def on_recording_going(self, e: Any, row: Row) -> None:
        if row["recording_status"] not in ("completed", "failed"):
            row["recording_status"] = "recording"

    @handles(ev.RecordingCompleted)
    def on_recording_completed(self, e: Any, row: Row) -> None:
        row["recording_status"] = "completed"
        row["recording_bucket"] = e.bucket
        row["recording_key"] = e.object_key

    @handles(ev.RecordingFailed)
    def on_recording_failed(self, e: Any, row: Row) -> None:
        if row["recording_status"] != "completed":
            row["recording_status"] = "failed"

    @handles(ev.TurnLatencyMeasured)
    def on_turn_latency_measured(self, e: Any, row: Row) -> None:
        if e.end_to_end_s is not None:
            row["last_end_to_end_s"] = e.end_to_end_s


def _latest_iso(a: str | None, b: str) -> str:
    return b if a is None or b > a else a
