"""Erasing a conversation's personal data (crypto-shredding), or only its audio.

The order makes an interrupted erasure safe to resume: the request is recorded first,
then the key is shredded and the recordings deleted (each step idempotent), then the
read models are rebuilt from the log (where the sealed fields now read `[erased]`), and
only then is the erasure recorded as completed. `resume()` finishes any erasure whose
request has no completion.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

import phonenumbers
from eventsourcing.application import AggregateNotFoundError

from adapters.call_center import GroupCommitCallCenter
from adapters.pii import find_pii, spoken_digits
from adapters.storage import RecordingStore
from domain import commands as c
from domain import events as ev
from domain.errors import DomainError
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta

log = logging.getLogger(__name__)

#: Events whose fields may hold the caller's phone number.
_PHONE_BEARING = (ev.TestDriveBooked, ev.CallbackRequested, ev.FinalTranscriptRecorded)


class ConversationNotFound(Exception):
    pass


class ErasureRefused(Exception):
    """The domain's rules refused it (the call is still going on)."""


@dataclass(frozen=True)
class Erased:
    conversation_id: UUID
    room_name: str
    status: str  # "erased" | "already_erased"
    recordings_deleted: int


def conversation_id_of(target: str) -> UUID:
    """A conversation id, or the id of the room so named."""
    try:
        return UUID(target)
    except ValueError:
        return conversation_id_for_room(target)


def phone_digits(number: str, region: str = "US") -> str | None:
    """A phone number in E.164, or None when it is not one."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class Erasure:
    """The erasure use cases every entry point calls (CLI, admin API, retention)."""

    def __init__(
        self,
        app: GroupCommitCallCenter,
        recordings: RecordingStore | None,
        rebuild_read_models: Callable[[], None],
    ) -> None:
        self.app = app
        self.recordings = recordings
        self.rebuild_read_models = rebuild_read_models

    def _meta(self, requested_by: str) -> EventMeta:
        return EventMeta(source="system" if requested_by == "retention" else "api")

    def _room_of(self, conversation_id: UUID) -> str:
        try:
            return self.app.conversation(conversation_id).room_name
        except AggregateNotFoundError:
            raise ConversationNotFound(f"no conversation {conversation_id}") from None

    def request(self, conversation_id: UUID, requested_by: str, reason: str, scope: str) -> bool:
        """Record the request (refused while the call goes on); False if one was already
        asked for (under way or done)."""
        try:
            conversation = self.app.conversation(conversation_id)
        except AggregateNotFoundError:
            raise ConversationNotFound(f"no conversation {conversation_id}") from None
        if conversation.erasure_state(scope) is not None:
            return False
        command = c.RequestErasure(
            room_name=conversation.room_name,
            meta=self._meta(requested_by),
            requested_by=requested_by,
            reason=reason,
            scope=scope,
        )
        try:
            self.app.record(command)
        except DomainError as e:
            raise ErasureRefused(str(e)) from e
        return True

    def erase(self, conversation_id: UUID, requested_by: str, reason: str) -> Erased:
        """Erase one conversation's personal data and recordings, and wait for it."""
        return self.erase_many([conversation_id], requested_by, reason)[0]

    def erase_many(
        self,
        conversation_ids: Sequence[UUID],
        requested_by: str,
        reason: str,
        scope: str = "all",
        progress: Callable[[str], None] | None = None,
    ) -> list[Erased]:
        """Erase several with one rebuild of the read models."""
        rooms = {cid: self._room_of(cid) for cid in conversation_ids}
        done_before = {
            cid for cid in rooms if self.app.conversation(cid).erasure_state(scope) == "completed"
        }
        for cid in rooms:
            if cid not in done_before:
                self.request(cid, requested_by, reason, scope)
        return self._carry_out(
            [cid for cid in rooms if cid not in done_before], scope, progress
        ) + [Erased(cid, rooms[cid], "already_erased", 0) for cid in done_before]

    def resume_one(self, conversation_id: UUID, scope: str) -> Erased:
        """Carry out one conversation's requested erasure (again, if interrupted)."""
        conversation = self.app.conversation(conversation_id)
        if conversation.erasure_state(scope) == "completed":
            return Erased(conversation_id, conversation.room_name, "already_erased", 0)
        return self._carry_out([conversation_id], scope, None)[0]

    def resume(self, progress: Callable[[str], None] | None = None) -> list[Erased]:
        """Finish every erasure that was asked for and not completed."""
        out: list[Erased] = []
        for scope, ids in self.pending().items():
            out += self._carry_out(ids, scope, progress)
        return out

    def pending(self) -> dict[str, list[UUID]]:
        """Conversations with an erasure requested and not completed, by scope."""
        found: dict[str, list[UUID]] = {}
        for cid in self.requested():
            conversation = self.app.conversation(cid)
            for scope, state in conversation.erasures.items():
                if state == "requested":
                    found.setdefault(scope, []).append(cid)
        return found

    def requested(self) -> list[UUID]:
        """Conversations with any erasure asked for."""
        topic = "domain.erasure:ErasurePart.ErasureRequested"
        return self._originators_with(topic)

    def _originators_with(self, topic: str) -> list[UUID]:
        recorder = self.app.recorder
        table = recorder.events_table_name  # type: ignore[attr-defined]
        with recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(
                f"SELECT DISTINCT originator_id FROM {table} WHERE topic = %s",  # noqa: S608
                (topic,),
            ).fetchall()
        return [row["originator_id"] if isinstance(row, dict) else row[0] for row in rows]

    def _carry_out(
        self, ids: list[UUID], scope: str, progress: Callable[[str], None] | None
    ) -> list[Erased]:
        say = progress or (lambda _: None)
        deleted: dict[UUID, int] = {}
        for cid in ids:
            if scope == "all":
                self.app.shred_key(cid)
            deleted[cid] = self.recordings.delete_conversation(str(cid)) if self.recordings else 0
            say(f"{cid}: key shredded, {deleted[cid]} recording(s) deleted")
        if ids and scope == "all":
            say("rebuilding the read models without the erased data")
            self.rebuild_read_models()
        out = []
        for cid in ids:
            conversation = self.app.conversation(cid)
            requested = _requested_by(self.app, cid, scope)
            try:
                self.app.record(
                    c.CompleteErasure(
                        room_name=conversation.room_name,
                        meta=self._meta(requested),
                        requested_by=requested,
                        scope=scope,
                        recordings_deleted=deleted[cid],
                    )
                )
            except DomainError:  # completed meanwhile by another process
                pass
            log.info("conversation %s: erasure (%s) completed", cid, scope)
            out.append(Erased(cid, conversation.room_name, "erased", deleted[cid]))
        return out

    # --- finding a caller's calls -------------------------------------------------------

    def conversations_with_phone(self, number: str) -> list[UUID]:
        """The conversations whose bookings, callbacks or caller's words hold this phone
        number (read through their keys: an erased one no longer matches)."""
        wanted = phone_digits(number)
        if wanted is None:
            raise ValueError(f"{number!r} is not a phone number")
        topics = [f"{cls.__module__}:{cls.__qualname__}" for cls in _phone_topics()]
        ids: set[UUID] = set()
        for topic in topics:
            ids.update(self._originators_with(topic))
        return sorted(
            (cid for cid in ids if wanted in _phones_in(self.app, cid)), key=lambda u: u.hex
        )


def _phone_topics() -> Iterable[type]:
    from domain.activity import ActivityPart
    from domain.speech import SpeechPart

    return (
        ActivityPart.TestDriveBooked,
        ActivityPart.CallbackRequested,
        SpeechPart.FinalTranscriptRecorded,
    )


def _phones_in(app: GroupCommitCallCenter, conversation_id: UUID) -> set[str]:
    found: set[str] = set()
    for _, e in app.events_of(conversation_id):
        if isinstance(e, ev.TestDriveBooked | ev.CallbackRequested):
            texts = [e.phone]
        elif isinstance(e, ev.FinalTranscriptRecorded) and e.speaker == "customer":
            texts = [spoken_digits(m.text) for m in find_pii(e.text) if m.kind == "phone"]
        else:
            continue
        for text in texts:
            digits = phone_digits(text)
            if digits is not None:
                found.add(digits)
    return found


def _requested_by(app: GroupCommitCallCenter, conversation_id: UUID, scope: str) -> str:
    who = "unknown"
    for _, e in app.events_of(conversation_id):
        if isinstance(e, ev.ErasureRequested) and e.scope == scope:
            who = e.requested_by
    return who
