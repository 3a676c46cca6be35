"""A real uvicorn server running the web app against the test database."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from adapters.call_center import GroupCommitCallCenter
from adapters.livekit.tokens import LiveKitSettings
from adapters.livekit.webhooks import sign_webhook
from adapters.passwords import pbkdf2_hash
from adapters.postgres.database import DatabaseSettings
from adapters.postgres.login_throttle import ThrottlePolicy
from adapters.storage import S3Settings
from apps.web.app import WebInputs, create_app
from apps.web.settings import WebSettings
from projections.registry import READ_MODELS
from projections.worker import EventSource, ProjectionWorker
from tests.reliability.minio_server import MinioServer
from tests.threaded_server import start_in_thread

API_KEY = "devkey"
API_SECRET = "test-secret-test-secret-test-secret-42"
ADMIN_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebServer:
    url: str
    app: GroupCommitCallCenter
    db: DatabaseSettings
    settings: WebSettings

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kw)

    def admin(self) -> httpx.Client:
        client = self.client()
        r = client.post("/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert r.status_code == 200, r.text
        return client

    def bearer(self) -> dict[str, str]:
        r = httpx.post(
            f"{self.url}/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def webhook(
        self, payload: dict[str, Any], *, secret: str = API_SECRET, ttl_s: int = 300
    ) -> httpx.Response:
        body = json.dumps(payload)
        token = sign_webhook(body, API_KEY, secret, ttl_s)
        return httpx.post(
            f"{self.url}/webhook/livekit",
            content=body,
            headers={"Authorization": token, "Content-Type": "application/webhook+json"},
            timeout=10,
        )

    def wait_projected(self, timeout: float = 20.0) -> None:
        from tests.readmodels import wait_for_position

        wait_for_position(self.db.conninfo, self.app.store.max_notification_id() or 0, timeout)


def web_settings(s3: S3Settings | None = None, rate: int = 10_000) -> WebSettings:
    return WebSettings(
        admin_user="admin",
        admin_password_hash=pbkdf2_hash(ADMIN_PASSWORD, iterations=1000),
        session_secret="test-session-secret",
        livekit=LiveKitSettings(url="ws://127.0.0.1:7880", api_key=API_KEY, api_secret=API_SECRET),
        s3=s3,
        token_requests_per_minute=rate,
        # tests that send wrong passwords on purpose (fuzzing) must not lock the others out;
        # the throttling itself is tested with a policy of its own (test_adversarial.py)
        login_throttle=ThrottlePolicy(free_failures=10_000),
    )


#: How long the server waits for open requests (an SSE stream never ends by itself) before
#: cancelling them and running its lifespan's shutdown.
GRACEFUL_SHUTDOWN_S = 2


@contextlib.contextmanager
def serve(
    app: GroupCommitCallCenter, db: DatabaseSettings, settings: WebSettings
) -> Iterator[WebServer]:
    """The web app under uvicorn in a thread, stopped on leaving (also when the body
    raises), before the caller closes `app` and drops `db`: its projection worker and SSE
    broadcaster must not outlive the database they read."""
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    worker = ProjectionWorker(db.conninfo, source, list(READ_MODELS.values()))
    web = create_app(WebInputs(app, db.conninfo, settings, worker))
    port = free_port()
    # Under a thread uvicorn installs no signal handlers, so sse-starlette never learns of
    # the shutdown: an SSE stream a test left open would hold the server (and with it the
    # worker and the broadcaster) until the end of the session.
    server = uvicorn.Server(
        uvicorn.Config(
            web,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    )
    thread = start_in_thread(server, "the web server")
    try:
        yield WebServer(f"http://127.0.0.1:{port}", app, db, settings)
    finally:
        _drop_connections(server)
        server.should_exit = True
        thread.join(GRACEFUL_SHUTDOWN_S + 30)
        if thread.is_alive():
            worker.stop()  # at least the worker: the database is about to go
            raise RuntimeError("the web server did not stop")


def _drop_connections(server: uvicorn.Server) -> None:
    """Close the open connections as if their clients had gone, so that streams end
    cleanly rather than being cancelled after the grace period."""
    for connection in list(server.server_state.connections):
        loop, transport = getattr(connection, "loop", None), getattr(connection, "transport", None)
        if loop is not None and transport is not None:
            loop.call_soon_threadsafe(transport.close)


@pytest.fixture
def web(app: GroupCommitCallCenter, db: DatabaseSettings) -> Iterator[WebServer]:
    with serve(app, db, web_settings()) as server:
        yield server


def room_event(event: str, room: str, **extra: Any) -> dict[str, Any]:
    """A webhook body as livekit-server sends it (protobuf JSON, camelCase)."""
    payload: dict[str, Any] = {
        "event": event,
        "room": {"name": room, "sid": f"RM_{room}"},
        "id": f"EV_{event}_{room}_{time.monotonic_ns()}",
        "createdAt": str(int(time.time())),
    }
    payload.update(extra)
    return payload


def participant(
    identity: str, *, kind: str = "STANDARD", role: str | None = "customer", hidden: bool = False
) -> dict[str, Any]:
    p: dict[str, Any] = {
        "sid": f"PA_{identity}",
        "identity": identity,
        "name": identity,
        "kind": kind,
    }
    if role:
        p["attributes"] = {"role": role}
    if hidden:
        p["permission"] = {"hidden": True}
    return p


@pytest.fixture(scope="module")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A real MinIO for the tests of one module."""
    server = MinioServer(tmp_path_factory.mktemp("minio"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def storage_web(
    app: GroupCommitCallCenter, db: DatabaseSettings, minio: MinioServer
) -> Iterator[WebServer]:
    """The web app with that MinIO as its recording storage."""
    with serve(app, db, web_settings(s3=minio.settings)) as server:
        yield server
