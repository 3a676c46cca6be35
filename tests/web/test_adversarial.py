"""Attacks on the web app, each refused exactly and recording nothing: login brute force,
forged sessions, customer tokens on admin routes and streams, cross-origin requests, path
traversal, oversized and slow-drip bodies. (Attacks on a live call: tests/e2e.)"""

from __future__ import annotations

import dataclasses
import http.client
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from adapters.postgres.login_throttle import ThrottlePolicy
from apps.cli import main as cli_main
from apps.web.auth import COOKIE
from tests.web.conftest import ADMIN_PASSWORD, WebServer, serve, web_settings
from tests.web.test_api import ADMIN_ROUTES

POLICY = ThrottlePolicy(free_failures=3, base_lockout_s=4.0, max_lockout_s=8.0)


def head(web: WebServer) -> int:
    return web.app.store.max_notification_id() or 0


def login(web: WebServer, password: str, *, source: str = "127.0.0.1") -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.post(
            f"{web.url}/api/admin/login", json={"username": "admin", "password": password}
        )


def metric(web: WebServer, outcome: str) -> int:
    text = httpx.get(f"{web.url}/metrics").text
    line = f'callcenter_admin_logins_total{{outcome="{outcome}"}} '
    found = [ln for ln in text.splitlines() if ln.startswith(line)]
    return int(found[0].split()[-1]) if found else 0


@pytest.fixture
def throttled_web(app, db) -> Iterator[WebServer]:  # type: ignore[no-untyped-def]
    with serve(app, db, dataclasses.replace(web_settings(), login_throttle=POLICY)) as web:
        yield web


def test_login_brute_force_is_throttled_then_lets_the_real_user_in(
    throttled_web: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    web = throttled_web
    caplog.set_level(logging.INFO)
    before = head(web)
    replies = [login(web, f"guess-{i}") for i in range(40)]
    codes = [r.status_code for r in replies]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429, "the fourth guess comes within the first lockout"
    assert set(codes) == {401, 429}
    # Growing delays: after 40 rapid guesses, only the first few were ever checked.
    assert codes.count(401) <= 5, codes
    throttled = [r for r in replies if r.status_code == 429]
    for r in throttled:
        assert r.json()["error"] == "too_many_attempts"
        assert 1 <= int(r.headers["Retry-After"]) <= POLICY.max_lockout_s
        assert r.json()["retry_after_s"] == int(r.headers["Retry-After"])
    # The right password is not even checked while locked...
    right_now = login(web, ADMIN_PASSWORD)
    assert right_now.status_code == 429 and "cc_admin" not in right_now.cookies
    # ...but the lockout is bounded: a real user who waits gets in.
    time.sleep(int(right_now.headers["Retry-After"]) + 0.2)
    assert login(web, ADMIN_PASSWORD).status_code == 200
    assert metric(web, "failed") == codes.count(401)
    assert metric(web, "throttled") == codes.count(429) + 1
    assert metric(web, "succeeded") == 1
    assert "admin login throttled" in caplog.text and "admin login failed" in caplog.text
    assert "guess-" not in caplog.text and ADMIN_PASSWORD not in caplog.text
    assert head(web) == before  # logins record nothing in the event log


def test_the_account_is_throttled_across_addresses(throttled_web: WebServer) -> None:
    """Guesses spread over many addresses still lock the account (twice the free failures)."""
    web = throttled_web
    codes = [login(web, "wrong", source=f"127.0.0.{10 + i}").status_code for i in range(6)]
    assert codes == [401] * 6
    fresh = login(web, ADMIN_PASSWORD, source="127.0.0.99")
    assert fresh.status_code == 429 and fresh.json()["error"] == "too_many_attempts"


def test_an_admin_clears_a_lockout_from_the_cli(
    throttled_web: WebServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    web = throttled_web
    for source in ["127.0.0.1"] * 3 + ["127.0.0.10", "127.0.0.11", "127.0.0.12"]:
        assert login(web, "wrong", source=source).status_code == 401
    assert login(web, ADMIN_PASSWORD).status_code == 429
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", web.db.url)
    assert cli_main(["logins", "status"]) == 0
    status = capsys.readouterr().out
    assert "account:admin: 6 failures, locked until" in status
    assert "address:127.0.0.1: 3 failures, locked until" in status
    assert "address:127.0.0.10: 1 failures, not locked" in status
    assert cli_main(["logins", "clear"]) == 2  # says what to clear
    assert cli_main(["logins", "clear", "--user", "admin", "--address", "127.0.0.1"]) == 0
    assert "cleared 2" in capsys.readouterr().out
    assert login(web, ADMIN_PASSWORD).status_code == 200


def test_a_customer_token_opens_no_admin_route_or_stream(web: WebServer) -> None:
    grant = httpx.post(f"{web.url}/api/get-token", json={}).json()
    before = head(web)
    for method, path in ADMIN_ROUTES:
        for how in ({"headers": {"Authorization": f"Bearer {grant['token']}"}},):
            r = httpx.request(method, f"{web.url}{path}", json={}, **how)  # type: ignore[arg-type]
            assert r.status_code == 401, (method, path)
            assert r.json() == {"error": "unauthorized", "reason": "sign in required"}
        with httpx.Client(cookies={COOKIE: grant["token"]}) as client:
            r = client.request(method, f"{web.url}{path}", json={})
            assert r.status_code == 401, (method, path)
            assert r.json()["error"] == "unauthorized"
    assert head(web) == before


def test_a_session_signed_with_another_secret_is_refused(web: WebServer) -> None:
    forged = URLSafeTimedSerializer("not-the-server-secret", salt="callcenter-admin").dumps(
        {"u": "admin"}
    )
    for client in (
        httpx.Client(cookies={COOKIE: forged}),
        httpx.Client(headers={"Authorization": f"Bearer {forged}"}),
    ):
        with client:
            for method, path in ADMIN_ROUTES:
                r = client.request(method, f"{web.url}{path}", json={})
                assert r.status_code == 401, (method, path)
                assert r.json()["error"] == "unauthorized"
    page = httpx.get(f"{web.url}/admin", cookies={COOKIE: forged}, follow_redirects=False)
    assert page.status_code == 303


def test_cross_origin_requests_without_configured_origins(web: WebServer) -> None:
    evil = {"Origin": "https://evil.example"}
    before = head(web)
    preflight = httpx.options(
        f"{web.url}/api/get-token",
        headers={**evil, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    with closing(web.admin()) as admin:
        r = admin.get("/api/conversations", headers=evil)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    # A cross-site form post (no preflight) is not JSON, so it is refused unread.
    form = httpx.post(
        f"{web.url}/api/get-token",
        content=b"room_name=call-x",
        headers={**evil, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415 and form.json()["error"] == "unsupported_media_type"
    assert head(web) == before


def test_cross_origin_requests_with_configured_origins(app, db) -> None:  # type: ignore[no-untyped-def]
    allowed = "https://dealer.example"
    settings = dataclasses.replace(web_settings(), cors_origins=(allowed,))
    with serve(app, db, settings) as web:
        ask = {"Access-Control-Request-Method": "GET"}
        ok = httpx.options(f"{web.url}/api/conversations", headers={"Origin": allowed, **ask})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        assert ok.headers["access-control-allow-credentials"] == "true"
        bad = httpx.options(
            f"{web.url}/api/conversations", headers={"Origin": "https://evil.example", **ask}
        )
        assert bad.status_code == 400
        assert "access-control-allow-origin" not in bad.headers
        plain = httpx.get(f"{web.url}/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in plain.headers


@pytest.mark.parametrize(
    "path",
    [
        "/static/../apps/web/app.py",
        "/static/../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd",
        "/static//etc/passwd",
        "/static/....//....//pyproject.toml",
    ],
)
def test_no_path_escapes_static(web: WebServer, path: str) -> None:
    host, port = web.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)  # sent as written: no client-side normalisation
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 404, (path, r.status)
    assert b"[project]" not in body and b"root:x:0" not in body and b"Starlette" not in body


def test_oversized_webhook_bodies_are_refused_unrecorded(web: WebServer) -> None:
    before = head(web)
    big = b"x" * (2 * 1024 * 1024)
    declared = httpx.post(f"{web.url}/webhook/livekit", content=big)
    assert declared.status_code == 413 and declared.json()["error"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must hold while reading
        for _ in range(64):
            yield b"y" * 32_768

    chunked = httpx.post(f"{web.url}/webhook/livekit", content=chunks())
    assert chunked.status_code == 413 and chunked.json()["error"] == "too_large"
    assert head(web) == before


def _drip(url: str, path: str, results: list[bytes], stop: threading.Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/webhook+json\r\n"
            "Content-Length: 4000\r\n\r\n".encode()
        )
        try:
            while not stop.is_set():
                s.sendall(b"{")
                s.settimeout(0.25)
                try:
                    data = s.recv(4096)
                except TimeoutError:
                    continue
                results.append(data)
                return
        except OSError as e:  # the server closed the connection after answering
            results.append(f"closed: {e}".encode())


def test_slow_drip_bodies_do_not_tie_up_the_server(app, db) -> None:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(web_settings(), body_timeout_s=3.0)
    with serve(app, db, settings) as web:
        before = head(web)
        results: list[bytes] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_drip, args=(web.url, "/webhook/livekit", results, stop))
            for _ in range(30)
        ]
        for t in threads:
            t.start()
        time.sleep(0.5)
        try:
            # While thirty clients drip, others are served: before any drip is cut off.
            for _ in range(5):
                assert httpx.get(f"{web.url}/healthz", timeout=5).status_code == 200
            assert results == []
            for t in threads:
                t.join(10)
        finally:
            stop.set()
        assert len(results) == 30
        assert all(r.startswith(b"HTTP/1.1 408") for r in results), results[:3]
        assert all(b'"error":"timeout"' in r for r in results)
        assert head(web) == before
