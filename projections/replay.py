"""Auditor replay: a call's whole timeline, and its state as it was at any instant."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import events as ev
from projections.base import EventTable, occurred
from projections.conversations import CONVERSATIONS
from projections.fold import fold
from projections.jsonable import jsonable
from projections.recordings import RECORDINGS
from projections.redaction import redacted_event
from projections.registry import READ_MODELS
from projections.transcript import TRANSCRIPT_INTERIMS, TRANSCRIPT_LINES

#: The read models a timeline shows (the others are not part of it).
_TIMELINE_MODELS = [READ_MODELS[n] for n in ("conversations", "transcript", "recordings")]

_BASE_FIELDS = ("originator_id", "originator_version", "timestamp", "meta", "originator_topic")


@dataclass(slots=True)
class TimelineEntry:
    position: int
    version: int
    type: str
    recorded_at: datetime
    occurred_at: datetime
    offset_s: float
    source: str
    speaker: str | None
    text: str | None
    data: dict[str, Any]
    correlation_id: str | None
    external_id: str | None


@dataclass(frozen=True)
class Timeline:
    conversation_id: UUID
    room_name: str | None
    at: datetime | None
    entries: list[TimelineEntry]
    state: dict[str, Any] | None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    interims: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    #: Who spoke for the dealership when: [{"from_s", "to_s", "who": "AI"|"supervisor"|"both"}]
    control_spans: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(dataclasses.asdict(self))
        return data


#: Who speaks or acts in an event, for events without a `speaker` field.
_ACTOR: EventTable[Callable[[Any], str]] = EventTable(
    {
        ev.AgentReplied: lambda e: "assistant",
        ev.ListenInStarted: lambda e: str(e.supervisor),
        ev.ListenInEnded: lambda e: str(e.supervisor),
        ev.SupervisorCoached: lambda e: str(e.supervisor),
        ev.SupervisorBargedIn: lambda e: str(e.supervisor),
        ev.SupervisorTookOver: lambda e: str(e.supervisor),
        ev.CallHandedBack: lambda e: str(e.supervisor),
        ev.CallEndedBySupervisor: lambda e: str(e.supervisor),
        ev.HumanRequested: lambda e: "customer",
        ev.ParticipantJoined: lambda e: str(e.identity),
        ev.ParticipantLeft: lambda e: str(e.identity),
        ev.ParticipantConnectionAborted: lambda e: str(e.identity),
    }
)


def _speaker(event: Any) -> str | None:
    if hasattr(event, "speaker"):
        return str(event.speaker)
    actor = _ACTOR[type(event)]
    return None if actor is None else actor(event)


def build_timeline(
    conversation_id: UUID,
    events: list[tuple[int, Any]],
    at: datetime | None = None,
    *,
    revealed: bool = False,
) -> Timeline:
    """Every event in log order; the state folds only the events recorded up to `at`.
    Personal data is redacted unless `revealed` (a recorded, time-limited reveal)."""
    if not revealed:
        events = [(p, redacted_event(e)) for p, e in events]
    if not events:
        return Timeline(conversation_id, None, at, [], None)
    start = events[0][1].timestamp
    base = _BASE_FIELDS
    entry = TimelineEntry
    # Positional arguments and local names: this loop runs once per event of the call.
    entries: list[TimelineEntry] = []
    append = entries.append
    for position, e in events:
        state = e.__dict__
        meta = state.get("meta") or {}
        recorded = state["timestamp"]
        data = state.copy()  # then less the base fields: a third of a comprehension's time
        for name in base:
            data.pop(name, None)
        append(
            entry(
                position,
                state["originator_version"],
                type(e).__name__,
                recorded,
                occurred(e),
                (recorded - start).total_seconds(),
                str(meta.get("source", "")),
                _speaker(e),
                state.get("text"),
                data,
                meta.get("correlation_id"),
                meta.get("external_id"),
            )
        )
    upto = events if at is None else [(p, e) for p, e in events if e.timestamp <= at]
    store = fold(upto, _TIMELINE_MODELS, copies=False, redacted=False)
    state = store.get(CONVERSATIONS, (conversation_id,))
    return Timeline(
        conversation_id=conversation_id,
        room_name=getattr(events[0][1], "room_name", None),
        at=at,
        entries=entries,
        state=state,
        transcript=store.rows(TRANSCRIPT_LINES),
        interims=store.rows(TRANSCRIPT_INTERIMS),
        recordings=store.rows(RECORDINGS),
        control_spans=control_spans(entries),
    )


#: Who speaks for the dealership after each of these events, by the entries' type names
#: (the aggregate's subclasses keep their base's name)
_CONTROL = {
    ev.SupervisorBargedIn.__name__: "both",
    ev.SupervisorTookOver.__name__: "supervisor",
    ev.CallHandedBack.__name__: "AI",
}
_ENDED = ev.CallEnded.__name__


def control_spans(entries: list[TimelineEntry]) -> list[dict[str, Any]]:
    """The call cut into spans of "AI", "supervisor" and "both", in seconds from its start."""
    if not entries:
        return []
    spans: list[dict[str, Any]] = []
    who, since = "AI", 0.0
    end = entries[-1].offset_s
    for entry in entries:
        next_who = _CONTROL.get(entry.type)
        if entry.type == _ENDED:
            end = entry.offset_s
            break
        if next_who is not None and next_who != who:
            spans.append({"from_s": since, "to_s": entry.offset_s, "who": who})
            who, since = next_who, entry.offset_s
    spans.append({"from_s": since, "to_s": max(end, since), "who": who})
    return [s for s in spans if s["to_s"] > s["from_s"] or len(spans) == 1]


def resolve_conversation(app: Any, conversation_or_room: str) -> UUID:
    """Accept a conversation id or a LiveKit room name."""
    from domain.ids import conversation_id_for_room

    try:
        return UUID(conversation_or_room)
    except ValueError:
        return conversation_id_for_room(conversation_or_room)


def replay(
    app: Any, conversation_or_room: str, at: datetime | None = None, *, revealed: bool = False
) -> Timeline:
    """The auditor's API: the timeline of a call from the event store itself (redacted
    unless `revealed`)."""
    conversation_id = resolve_conversation(app, conversation_or_room)
    with _collector_paused():
        events = app.events_of(conversation_id)
        return build_timeline(conversation_id, events, at, revealed=revealed)


_paused = 0
_paused_lock = threading.Lock()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Build a call's objects (tens of thousands, none in a cycle) without the cyclic
    garbage collector scanning them again and again: it doubled replay's time. Counted,
    so concurrent replays leave it as they found it.

    When it is turned back on, the objects are moved to the oldest generation
    (`freeze` then `unfreeze`, no scan) instead of being scanned by the first young
    collection after (a tenth of replay's time). They are freed by reference counting
    as usual; other young objects of the process wait for the next full collection.
    Not done when someone else has frozen objects (`unfreeze` would undo it)."""
    global _paused
    with _paused_lock:
        ours = _paused > 0 or gc.isenabled()  # if someone else turned it off, leave it
        if ours:
            _paused += 1
            gc.disable()
    if not ours:
        yield
        return
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
