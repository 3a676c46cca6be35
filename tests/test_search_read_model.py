"""The search read model on the real PostgreSQL: a GIN-indexed document per final line,
the line's offset from the call's start, and the call's outcomes and lowest confidence."""

from __future__ import annotations

import psycopg

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from domain import commands as c
from domain.ids import conversation_id_for_room
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from projections.search import outcomes_of
from projections.worker import EventSource
from tests.factories import meta

ROOM = "call-search-rm"


def test_lines_are_indexed_with_their_offset(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    app.record(c.RequestCall(room_name=ROOM, meta=meta("api", at=0), participant_identity="cust-1"))
    for at, text, confidence in [(4, "I want a trade-in quote", 0.7), (9, "for my red Civic", 0.4)]:
        app.record(
            c.RecordFinalTranscript(
                room_name=ROOM,
                meta=meta(at=at),
                speaker="customer",
                text=text,
                confidence=confidence,
            )
        )
    app.record(
        c.RequestCallback(
            room_name=ROOM,
            meta=meta(at=12),
            callback_id="cb-1",
            customer_name="Ann",
            phone="5550100",
        )
    )
    app.record(c.RequestHuman(room_name=ROOM, meta=meta(at=14), utterance="a person please"))
    app.record(c.EndCall(room_name=ROOM, meta=meta("webhook", "EV_END", at=20), reason="done"))
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    rebuild(db.conninfo, source, READ_MODELS["search"])
    cid = conversation_id_for_room(ROOM)
    with psycopg.connect(db.conninfo) as conn:
        hits = conn.execute(
            "SELECT offset_s, text FROM search_lines WHERE conversation_id = %s"
            " AND document @@ websearch_to_tsquery('english', %s)",
            (cid, "civics"),  # stemmed: the plural finds the singular
        ).fetchall()
        assert hits == [(9.0, "for my red Civic")]
        call = conn.execute(
            "SELECT callbacks, bookings, min_confidence, customer_finals, escalations"
            " FROM search_calls WHERE conversation_id = %s",
            (cid,),
        ).fetchone()
        assert call == (1, 0, 0.4, 2, 1)  # the caller asked for a person: escalated
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'search_lines_g%%_i0'"
        ).fetchone()
        assert index is not None and "USING gin (document)" in index[0]


def test_outcomes_of_a_call() -> None:
    counts = {"bookings": 1, "vehicles_found": 2, "callbacks": 0, "escalations": 0}
    assert outcomes_of(counts, ended=True) == ["booking", "vehicle_found"]
    nothing = dict.fromkeys(counts, 0)
    assert outcomes_of(nothing, ended=True) == ["abandoned"]
    assert outcomes_of(nothing, ended=False) == []
