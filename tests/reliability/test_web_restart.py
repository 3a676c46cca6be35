"""The web app killed (SIGKILL) while SSE clients are connected: they reconnect with
Last-Event-ID to the restarted app and miss nothing, duplicate nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.stack.processes import free_port
from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.web.conftest import ADMIN_PASSWORD, API_KEY, API_SECRET
from tests.web.sse_client import read_events

REPO = Path(__file__).resolve().parents[2]
ROOM = "call-web-restart"
TOTAL = 150


def _start(db: DatabaseSettings, port: int, log: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CALLCENTER_", "LIVEKIT_"))},
        "CALLCENTER_DATABASE_URL": db.url,
        "CALLCENTER_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CALLCENTER_SESSION_SECRET": "stable-across-restarts",
        "LIVEKIT_API_KEY": API_KEY,
        "LIVEKIT_API_SECRET": API_SECRET,
        **extra_env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, "web app did not start"
        time.sleep(0.2)


def _client(
    url: str,
    token: str,
    start: int,
    got: list[tuple[int, str]],
    reconnects: list[int],
    stop: threading.Event,
) -> None:
    last = str(start)
    while not stop.is_set():
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(3, read=5)) as client,
                client.stream(
                    "GET", url, headers={"Authorization": f"Bearer {token}", "Last-Event-ID": last}
                ) as r,
            ):
                if r.status_code != 200:
                    time.sleep(0.2)
                    continue
                for m in read_events(r):
                    if m.event == "final":
                        got.append((int(m.id or 0), m.data["text"]))
                        last = m.id or last
                    if len(got) >= TOTAL:
                        return
        except httpx.HTTPError:
            pass
        reconnects.append(int(last))
        time.sleep(0.2)


def test_sse_clients_survive_a_killed_web_app(
    app: GroupCommitCallCenter, db: DatabaseSettings, tmp_path: Path
) -> None:
    start = app.record(c.StartCall(room_name=ROOM, meta=EventMeta(source="webhook"))).position or 0
    port = free_port()
    web = _start(db, port, tmp_path / "web.log")
    base = f"http://127.0.0.1:{port}"
    token = httpx.post(
        f"{base}/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()["token"]
    url = f"{base}/api/conversations/{conversation_id_for_room(ROOM)}/stream"
    stop = threading.Event()
    clients = [([], [], None) for _ in range(3)]  # type: ignore[var-annotated]
    threads = [
        threading.Thread(target=_client, args=(url, token, start, got, rec, stop))
        for got, rec, _ in clients
    ]
    for t in threads:
        t.start()
    try:
        for i in range(TOTAL):
            app.record(
                c.RecordFinalTranscript(
                    room_name=ROOM,
                    meta=EventMeta(source="agent"),
                    speaker="customer",
                    text=f"line {i}",
                )
            )
            if i == TOTAL // 3:
                web.send_signal(signal.SIGKILL)
                web.wait(10)
                web = _start(db, port, tmp_path / "web.log")
            time.sleep(0.02)
        for t in threads:
            t.join(60)
    finally:
        stop.set()
        web.send_signal(signal.SIGTERM)
        web.wait(20)
    for got, reconnects, _ in clients:
        assert reconnects, "each client lost its connection when the app was killed"
        assert [text for _, text in got] == [f"line {i}" for i in range(TOTAL)]
        assert [p for p, _ in got] == sorted({p for p, _ in got})
