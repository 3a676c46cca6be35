"""Revealing one call's personal data to one person, for a stated reason and a while:
recorded as `PersonalDataRevealed` before anything is shown, and checked against the log
on every read (so every web process honours it, and it ends on time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from adapters.call_center import GroupCommitCallCenter
from apps.usecases.erasure import ConversationNotFound
from domain import commands as c
from domain.conversation import Conversation
from domain.errors import DomainError
from domain.meta import EventMeta, utcnow
from projections.replay import Timeline, replay


class RevealRefused(Exception):
    """The rules refused the reveal (an erased call, a bad reason)."""


class NotRevealed(Exception):
    """No live reveal of this call to this person."""


class Reveals:
    def __init__(self, app: GroupCommitCallCenter, minutes: int) -> None:
        self.app = app
        self.duration = timedelta(minutes=minutes)

    def _conversation(self, conversation_id: UUID) -> Conversation:
        try:
            return self.app.conversation(conversation_id)
        except AggregateNotFoundError:
            raise ConversationNotFound(f"no conversation {conversation_id}") from None

    def reveal(self, conversation_id: UUID, revealed_by: str, reason: str) -> datetime:
        """Record the reveal; until when it lasts."""
        conversation = self._conversation(conversation_id)
        meta = EventMeta(source="api", correlation_id=revealed_by)
        until = meta.occurred_at + self.duration
        try:
            self.app.record(
                c.RevealPersonalData(
                    room_name=conversation.room_name,
                    meta=meta,
                    revealed_by=revealed_by,
                    reason=reason,
                    until=until.isoformat(),
                )
            )
        except DomainError as e:
            raise RevealRefused(str(e)) from e
        return until

    def timeline(
        self, conversation_id: UUID, who: str, at: datetime | None = None
    ) -> tuple[Timeline, datetime]:
        """The call's timeline as said, and until when, for someone with a live reveal."""
        until = self._conversation(conversation_id).revealed_to(who, utcnow())
        if until is None:
            raise NotRevealed(f"no live reveal of {conversation_id} to {who}")
        return replay(self.app, str(conversation_id), at, revealed=True), until
