"""Erasure and reveal: a conversation's personal data, or only its audio, is made
unreadable for good; or one person is shown it for a while, on the record.

The events say who asked and why, never what was erased. A call still going on cannot be
erased (its agent would go on recording). An erasure under way is resumed, not asked for
again; asking for one already done records nothing.
"""

from __future__ import annotations

from datetime import datetime

from domain import events as ev
from domain import rules
from domain.conversation_state import ConversationState
from domain.errors import InvalidCommand, InvalidTransition
from domain.meta import EventMeta

SCOPES = ("all", "recordings")


class ErasurePart(ConversationState):
    class ErasureRequested(ev.ErasureRequested):
        def apply(self, c: ConversationState) -> None:
            c.erasures[self.scope] = "requested"

    class ErasureCompleted(ev.ErasureCompleted):
        def apply(self, c: ConversationState) -> None:
            c.erasures[self.scope] = "completed"

    class PersonalDataRevealed(ev.PersonalDataRevealed):
        def apply(self, c: ConversationState) -> None:
            c.reveals.append((self.revealed_by, self.until))

    def reveal(self, revealed_by: str, reason: str, until: str, meta: EventMeta) -> None:
        """Show `revealed_by` this call's personal data until `until`, an ISO time with
        its zone (the reason is kept)."""
        rules.text(revealed_by, "revealed by")
        rules.text(reason, "reason", limit=500)
        try:
            ends = datetime.fromisoformat(until)
        except (TypeError, ValueError):
            raise InvalidCommand("until must be an ISO 8601 time") from None
        if ends.tzinfo is None:
            raise InvalidCommand("until must name its time zone")
        if ends <= meta.occurred_at:
            raise InvalidCommand("a reveal must end after it begins")
        if self.erasures.get("all") is not None:
            raise InvalidTransition(f"the call in room {self.room_name!r} was erased")
        self._record(ErasurePart.PersonalDataRevealed, meta, revealed_by, reason, until)

    def revealed_to(self, who: str, now: datetime) -> datetime | None:
        """Until when `who` may see this call's personal data (None: not now)."""
        if self.erasures.get("all") is not None:
            return None
        ends = [datetime.fromisoformat(u) for w, u in self.reveals if w == who]
        live = [u for u in ends if u > now]
        return max(live) if live else None

    def erasure_state(self, scope: str = "all") -> str | None:
        """None, "requested" (under way, or interrupted) or "completed"."""
        return self.erasures.get(scope)

    def request_erasure(self, requested_by: str, reason: str, scope: str, meta: EventMeta) -> None:
        rules.text(requested_by, "requested by")
        rules.text(reason, "reason", limit=rules.MAX_TEXT)
        if scope not in SCOPES:
            raise InvalidCommand(f"scope must be one of {', '.join(SCOPES)}")
        if self.ended_at is None and self.status == "active":
            raise InvalidTransition(
                f"the call in room {self.room_name!r} is still going on; end it before erasing"
            )
        if self.erasures.get(scope) is not None:
            raise InvalidTransition(
                f"an erasure ({scope}) of room {self.room_name!r} was already asked for"
            )
        self._record(ErasurePart.ErasureRequested, meta, requested_by, reason, scope)

    def complete_erasure(
        self, requested_by: str, scope: str, recordings_deleted: int, meta: EventMeta
    ) -> None:
        rules.text(requested_by, "requested by")
        rules.non_negative(recordings_deleted, "recordings deleted")
        if self.erasures.get(scope) != "requested":
            raise InvalidTransition(f"no erasure ({scope}) is under way for {self.room_name!r}")
        self._record(
            ErasurePart.ErasureCompleted, meta, requested_by, scope, int(recordings_deleted)
        )
