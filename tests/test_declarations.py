"""Each fact is declared once; these tests tie together the places that refer to it.

- A command's fields are the arguments of the aggregate method it names.
- Every event is stored as existing databases hold it: same topic, fields, class version.
- An event carries its command's values, each in the field of the same name.
- Stored events rebuild the state the commands made.
- The read side names events only by the classes of `domain/events.py`: handlers and tables
  keyed by event refuse anything else, and the browser's names for timeline entries exist.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from apps.web import messages
from domain import commands as c
from domain import events as ev
from domain.application import CallCenter
from domain.conversation import Conversation
from projections import conversations, replay
from projections.base import EventTable, ReadModel, handles, is_declared_event
from projections.registry import READ_MODELS
from projections.store import RowStore
from tests.factories import conversations_of_every_kind, every_kind_of_command

COMMANDS = [cls for cls in vars(c).values() if isinstance(cls, type) and cls.__base__ is c.Command]

#: What databases hold: topic -> (class version, fields besides `meta`). A change here
#: breaks the replay of stored calls, unless it comes with an upcast.
STORED: dict[str, tuple[int, tuple[str, ...]]] = {
    "domain.conversation:Conversation.Opened": (1, ("originator_topic", "room_name")),
    "domain.conversation:Conversation.CallRequested": (
        1,
        ("participant_identity", "participant_name"),
    ),
    "domain.conversation:Conversation.CallRequestRefused": (
        1,
        ("client_address", "participant_name", "reason"),
    ),
    "domain.conversation:Conversation.CallerReconnected": (1, ("participant_identity",)),
    "domain.conversation:Conversation.CallStarted": (1, ("room_sid",)),
    "domain.conversation:Conversation.CallEnded": (1, ("duration_s", "reason")),
    "domain.conversation:Conversation.RoomFinished": (1, ()),
    "domain.conversation:Conversation.AgentSessionClosed": (1, ("reason",)),
    "domain.conversation:Conversation.CallSummarised": (1, ("model", "text")),
    "domain.conversation:Conversation.ParticipantJoined": (
        1,
        ("hidden", "identity", "kind", "name", "sid"),
    ),
    "domain.conversation:Conversation.ParticipantLeft": (1, ("identity", "sid")),
    "domain.conversation:Conversation.ParticipantConnectionAborted": (1, ("identity", "sid")),
    "domain.conversation:Conversation.TrackPublished": (
        1,
        ("identity", "kind", "source", "track_sid"),
    ),
    "domain.conversation:Conversation.TrackUnpublished": (1, ("identity", "track_sid")),
    "domain.speech:SpeechPart.InterimTranscriptRecorded": (
        1,
        ("confidence", "segment_id", "speaker", "text"),
    ),
    "domain.speech:SpeechPart.FinalTranscriptRecorded": (
        2,
        (
            "class_version",
            "confidence",
            "end_time",
            "language",
            "segment_id",
            "speaker",
            "start_time",
            "text",
        ),
    ),
    "domain.speech:SpeechPart.AgentReplied": (1, ("interrupted", "text")),
    "domain.speech:SpeechPart.UserStateChanged": (1, ("new_state", "old_state")),
    "domain.speech:SpeechPart.AgentStateChanged": (1, ("new_state", "old_state")),
    "domain.activity:ActivityPart.VehicleLookedUp": (
        2,
        (
            "channel",
            "check_digit_valid",
            "class_version",
            "decoded",
            "found",
            "vehicle",
            "vin",
            "vin_as_said",
        ),
    ),
    "domain.activity:ActivityPart.ToolCalled": (
        1,
        ("arguments", "call_id", "error", "name", "result"),
    ),
    "domain.activity:ActivityPart.TestDriveBooked": (
        1,
        ("booking_id", "customer_name", "phone", "preferred_time", "vin"),
    ),
    "domain.activity:ActivityPart.CallbackRequested": (
        1,
        ("callback_id", "customer_name", "phone", "preferred_time", "topic"),
    ),
    "domain.recording:RecordingPart.RecordingRequested": (1, ("mode", "recording_id")),
    "domain.recording:RecordingPart.RecordingStarted": (1, ("egress_id", "recording_id")),
    "domain.recording:RecordingPart.RecordingUpdated": (1, ("recording_id", "status")),
    "domain.recording:RecordingPart.RecordingCompleted": (
        1,
        ("bucket", "content_type", "duration_s", "object_key", "recording_id", "size_bytes"),
    ),
    "domain.recording:RecordingPart.RecordingFailed": (1, ("reason", "recording_id")),
    "domain.monitoring:MonitoringPart.SilenceDetected": (1, ("silent_for_s",)),
    "domain.monitoring:MonitoringPart.SilenceEnded": (1, ("silent_for_s",)),
    "domain.monitoring:MonitoringPart.ListenInStarted": (1, ("listen_id", "supervisor")),
    "domain.monitoring:MonitoringPart.ListenInEnded": (1, ("listen_id", "supervisor")),
    "domain.monitoring:MonitoringPart.TurnLatencyMeasured": (
        1,
        ("end_of_utterance_delay_s", "end_to_end_s", "llm_ttft_s", "speech_id", "tts_ttfb_s"),
    ),
    "domain.monitoring:MonitoringPart.ErrorReported": (
        1,
        ("component", "message", "recoverable"),
    ),
    "domain.erasure:ErasurePart.ErasureRequested": (1, ("reason", "requested_by", "scope")),
    "domain.erasure:ErasurePart.ErasureCompleted": (
        1,
        ("recordings_deleted", "requested_by", "scope"),
    ),
    "domain.erasure:ErasurePart.PersonalDataRevealed": (1, ("reason", "revealed_by", "until")),
    "domain.supervision:SupervisionPart.SupervisorCoached": (
        1,
        ("position", "supervisor", "text"),
    ),
    "domain.supervision:SupervisionPart.SupervisorBargedIn": (
        1,
        ("participant_identity", "supervisor"),
    ),
    "domain.supervision:SupervisionPart.SupervisorTookOver": (
        1,
        ("participant_identity", "supervisor", "via"),
    ),
    "domain.supervision:SupervisionPart.CallHandedBack": (1, ("reason", "supervisor")),
    "domain.supervision:SupervisionPart.CallEndedBySupervisor": (1, ("supervisor",)),
    "domain.supervision:SupervisionPart.HumanRequested": (1, ("utterance",)),
    "domain.supervision:SupervisionPart.EscalationExpired": (1, ("waited_s",)),
}

ROOM = "declared"


def _conversations() -> dict[str, Conversation]:
    return conversations_of_every_kind(ROOM)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda cls: cls.__name__)
def test_a_commands_fields_are_its_methods_arguments(command: type[c.Command]) -> None:
    params = inspect.signature(command.method).parameters
    arguments = {f.name for f in fields(command)} - {"room_name"}
    assert set(params) - {"self"} == arguments


def test_every_event_is_stored_as_databases_hold_it() -> None:
    mapper = CallCenter(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    seen: dict[str, tuple[int, tuple[str, ...]]] = {}
    for conversation in _conversations().values():
        for event in conversation.collect_events():
            stored = mapper.to_stored_event(event)
            state = json.loads(stored.state)
            assert set(state["meta"]) == {"source", "correlation_id", "external_id", "occurred_at"}
            names = tuple(sorted(set(state) - {"meta", "timestamp"}))
            seen[stored.topic] = (getattr(type(event), "class_version", 1), names)
    assert seen == STORED


def test_an_event_carries_its_commands_values_in_the_fields_of_the_same_name() -> None:
    made: dict[str, Conversation] = {}
    compared = set()
    for command in every_kind_of_command(ROOM):
        conversation = made.get(command.room_name) or Conversation.open(
            command.room_name, command.meta
        )
        made[command.room_name] = conversation
        conversation.collect_events()
        command.apply(conversation)
        values = {f.name: getattr(command, f.name) for f in fields(command)}
        for event in conversation.collect_events():
            for name, value in vars(event).items():
                if name != "meta" and values.get(name) is not None:
                    assert value == values[name], (type(command).__name__, name)
                    compared.add(name)
    assert len(compared) > 40


def test_stored_events_rebuild_the_state_the_commands_made() -> None:
    mapper = CallCenter(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    for conversation in _conversations().values():
        rebuilt: Any = None
        for event in conversation.collect_events():
            stored: Any = mapper.to_domain_event(mapper.to_stored_event(event))
            rebuilt = stored.mutate(rebuilt)
        assert vars(rebuilt) == vars(conversation) | {"_pending_events": []}
    one = _conversations()[ROOM]
    assert one.recordings == {"r1": "completed", "r2": "failed"}
    assert one.listen_ins == {"l2": "sup"}
    assert one.participants == {
        "cust": {"kind": "customer", "present": False},
        "sup": {"kind": "supervisor", "present": False},
    }
    assert (one.status, one.user_state, one.agent_state) == ("ended", "speaking", "thinking")


DECLARED = {
    cls for cls in vars(ev).values() if isinstance(cls, type) and is_declared_event(cls)
} - {ev.ConversationEvent}
#: Every table keyed by event outside the read models' handlers.
TABLES: list[EventTable[Any]] = [
    conversations._COUNTERS,
    messages._CHANGE,
    messages._DASHBOARD_UPDATES,
    messages._RECORDING,
    messages._SILENCE_ACTIVE,
    messages._CALL,
    replay._ACTOR,
]


def test_the_read_side_names_only_declared_events() -> None:
    assert len(DECLARED) == len(STORED)  # every event class is stored by some part
    for model in READ_MODELS.values():
        assert type(model).handlers.declared, model.name
        assert type(model).handlers.declared <= DECLARED, model.name
    for table in TABLES:
        assert table.declared and table.declared <= DECLARED


def test_naming_an_event_that_is_not_declared_fails() -> None:
    class Undeclared(ev.ConversationEvent):
        pass

    with pytest.raises(TypeError, match="not an event class of domain/events.py"):
        EventTable({Undeclared: 1})
    with pytest.raises(TypeError, match="not an event class of domain/events.py"):
        EventTable({Conversation.CallEnded: 1})  # a stored subclass, not the declaration
    with pytest.raises(TypeError, match="not an event class of domain/events.py"):

        class _Model(ReadModel):
            @handles(Undeclared)
            def on_undeclared(self, e: Any, position: int, store: RowStore) -> None:
                pass


def test_a_table_answers_for_the_classes_the_parts_store() -> None:
    table = EventTable({ev.RecordingCompleted: "done", ev.CallEnded: "ended"})
    stored = {type(e) for c in _conversations().values() for e in c.collect_events()}
    assert len(stored) == len(DECLARED) and not stored & DECLARED  # the parts' subclasses
    expected = {ev.RecordingCompleted: "done", ev.CallEnded: "ended"}
    for cls in stored:
        assert table[cls] == next((v for k, v in expected.items() if issubclass(cls, k)), None)
    assert table[Conversation.RecordingCompleted] == "done"  # topics of other shapes too


def test_the_browsers_names_for_timeline_entries_are_declared_events() -> None:
    """The timeline's `type` is the event's class name; the browser code switches on it."""
    root = Path(__file__).resolve().parents[1] / "web" / "src"
    names = {
        m.group(1)
        for path in root.rglob("*.js")
        for m in re.finditer(r"(?:case|type ===) '([A-Z][A-Za-z]+)'", path.read_text())
    }
    assert names, "no timeline entry names found in web/src"
    assert names <= {cls.__name__ for cls in DECLARED}
