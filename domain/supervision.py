"""Supervisors acting on a live call: coaching the AI, barging in, taking over, handing
back, ending it; and the caller asking for a person. Each act is recorded before it
takes effect, naming who did it."""

from __future__ import annotations

from domain import events as ev
from domain import rules
from domain.conversation_state import ConversationState
from domain.errors import CallAlreadyEnded, InvalidTransition
from domain.meta import EventMeta

#: Who speaks for the dealership: the AI alone, the AI with a supervisor in ("barge"), or
#: the supervisor alone ("takeover")
CONTROLS = ("ai", "barge", "takeover")
MAX_COACHING = 500


class SupervisionPart(ConversationState):
    class SupervisorCoached(ev.SupervisorCoached):
        def apply(self, c: ConversationState) -> None:
            c.coaching_count = self.position

    class SupervisorBargedIn(ev.SupervisorBargedIn):
        def apply(self, c: ConversationState) -> None:
            c.control = "barge"
            c.controller = self.supervisor

    class SupervisorTookOver(ev.SupervisorTookOver):
        def apply(self, c: ConversationState) -> None:
            c.control = "takeover"
            c.controller = self.supervisor
            c.human_requested = False

    class CallHandedBack(ev.CallHandedBack):
        def apply(self, c: ConversationState) -> None:
            c.control = "ai"
            c.controller = None

    class CallEndedBySupervisor(ev.CallEndedBySupervisor):
        def apply(self, c: ConversationState) -> None:
            c.ending = True  # the agent says goodbye and leaves: not a lost agent

    class HumanRequested(ev.HumanRequested):
        def apply(self, c: ConversationState) -> None:
            if c.control == "ai":
                c.human_requested = True

    class EscalationExpired(ev.EscalationExpired):
        def apply(self, c: ConversationState) -> None:
            c.human_requested = False

    def _require_live(self, meta: EventMeta) -> None:
        if self.is_ended:
            raise CallAlreadyEnded(f"call in room {self.room_name!r} has ended")
        self._require_open(meta)

    def coach(self, supervisor: str, text: str, meta: EventMeta) -> None:
        rules.text(supervisor, "supervisor")
        rules.text(text, "coaching", limit=MAX_COACHING)
        self._require_live(meta)
        self._record(
            SupervisionPart.SupervisorCoached, meta, supervisor, text, self.coaching_count + 1
        )

    def barge_in(self, supervisor: str, participant_identity: str, meta: EventMeta) -> None:
        rules.text(supervisor, "supervisor")
        rules.text(participant_identity, "participant identity")
        self._require_live(meta)
        self._require_no_other(supervisor)
        if self.control == "barge":
            raise InvalidTransition(f"{self.controller} is already in the call")
        self._record(SupervisionPart.SupervisorBargedIn, meta, supervisor, participant_identity)

    def take_over(
        self, supervisor: str, participant_identity: str, via: str, meta: EventMeta
    ) -> None:
        rules.text(supervisor, "supervisor")
        rules.text(participant_identity, "participant identity")
        rules.one_of(via, ("takeover", "escalation"), "via")
        self._require_live(meta)
        self._require_no_other(supervisor)
        if self.control == "takeover":
            raise InvalidTransition(f"{self.controller} has already taken this call over")
        if via == "escalation" and not self.human_requested:
            raise InvalidTransition("the caller has not asked for a person, or was answered")
        self._record(
            SupervisionPart.SupervisorTookOver, meta, supervisor, participant_identity, via
        )

    def hand_back(self, supervisor: str, reason: str, meta: EventMeta) -> None:
        rules.text(supervisor, "supervisor")
        rules.one_of(reason, ("supervisor", "supervisor_left"), "reason")
        self._require_live(meta)
        if self.control == "ai":
            raise InvalidTransition("the AI has the call: there is nothing to hand back")
        self._record(SupervisionPart.CallHandedBack, meta, supervisor, reason)

    def end_by_supervisor(self, supervisor: str, meta: EventMeta) -> None:
        rules.text(supervisor, "supervisor")
        self._require_live(meta)
        self._record(SupervisionPart.CallEndedBySupervisor, meta, supervisor)

    def request_human(self, utterance: str, meta: EventMeta) -> None:
        rules.text(utterance, "utterance", limit=rules.MAX_TEXT)
        self._require_live(meta)
        if self.human_requested or self.control == "takeover":
            raise InvalidTransition("a person has already been asked for, or is on the call")
        self._record(SupervisionPart.HumanRequested, meta, utterance)

    def expire_escalation(self, waited_s: float, meta: EventMeta) -> None:
        rules.non_negative(waited_s, "wait")
        self._require_live(meta)
        if not self.human_requested:
            raise InvalidTransition("nobody is waiting for a person on this call")
        self._record(SupervisionPart.EscalationExpired, meta, float(waited_s))

    def _require_no_other(self, supervisor: str) -> None:
        if self.control != "ai" and self.controller != supervisor:
            raise InvalidTransition(f"{self.controller} is already acting on this call")
