"""The HTTP API: tokens, VIN lookups, admin access, conversations, timelines, metrics."""

from __future__ import annotations

import time
from contextlib import closing

import httpx
from livekit import api

from domain.ids import conversation_id_for_room
from tests.web.conftest import (
    API_KEY,
    API_SECRET,
    WebServer,
    participant,
    room_event,
    serve,
    web_settings,
)

ADMIN_ROUTES = [
    ("GET", "/api/admin/session"),
    ("GET", "/api/admin/me"),
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users"),
    ("POST", "/api/admin/users/someone"),
    ("GET", "/api/admin/escalations"),
    *[
        ("POST", f"/api/admin/conversations/00000000-0000-0000-0000-000000000000/{act}")
        for act in ("coach", "barge", "takeover", "accept", "handback", "end")
    ],
    ("GET", "/api/admin/conversations/00000000-0000-0000-0000-000000000000/acts"),
    ("POST", "/api/admin/get-monitor-token"),
    ("POST", "/api/admin/listen-ended"),
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/conversations/00000000-0000-0000-0000-000000000000/transcript"),
    ("GET", "/api/conversations/00000000-0000-0000-0000-000000000000/timeline"),
    ("GET", "/api/conversations/00000000-0000-0000-0000-000000000000/recording"),
    ("GET", "/api/conversations/00000000-0000-0000-0000-000000000000/recording/audio"),
    ("GET", "/api/stream"),
    ("GET", "/api/conversations/00000000-0000-0000-0000-000000000000/stream"),
]


def _claims(token: str) -> api.access_token.Claims:
    return api.TokenVerifier(API_KEY, API_SECRET).verify(token)


def test_customer_token_is_scoped_short_lived_and_recorded(web: WebServer) -> None:
    r = httpx.post(f"{web.url}/api/get-token", json={"participant_name": "Ann Lee"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["room_name"].startswith("call-")
    assert data["livekit_url"] == "ws://127.0.0.1:7880"
    claims = _claims(data["token"])
    assert claims.video.room == data["room_name"] and claims.video.room_join
    assert claims.video.can_publish and claims.video.can_subscribe
    assert not claims.video.hidden and not claims.video.room_admin and not claims.video.room_create
    assert claims.identity == data["participant_identity"]
    import jwt

    raw = jwt.decode(data["token"], options={"verify_signature": False})
    assert raw["exp"] - raw["nbf"] <= 600
    assert raw["roomConfig"]["agents"][0]["agentName"] == "cme-auto-sales"
    log = web.app.log_of(conversation_id_for_room(data["room_name"]))
    assert [type(e).__name__ for _, e in log] == ["Opened", "CallRequested"]


def test_token_request_validation(web: WebServer) -> None:
    for body in (
        {"room_name": "bad room!"},
        {"room_name": "x" * 200},
        {"participant_name": "<script>"},
        {"room_name": 5},
    ):
        r = httpx.post(f"{web.url}/api/get-token", json=body)
        assert r.status_code == 422, body
        assert r.json()["error"] == "invalid_field"
    r = httpx.post(f"{web.url}/api/get-token", json={"room_name": "call-named-1"})
    assert r.status_code == 200 and r.json()["room_name"] == "call-named-1"


def test_token_endpoint_is_rate_limited(app, db) -> None:  # type: ignore[no-untyped-def]
    with serve(app, db, web_settings(rate=6)) as server:
        statuses = [
            httpx.post(f"{server.url}/api/get-token", json={}).status_code for _ in range(4)
        ]
        assert statuses[:2] == [200, 200]
        assert 429 in statuses
        r = httpx.post(f"{server.url}/api/get-token", json={})
        assert r.status_code == 429 and "retry" in r.json()["reason"]


def test_vehicle_lookup(web: WebServer) -> None:
    r = httpx.post(f"{web.url}/api/lookup-vehicle", json={"vin": "1hg cm8 2633 a004352"})
    assert r.status_code == 200
    assert r.json()["vin"] == "1HGCM82633A004352"
    assert r.json()["decoded"]["make"] == "Honda"
    for vin, code in (
        ("1HGCM82633A00435", "length"),
        ("1HGCM82633O004352", "forbidden_letters"),
        ("1HGCM82623A004352", "check_digit"),
    ):
        bad = httpx.post(f"{web.url}/api/lookup-vehicle", json={"vin": vin})
        assert bad.status_code == 422
        assert bad.json()["vin_error"] == code and bad.json()["reason"]


def test_inventory_match(web: WebServer) -> None:
    from adapters.inventory import Inventory
    from apps.usecases.dealership import DealershipServices

    vehicle = Inventory.load().all()[0]
    r = httpx.post(f"{web.url}/api/lookup-vehicle", json={"vin": vehicle.vin})
    assert r.json()["found"] is True and r.json()["vehicle"]["vin"] == vehicle.vin
    # One lookup for every entry point: the API answers what the agent's tool is told.
    assert r.json() == DealershipServices().lookup_vehicle(vehicle.vin).result


def test_every_admin_route_requires_login(web: WebServer) -> None:
    for method, path in ADMIN_ROUTES:
        r = httpx.request(method, f"{web.url}{path}", json={})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["error"] == "unauthorized"
        forged = httpx.request(
            method, f"{web.url}{path}", json={}, headers={"Authorization": "Bearer forged.token"}
        )
        assert forged.status_code == 401
    page = httpx.get(f"{web.url}/admin", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/admin/login")


def test_login(web: WebServer) -> None:
    bad = httpx.post(f"{web.url}/api/admin/login", json={"username": "admin", "password": "guess"})
    assert bad.status_code == 401
    assert "cc_admin" not in bad.cookies
    with closing(web.admin()) as admin:
        cookie = admin.cookies.jar
        set_cookie = [c for c in cookie if c.name == "cc_admin"][0]
        assert set_cookie.has_nonstandard_attr("HttpOnly")
        assert admin.get("/api/admin/session").json() == {"username": "admin", "role": "admin"}
        assert admin.get("/admin").status_code == 200
        admin.post("/api/admin/logout")
    assert httpx.get(f"{web.url}/api/admin/session", headers=web.bearer()).json() == {
        "username": "admin",
        "role": "admin",
    }


def test_conversations_transcript_and_timeline(web: WebServer) -> None:
    room = "call-api-1"
    web.webhook(room_event("room_started", room))
    web.webhook(room_event("participant_joined", room, participant=participant("customer-1")))
    from domain import commands as c
    from domain.meta import EventMeta

    web.app.record(
        c.RecordInterimTranscript(
            room_name=room, meta=EventMeta(source="agent"), speaker="customer", text="do you"
        )
    )
    web.app.record(
        c.RecordFinalTranscript(
            room_name=room,
            meta=EventMeta(source="agent"),
            speaker="customer",
            text="do you have a Civic",
            confidence=0.92,
        )
    )
    mid = time.time()
    time.sleep(0.05)
    web.app.record(
        c.RecordAgentReply(
            room_name=room, meta=EventMeta(source="agent"), text="We have three Civics in stock"
        )
    )
    web.wait_projected()
    cid = str(conversation_id_for_room(room))
    with closing(web.admin()) as admin:
        listing = admin.get("/api/conversations", params={"status": "active"}).json()
        assert cid in [i["conversation_id"] for i in listing["items"]]
        assert admin.get("/api/conversations", params={"status": "ended"}).json()["items"] == []
        transcript = admin.get(f"/api/conversations/{cid}/transcript").json()
        assert [(ln["speaker"], ln["text"]) for ln in transcript["lines"]] == [
            ("customer", "do you have a Civic"),
            ("assistant", "We have three Civics in stock"),
        ]
        from datetime import UTC, datetime

        at = datetime.fromtimestamp(mid, UTC).isoformat()
        timeline = admin.get(f"/api/conversations/{cid}/timeline", params={"at": at}).json()
        assert [e["type"] for e in timeline["entries"]][-1] == "AgentReplied"
        assert [ln["text"] for ln in timeline["transcript"]] == ["do you have a Civic"]
        assert (
            admin.get(f"/api/conversations/{cid}/timeline", params={"at": "noon"}).status_code
            == 422
        )
        assert admin.get(f"/api/conversations/{cid}/recording").status_code == 503


def test_pagination(web: WebServer) -> None:
    for i in range(5):
        web.webhook(room_event("room_started", f"call-page-{i}"))
    web.wait_projected()
    seen: list[str] = []
    with closing(web.admin()) as admin:
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = admin.get("/api/conversations", params=params).json()
            seen.extend(i["room_name"] for i in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == [f"call-page-{i}" for i in range(5)]
        assert admin.get("/api/conversations", params={"cursor": "garbage"}).status_code == 422
        assert admin.get("/api/conversations", params={"limit": 0}).status_code == 422


def test_monitor_token_is_hidden_listen_only_and_audited(web: WebServer) -> None:
    room = "call-monitored"
    web.webhook(room_event("room_started", room))
    web.wait_projected()
    cid = str(conversation_id_for_room(room))
    with closing(web.admin()) as admin:
        r = admin.post("/api/admin/get-monitor-token", json={"conversation_id": cid})
        assert r.status_code == 200, r.text
        data = r.json()
        claims = _claims(data["token"])
        assert claims.video.hidden is True
        assert claims.video.can_publish is False and claims.video.can_publish_data is False
        assert claims.video.can_subscribe is True and claims.video.room == room
        assert (
            admin.post(
                "/api/admin/listen-ended",
                json={"conversation_id": cid, "listen_id": data["listen_id"]},
            ).status_code
            == 200
        )
        again = admin.post(
            "/api/admin/listen-ended", json={"conversation_id": cid, "listen_id": data["listen_id"]}
        )
        assert again.status_code == 409
        assert (
            admin.post(
                "/api/admin/get-monitor-token",
                json={"conversation_id": "4b0c8a0e-0000-4000-8000-000000000000"},
            ).status_code
            == 404
        )
    web.wait_projected()
    import psycopg

    with psycopg.connect(web.db.conninfo) as conn:
        audit = conn.execute(
            "SELECT action, supervisor FROM listen_ins ORDER BY position"
        ).fetchall()
    assert audit == [("listen_in_started", "admin"), ("listen_in_ended", "admin")]


def test_openapi_metrics_health_and_security_headers(web: WebServer) -> None:
    spec = httpx.get(f"{web.url}/openapi.json").json()
    for path in (
        "/api/get-token",
        "/api/lookup-vehicle",
        "/api/admin/login",
        "/api/admin/get-monitor-token",
        "/api/conversations",
        "/api/conversations/{id}",
        "/api/conversations/{id}/transcript",
        "/api/conversations/{id}/timeline",
        "/api/conversations/{id}/recording",
        "/api/conversations/{id}/recording/audio",
        "/api/stream",
        "/api/conversations/{id}/stream",
        "/webhook/livekit",
        "/webhook/egress",
        "/healthz",
        "/metrics",
    ):
        assert path in spec["paths"], path
    web.webhook(room_event("room_started", "call-metrics"))
    web.wait_projected()
    metrics = httpx.get(f"{web.url}/metrics").text
    assert 'callcenter_webhooks_total{outcome="recorded"} 1' in metrics
    assert 'callcenter_projection_lag{projection="conversations"} 0' in metrics
    assert "callcenter_sse_clients 0" in metrics
    health = httpx.get(f"{web.url}/healthz")
    assert health.json()["status"] == "ok"
    page = httpx.get(f"{web.url}/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert "access-control-allow-origin" not in page.headers
    pre = httpx.options(
        f"{web.url}/api/get-token",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.headers.get("access-control-allow-origin") is None
