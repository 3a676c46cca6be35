"""A refusal is never decided on a guess: a writer that has not cached a conversation
plans as if it were new, and must ask the store before it refuses a command there."""

from __future__ import annotations

from adapters.call_center import GroupCommitCallCenter as CallCenter
from domain import commands as c
from domain.errors import CallAlreadyEnded
from domain.ids import conversation_id_for_room
from tests.factories import meta

ROOM = "call-uncached"


def test_an_uncached_conversation_is_read_before_a_command_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    web, agent = CallCenter(env=db.eventsourcing_env()), CallCenter(env=db.eventsourcing_env())
    try:
        web.record(c.RequestCall(room_name=ROOM, meta=meta("api"), participant_identity="cust-1"))
        agent.record(c.JoinParticipant(room_name=ROOM, meta=meta("agent"), identity="cust-1"))
        web._cache.clear()  # as after a batch planned ahead did not commit
        # Valid only given what is stored: planned on a new conversation it would be refused.
        web.record(
            c.ReconnectCaller(room_name=ROOM, meta=meta("api"), participant_identity="cust-1")
        )
        agent.record(c.EndCall(room_name=ROOM, meta=meta("agent"), reason="customer_left"))
        web._cache.clear()
        refused = web.record_many(
            [c.ReconnectCaller(room_name=ROOM, meta=meta("api"), participant_identity="cust-1")]
        )[0]
        assert isinstance(refused.error, CallAlreadyEnded)  # refused for the true reason
        kinds = [type(e).__name__ for _, e in web.log_of(conversation_id_for_room(ROOM))]
        assert kinds == [
            "Opened",
            "CallRequested",
            "ParticipantJoined",
            "CallerReconnected",
            "CallEnded",
        ]
    finally:
        web.close()
        agent.close()


def test_a_conversation_cached_before_another_writer_moved_it_is_read_before_a_refusal(db) -> None:  # type: ignore[no-untyped-def]
    web, agent = CallCenter(env=db.eventsourcing_env()), CallCenter(env=db.eventsourcing_env())
    room = "call-cached-stale"
    try:
        web.record(c.RequestCall(room_name=room, meta=meta("api"), participant_identity="cust-1"))
        # the agent records the caller asking for a person; the web process's cached copy
        # of the conversation does not have it
        agent.record(
            c.RequestHuman(room_name=room, meta=meta("agent"), utterance="a person please")
        )
        accepted = web.record_many(
            [
                c.TakeOver(
                    room_name=room,
                    meta=meta("api"),
                    supervisor="sue",
                    participant_identity="supervisor-sue-1",
                    via="escalation",
                )
            ]
        )[0]
        assert accepted.error is None and accepted.status == "recorded"
        kinds = [type(e).__name__ for _, e in web.log_of(conversation_id_for_room(room))]
        assert kinds == ["Opened", "CallRequested", "HumanRequested", "SupervisorTookOver"]
    finally:
        web.close()
        agent.close()
