"""`callcenter up` stopped and started again at once, on the same ports: the port check
looks for a listener, so connections left in TIME_WAIT by the first run do not refuse the
second (they made a bind-based check fail for about a minute)."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import httpx
import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings, drop_database
from apps.runtime import Config, Runtime
from apps.stack.processes import StackError, port_has_listener
from apps.stack.stack import LocalStack, StackOptions, StackPorts, isolated_env
from tests.conftest import fresh_database


def test_a_port_in_time_wait_has_no_listener() -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    assert port_has_listener(port)
    accepted.close()  # the server's side closes first: its port goes into TIME_WAIT
    client.close()
    server.close()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # what the old check did, and why it refused
    assert not port_has_listener(port)


@pytest.mark.e2e
def test_the_stack_starts_again_straight_after_a_stop(pg_server: DatabaseSettings) -> None:
    db = fresh_database(pg_server)
    data_dir = Path(tempfile.mkdtemp(prefix="callcenter-restart-"))
    app = GroupCommitCallCenter(env=db.eventsourcing_env())
    ports = StackPorts.free()
    env = isolated_env(os.environ, CALLCENTER_DATA_DIR=str(data_dir))
    runtime = Runtime(Config(database_url=db.url, data_dir=data_dir), db, app)

    def stack() -> LocalStack:
        return LocalStack(
            runtime, StackOptions(data_dir=data_dir, ports=ports, env=env, start_agent=False)
        )

    try:
        for run in range(2):
            idle: list[socket.socket] = []
            local = stack()
            local.start()
            try:
                health = httpx.get(f"{local.web_url}/healthz", timeout=5)
                assert health.status_code == 200, (run, health.text)
                minio = httpx.get(f"http://127.0.0.1:{ports.minio}/minio/health/live", timeout=5)
                assert minio.status_code == 200
                if run == 0:  # a second stack on the same ports is refused while one runs
                    with pytest.raises(StackError, match="is taken"):
                        stack().start()
                # Idle connections, as browsers and clients keep: the servers close them
                # at stop, which leaves the servers' own ports in TIME_WAIT.
                idle = [
                    socket.create_connection(("127.0.0.1", p)) for p in (ports.minio, ports.web)
                ]
            finally:
                local.stop()
            for connection in idle:
                connection.close()
    finally:
        app.close()
        drop_database(db)
