"""The supervisor routes' refusals, before anything reaches LiveKit: who may act, on which
call, with what input. (The acts themselves, on a real call: tests/e2e/test_supervision.py.)"""

from __future__ import annotations

import uuid
from contextlib import closing

import httpx

from domain import commands as c
from domain.ids import conversation_id_for_room
from tests.factories import meta
from tests.web.conftest import WebServer

ACTS = ("coach", "barge", "takeover", "accept", "handback", "end")
PASSWORD = "a long enough password"


def _sign_in(web: WebServer, name: str) -> httpx.Client:
    client = web.client()
    r = client.post("/api/admin/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


def test_acting_needs_the_right_a_known_live_call_and_text(web: WebServer) -> None:
    room = "call-supervised-routes"
    web.app.record(c.RequestCall(room_name=room, meta=meta("api"), participant_identity="cust"))
    cid = conversation_id_for_room(room)
    web.wait_projected()
    with closing(web.admin()) as admin:
        body = {"name": "aud", "role": "auditor", "password": PASSWORD}
        assert admin.post("/api/admin/users", json=body).status_code == 201
        for bad in ({}, {"text": ""}, {"text": "   "}, {"text": "x" * 501}, {"text": 7}):
            r = admin.post(f"/api/admin/conversations/{cid}/coach", json=bad)
            assert r.status_code in (400, 422), (bad, r.text)
            assert r.json()["reason"]
        unknown = uuid.uuid4()
        for act in ACTS:
            r = admin.post(f"/api/admin/conversations/{unknown}/{act}", json={"text": "say: hi"})
            assert r.status_code == 404 and r.json()["error"] == "not_found", (act, r.text)
        r = admin.post(f"/api/admin/conversations/{cid}/handback")
        assert r.status_code == 409 and "nothing to hand back" in r.json()["reason"]
        r = admin.post(f"/api/admin/conversations/{cid}/accept")
        assert r.status_code == 409 and "not asked for a person" in r.json()["reason"]
        assert admin.get("/api/admin/escalations").json() == {"items": []}
        assert admin.get(f"/api/admin/conversations/{cid}/acts").json() == {"items": []}
    with closing(_sign_in(web, "aud")) as auditor:
        for act in ACTS:
            r = auditor.post(f"/api/admin/conversations/{cid}/{act}", json={"text": "say: hi"})
            assert r.status_code == 403, (act, r.text)
        assert auditor.get("/api/admin/escalations").status_code == 403
        assert auditor.get(f"/api/admin/conversations/{cid}/acts").status_code == 200
    web.app.record(c.EndCall(room_name=room, meta=meta("webhook"), reason="completed"))
    web.wait_projected()
    with closing(web.admin()) as admin:
        for act in ACTS:
            r = admin.post(f"/api/admin/conversations/{cid}/{act}", json={"text": "say: hi"})
            assert r.status_code == 409 and r.json()["error"] == "call_ended", (act, r.text)
    kinds = [type(e).__name__ for _, e in web.app.log_of(cid)]
    assert kinds == ["Opened", "CallRequested", "CallEnded"]  # nothing refused was recorded
