"""Redacted by default, revealed on the record: staff and the API see `[phone]`, `[name]`
…; an auditor or admin who states a reason sees one call as said, alone, for a while."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

import httpx

from domain import commands as c
from domain import events as ev
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.web.conftest import WebServer
from tests.web.sse_client import replayed

ROOM, OTHER = "call-reveal", "call-reveal-other"
SAID = "hi, my name is Marguerite Okafor, call me on 415 555 0188 about the blue wagon"
PASSWORD = "x" * 12


def _call(app: Any, room: str) -> None:
    m = EventMeta(source="agent")
    app.record(
        c.RequestCall(
            room_name=room,
            meta=m,
            participant_identity="cust",
            participant_name="Marguerite Okafor",
        )
    )
    app.record(c.StartCall(room_name=room, meta=m, room_sid="RM"))
    app.record(c.RecordFinalTranscript(room_name=room, meta=m, speaker="customer", text=SAID))
    app.record(
        c.RecordAgentReply(room_name=room, meta=m, text="I can text 415 555 0188 the details")
    )
    app.record(c.EndCall(room_name=room, meta=m, reason="hangup"))


def _client(server: WebServer, admin: httpx.Client, name: str, role: str) -> httpx.Client:
    r = admin.post("/api/admin/users", json={"name": name, "role": role, "password": PASSWORD})
    assert r.status_code == 201, r.text
    client = server.client()
    assert (
        client.post("/api/admin/login", json={"username": name, "password": PASSWORD}).status_code
        == 200
    )
    return client


def _pii(text: str) -> list[str]:
    # "555 0188" as said, with its space: a bare "0188" turns up in ids and microseconds
    return [s for s in ("Marguerite", "Okafor", "555 0188") if s in text]


def test_staff_see_redacted_text_until_a_recorded_reveal(web: WebServer) -> None:
    _call(web.app, ROOM)
    _call(web.app, OTHER)
    web.wait_projected()
    cid, other = conversation_id_for_room(ROOM), conversation_id_for_room(OTHER)
    with closing(web.admin()) as admin:
        auditor = _client(web, admin, "audrey", "auditor")
        analyst = _client(web, admin, "anna", "analyst")
        supervisor = _client(web, admin, "sam", "supervisor")
        with closing(auditor), closing(analyst), closing(supervisor):
            # Redacted everywhere the read side shows text.
            for path in ("/transcript", "/timeline", ""):
                shown = auditor.get(f"/api/conversations/{cid}{path}").text
                assert not _pii(shown), (path, _pii(shown))
            transcript = auditor.get(f"/api/conversations/{cid}/transcript").json()
            assert transcript["lines"][0]["text"] == (
                "hi, my name is [name], call me on [phone] about the blue wagon"
            )
            listed = supervisor.get("/api/conversations").text
            assert not _pii(listed) and "[name]" in listed
            # Search indexes redacted text: the number and the name find nothing.
            assert supervisor.get("/api/search", params={"q": "Okafor"}).json()["items"] == []
            assert supervisor.get("/api/search", params={"q": "0188"}).json()["items"] == []
            hits = supervisor.get("/api/search", params={"q": "blue wagon"}).json()["items"]
            assert hits and not _pii(repr(hits))
            # The call's stream replays redacted text.
            messages = replayed(auditor, f"/api/conversations/{cid}/stream")
            assert any("[phone]" in repr(m) for m in messages) and not _pii(repr(messages))

            # Nothing is revealed without a reveal; analysts and supervisors may not reveal.
            r = auditor.get(f"/api/conversations/{cid}/revealed")
            assert r.status_code == 403 and r.json()["error"] == "not_revealed"
            for who in (analyst, supervisor):
                r = who.post(f"/api/admin/conversations/{cid}/reveal", json={"reason": "curious"})
                assert r.status_code == 403, r.text
            r = auditor.post(f"/api/admin/conversations/{cid}/reveal", json={"reason": " "})
            assert r.status_code == 422
            r = auditor.post(f"/api/admin/conversations/{cid}/reveal", json={})
            assert r.status_code == 422
            r = auditor.post(f"/api/admin/conversations/{other.hex}0/reveal", json={"reason": "x"})
            assert r.status_code == 404

            before = datetime.now().astimezone()
            r = auditor.post(
                f"/api/admin/conversations/{cid}/reveal", json={"reason": "complaint #4411"}
            )
            assert r.status_code == 200, r.text
            until = datetime.fromisoformat(r.json()["until"])
            assert timedelta(minutes=14) < until - before <= timedelta(minutes=15, seconds=5)

            shown = auditor.get(f"/api/conversations/{cid}/revealed").json()
            assert SAID in repr(shown["entries"]) and shown["revealed_until"] == r.json()["until"]
            # For this person and this call only.
            assert admin.get(f"/api/conversations/{cid}/revealed").status_code == 403
            assert auditor.get(f"/api/conversations/{other}/revealed").status_code == 403
            # The read side stays redacted for everyone, the revealer too.
            assert not _pii(auditor.get(f"/api/conversations/{cid}/transcript").text)

    # The reveal is on the record: who, why, until when; and it ends then.
    revealed = [e for _, e in web.app.events_of(cid) if isinstance(e, ev.PersonalDataRevealed)]
    assert [(e.revealed_by, e.reason, e.until) for e in revealed] == [
        ("audrey", "complaint #4411", until.isoformat())
    ]
    conversation = web.app.conversation(cid)
    assert conversation.revealed_to("audrey", until - timedelta(seconds=1)) == until
    assert conversation.revealed_to("audrey", until + timedelta(seconds=1)) is None
    assert conversation.revealed_to("admin", until - timedelta(seconds=1)) is None
