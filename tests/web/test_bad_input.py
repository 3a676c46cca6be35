"""Bad input gets a 4xx with a JSON reason, never a 500, and records nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import WebServer

POST_ROUTES = [
    "/api/get-token",
    "/api/lookup-vehicle",
    "/api/admin/login",
    "/api/admin/get-monitor-token",
    "/api/admin/listen-ended",
]


def _log_head(web: WebServer) -> int:
    return web.app.store.max_notification_id() or 0


@pytest.mark.parametrize("path", POST_ROUTES)
def test_malformed_bodies(web: WebServer, path: str) -> None:
    headers = web.bearer()
    before = _log_head(web)
    cases = [
        (
            {"content": b"{not json", "headers": {**headers, "Content-Type": "application/json"}},
            {400},
        ),
        ({"content": b"[1, 2]", "headers": {**headers, "Content-Type": "application/json"}}, {422}),
        ({"content": b'{"vin": "x"}', "headers": {**headers, "Content-Type": "text/plain"}}, {415}),
        (
            {"content": b"\xff\xfe", "headers": {**headers, "Content-Type": "application/json"}},
            {400},
        ),
        (
            {
                "content": b"x" * (2 * 1024 * 1024),
                "headers": {**headers, "Content-Type": "application/json"},
            },
            {413},
        ),
        (
            {
                "content": b'{"a": "' + b"x" * 70_000 + b'"}',
                "headers": {**headers, "Content-Type": "application/json"},
            },
            {413},
        ),
        (
            {
                "json": {
                    "room_name": ["list"],
                    "vin": 17,
                    "username": None,
                    "conversation_id": "nope",
                    "listen_id": 3,
                },
                "headers": headers,
            },
            {401, 404, 422},
        ),
    ]
    for kwargs, statuses in cases:
        r = httpx.post(f"{web.url}{path}", timeout=30, **kwargs)  # type: ignore[arg-type]
        assert r.status_code in statuses, (path, kwargs.get("headers"), r.status_code, r.text[:200])
        body = r.json()
        assert body["error"] and body["reason"]
    assert _log_head(web) == before


def test_unknown_ids_and_routes(web: WebServer) -> None:
    headers = web.bearer()
    for path in (
        "/api/conversations/not-a-uuid",
        "/api/conversations/6a1c0ad3-1d5b-4c55-8a2e-000000000000",
        "/api/conversations/6a1c0ad3-1d5b-4c55-8a2e-000000000000/transcript",
        "/api/conversations/6a1c0ad3-1d5b-4c55-8a2e-000000000000/timeline",
        "/api/conversations/6a1c0ad3-1d5b-4c55-8a2e-000000000000/stream",
        "/api/nothing-here",
    ):
        r = httpx.get(f"{web.url}{path}", headers=headers)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    wrong_method = httpx.get(f"{web.url}/api/get-token")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"


def test_bad_query_parameters(web: WebServer) -> None:
    headers = web.bearer()
    for params in (
        {"status": "sleeping"},
        {"limit": "many"},
        {"limit": "100000"},
        {"room": "x" * 500},
    ):
        r = httpx.get(f"{web.url}/api/conversations", params=params, headers=headers)
        assert r.status_code == 422, params
    r = httpx.get(f"{web.url}/api/stream", headers={**headers, "Last-Event-ID": "yesterday"})
    assert r.status_code == 422


def test_webhook_garbage(web: WebServer) -> None:
    before = _log_head(web)
    for body in (b"", b"\xff", b"{}", b"x" * (300 * 1024)):
        r = httpx.post(f"{web.url}/webhook/livekit", content=body, headers={"Authorization": "x"})
        assert 400 <= r.status_code < 500, body[:10]
        assert r.json()["reason"]
    assert _log_head(web) == before
