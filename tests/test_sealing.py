"""Sealing personal data with per-conversation keys: what is stored, what a shredded,
missing or wrong key reads as, and that no key ever reaches a log."""

from __future__ import annotations

import logging
import os

import psycopg
import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from adapters.postgres.hashchain import verify_chains
from adapters.sealing import SEALED
from domain import commands as c
from domain import events as ev
from domain.ids import conversation_id_for_room
from domain.privacy import ERASED, ERASED_MAPPING, UNREADABLE
from tests.factories import every_kind_of_command, meta

ROOM = "call-sealed"
CID = conversation_id_for_room(ROOM)


def _record_call(app: GroupCommitCallCenter) -> None:
    app.record(
        c.RequestCall(
            room_name=ROOM, meta=meta(), participant_identity="cust", participant_name="Ada Byron"
        )
    )
    app.record(
        c.RecordFinalTranscript(
            room_name=ROOM, meta=meta(), speaker="customer", text="call me on 415 555 0199"
        )
    )
    app.record(
        c.RecordToolCall(
            room_name=ROOM, meta=meta(), name="book", arguments={"name": "Ada Byron"}, result="ok"
        )
    )


def _states(db: DatabaseSettings, app: GroupCommitCallCenter) -> list[dict[str, object]]:
    import json

    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    with psycopg.connect(db.conninfo) as conn:
        rows = conn.execute(
            f"SELECT topic, state FROM {table} WHERE originator_id = %s ORDER BY originator_version",
            (CID,),
        ).fetchall()
    return [{"topic": t, **json.loads(bytes(s))} for t, s in rows]


def _plain(states: list[dict[str, object]]) -> str:
    """The stored states without their ciphertext and their ids and times, whose base64,
    hex and microseconds can spell any short word or number."""
    noise = {SEALED, "meta", "timestamp", "originator_id"}
    return repr([{k: v for k, v in s.items() if k not in noise} for s in states])


def _texts(app: GroupCommitCallCenter) -> list[object]:
    out: list[object] = []
    for _, e in app.events_of(CID):
        if isinstance(e, ev.CallRequested):
            out.append(e.participant_name)
        elif isinstance(e, ev.FinalTranscriptRecorded):
            out.append(e.text)
        elif isinstance(e, ev.ToolCalled):
            out.append(e.arguments)
    return out


def test_personal_fields_are_stored_sealed_and_read_back(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    _record_call(app)
    stored = _states(db, app)
    sealed = [s for s in stored if SEALED in s]
    assert len(sealed) == 3
    assert all(
        "text" not in s and "participant_name" not in s and "arguments" not in s for s in sealed
    )
    assert "Ada" not in _plain(stored) and "0199" not in _plain(stored)
    # A second process reads them through the same key table.
    other = GroupCommitCallCenter(env=db.eventsourcing_env())
    try:
        assert _texts(other) == ["Ada Byron", "call me on 415 555 0199", {"name": "Ada Byron"}]
    finally:
        other.close()


def test_every_kind_of_event_round_trips_through_the_seal(app: GroupCommitCallCenter) -> None:
    commands = every_kind_of_command("call-every")
    for command in commands:
        app.record(command)
    cid = conversation_id_for_room("call-every")
    cached = app.conversation(cid)
    app._cache.clear()  # read everything back through the store and the keys
    assert vars(app.conversation(cid)) == vars(cached)


def test_a_shredded_key_reads_as_erased_and_the_chain_still_verifies(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    _record_call(app)
    assert app.shred_key(CID) is True
    assert app.shred_key(CID) is False  # nothing left to shred
    assert _texts(app) == [ERASED, ERASED, ERASED_MAPPING]
    assert not verify_chains(app.store.iter_log(), app.store.select_heads()).findings
    # A late event is not sealed with a new key: its personal fields are erased as written.
    app.record(
        c.RecordFinalTranscript(room_name=ROOM, meta=meta(), speaker="customer", text="Ada again")
    )
    assert "Ada" not in _plain(_states(db, app))
    assert _texts(app)[-1] == ERASED
    with psycopg.connect(db.conninfo) as conn:
        assert conn.execute(
            "SELECT data_key FROM conversation_keys WHERE conversation_id = %s", (CID,)
        ).fetchall() == [(None,)]


@pytest.mark.parametrize("damage", ["wrong", "missing"])
def test_a_wrong_or_missing_key_reads_as_unreadable_with_one_clear_error(
    damage: str, app: GroupCommitCallCenter, db: DatabaseSettings, caplog: pytest.LogCaptureFixture
) -> None:
    _record_call(app)
    with psycopg.connect(db.conninfo) as conn:
        if damage == "wrong":
            conn.execute(
                "UPDATE conversation_keys SET data_key = %s WHERE conversation_id = %s",
                (os.urandom(32), CID),
            )
        else:
            conn.execute("DELETE FROM conversation_keys WHERE conversation_id = %s", (CID,))
    reader = GroupCommitCallCenter(env=db.eventsourcing_env())  # no key cached
    caplog.set_level(logging.DEBUG)
    try:
        assert _texts(reader) == [UNREADABLE, UNREADABLE, {"unreadable": True}]
        _texts(reader)
    finally:
        reader.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and str(CID) in errors[0].getMessage()
    assert ("does not open" if damage == "wrong" else "missing") in errors[0].getMessage()


def test_keys_never_reach_a_log(
    app: GroupCommitCallCenter, db: DatabaseSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _record_call(app)
    _texts(app)
    app.shred_key(CID)
    with psycopg.connect(db.conninfo) as conn:
        keys = [
            bytes(k)
            for (k,) in conn.execute(
                "SELECT data_key FROM conversation_keys WHERE data_key IS NOT NULL"
            )
        ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for key in keys:
        assert key.hex() not in logged and repr(key) not in logged


def test_a_value_orjson_cannot_write_is_sealed_and_read_back_exactly(
    app: GroupCommitCallCenter,
) -> None:
    app.record(
        c.RecordToolCall(
            room_name=ROOM, meta=meta(), name="t", arguments={"n": 2**70, "who": "Ada"}
        )
    )
    app._cache.clear()
    called = [e for _, e in app.events_of(CID) if isinstance(e, ev.ToolCalled)]
    assert called[0].arguments == {"n": 2**70, "who": "Ada"}
