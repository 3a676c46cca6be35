"""The event store: exactly-once inputs, concurrent writers, upcasting old events."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections import Counter
from dataclasses import dataclass
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.utils import get_topic

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from adapters.postgres.hashchain import verify_chains
from domain import commands as c
from domain import events as ev
from domain.activity import ActivityPart
from domain.conversation import Conversation
from domain.ids import conversation_id_for_room
from domain.speech import SpeechPart
from tests.factories import meta

ROOM = "call-concurrent"


def _finals(app: GroupCommitCallCenter, room: str = ROOM) -> list[str]:
    return [
        e.text
        for _, e in app.log_of(conversation_id_for_room(room))
        if isinstance(e, ev.FinalTranscriptRecorded)
    ]


def _final(i: int, source: str = "agent", external: str | None = None) -> c.Command:
    return c.RecordFinalTranscript(
        room_name=ROOM,
        meta=meta(source, external_id=external),
        speaker="customer",
        text=f"utterance {i}",
    )


def test_redelivered_inputs_are_recorded_once(app: GroupCommitCallCenter) -> None:
    first = app.record(
        c.StartCall(room_name=ROOM, meta=meta("webhook", "EV_room_started"), room_sid="RM_1")
    )
    again = app.record_many(
        [
            c.StartCall(room_name=ROOM, meta=meta("webhook", "EV_room_started"), room_sid="RM_1"),
            _final(1, external="item_1"),
            _final(1, external="item_1"),
        ]
    )
    assert first.status == "recorded"
    assert [o.status for o in again] == ["duplicate", "recorded", "duplicate"]
    assert app.record(_final(1, external="item_1")).status == "duplicate"
    assert _finals(app) == ["utterance 1"]


def test_a_refused_input_may_be_delivered_again(app: GroupCommitCallCenter) -> None:
    bad = c.EndSilence(room_name=ROOM, meta=meta("agent", "silence-1"), silent_for_s=1)
    assert app.record_many([bad])[0].status == "rejected"
    app.record(c.DetectSilence(room_name=ROOM, meta=meta("agent"), silent_for_s=31))
    assert app.record_many([bad])[0].status == "recorded"


def test_concurrent_threads_lose_nothing_and_duplicate_nothing(db: DatabaseSettings) -> None:
    apps = [GroupCommitCallCenter(env=db.eventsourcing_env()) for _ in range(4)]
    try:

        def write(k: int) -> None:
            for i in range(50):
                # Every input is also delivered by a second writer: it must count once.
                apps[k].record_many([_final(k * 1000 + i, external=f"t{k}-{i}")])
                apps[(k + 1) % 4].submit(_final(k * 1000 + i, external=f"t{k}-{i}")).result()

        threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        texts = _finals(apps[0])
        assert len(texts) == 200
        assert Counter(texts).most_common(1)[0][1] == 1
        versions = [e.originator_version for _, e in apps[0].log_of(conversation_id_for_room(ROOM))]
        assert versions == list(range(1, len(versions) + 1))
    finally:
        for a in apps:
            a.close()


def _process_writer(env: dict[str, str], worker: int, count: int) -> None:
    app = GroupCommitCallCenter(env=env)
    try:
        for i in range(count):
            app.record_many(
                [
                    _final(worker * 1000 + i, external=f"p{worker}-{i}"),
                    _final(worker * 1000 + i, external=f"p{worker}-{i}"),
                ]
            )
            # The neighbour's inputs, redelivered from this process.
            app.record_many(
                [_final(((worker + 1) % 3) * 1000 + i, external=f"p{(worker + 1) % 3}-{i}")]
            )
    finally:
        app.close()


def test_concurrent_processes_lose_nothing_and_duplicate_nothing(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_process_writer, args=(db.eventsourcing_env(), w, 40)) for w in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    texts = _finals(app)
    assert sorted(texts) == sorted(f"utterance {w * 1000 + i}" for w in range(3) for i in range(40))


def test_an_event_stored_under_an_older_version_is_upcast(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook"), room_sid="RM_1"))
    cid = conversation_id_for_room(ROOM)
    topic = get_topic(SpeechPart.FinalTranscriptRecorded)
    # A version-1 event: no class_version key, no language, no segment_id.
    v1_state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-11-22T09:00:01+00:00"},
        "meta": meta(at=1).to_dict(),
        "speaker": "customer",
        "text": "recorded before languages existed",
        "confidence": 0.8,
        "start_time": 0.0,
        "end_time": 1.0,
    }
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s, 3, %s, %s)",
            (cid, topic, json.dumps(v1_state).encode()),
        )
    event = app.log_of(cid)[-1][1]
    assert isinstance(event, ev.FinalTranscriptRecorded)
    assert event.language == "en"
    assert event.segment_id == ""
    assert app.conversation(cid).version == 3


def test_a_vehicle_lookup_stored_before_typed_vins_was_said_aloud(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    room = "call-old-lookup"
    app.record(c.StartCall(room_name=room, meta=meta("webhook"), room_sid="RM_2"))
    cid = conversation_id_for_room(room)
    # A version-1 event: no class_version key, no channel.
    v1_state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-11-22T09:00:01+00:00"},
        "meta": meta(at=1).to_dict(),
        "vin_as_said": "one h g c m eight two six three three a zero zero four three five two",
        "vin": "1HGCM82633A004352",
        "check_digit_valid": True,
        "found": False,
        "vehicle": None,
        "decoded": None,
    }
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s, 3, %s, %s)",
            (cid, get_topic(ActivityPart.VehicleLookedUp), json.dumps(v1_state).encode()),
        )
    event = app.log_of(cid)[-1][1]
    assert isinstance(event, ev.VehicleLookedUp)
    assert (event.vin, event.channel) == ("1HGCM82633A004352", "voice")


@pytest.mark.parametrize("batch", [1, 500])
def test_group_commit_keeps_each_callers_order(app: GroupCommitCallCenter, batch: int) -> None:
    futures = [app.submit(_final(i)) for i in range(batch)]
    positions = [f.result().position for f in futures]
    assert positions == sorted(positions)
    assert _finals(app) == [f"utterance {i}" for i in range(batch)]


@dataclass(frozen=True, kw_only=True)
class _Noted(c.Command):
    """An input that changes nothing: recorded, with no event to carry its key."""

    def apply(self, conversation: Conversation) -> None:
        pass


def _table(app: GroupCommitCallCenter) -> str:
    return app.recorder.events_table_name  # type: ignore[attr-defined,no-any-return]


def test_each_inputs_key_is_on_its_first_event(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook", "EV_started"), room_sid="RM_1"))
    app.record(_final(1, external="item_1"))
    with psycopg.connect(db.conninfo) as conn:
        keys = conn.execute(
            f"SELECT originator_version, input_key FROM {_table(app)} ORDER BY 1"
        ).fetchall()
    # The call's first input opened the conversation: its key is on the first event.
    assert keys == [
        (1, "webhook/StartCall/EV_started"),
        (2, None),
        (3, "agent/RecordFinalTranscript/item_1"),
    ]


def test_an_input_that_makes_no_event_is_recorded_once(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook"), room_sid="RM_1"))
    noted = _Noted(room_name=ROOM, meta=meta("api", external_id="note-1"))
    assert app.record(noted).status == "recorded"
    assert app.record(noted).status == "duplicate"
    assert [o.status for o in app.record_many([noted, _final(2, external="n2")])] == [
        "duplicate",
        "recorded",
    ]
    with psycopg.connect(db.conninfo) as conn:
        rows = conn.execute("SELECT input_key FROM processed_inputs").fetchall()
    assert rows == [("api/_Noted/note-1",)]


def test_keys_and_heads_kept_by_an_earlier_version_still_count(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    """A database written before keys moved onto events and heads into a log: its
    inputs are still recognised, and its heads still checked."""
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook"), room_sid="RM_1"))
    gone = uuid4()
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(
            "INSERT INTO processed_inputs (input_key) VALUES ('agent/RecordFinalTranscript/old-1')"
        )
        conn.execute("INSERT INTO conversation_heads VALUES (%s, 3, %s)", (gone, bytes(32)))
    assert app.record(_final(1, external="old-1")).status == "duplicate"
    assert app.record(_final(2, external="new-1")).status == "recorded"
    heads = app.store.select_heads()
    assert heads[gone] == (3, bytes(32))
    assert heads[conversation_id_for_room(ROOM)][0] == 3
    report = verify_chains(app.store.iter_log(), heads)
    assert [f.problem for f in report.findings or []] == [
        "every event of this conversation was removed"
    ]
