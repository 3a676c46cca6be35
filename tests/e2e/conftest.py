"""The whole stack, for real: the `callcenter up` machinery started on free ports with
livekit-server, MinIO, the web app with its projections, and the agent worker process."""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings, drop_database
from apps.runtime import Config, Runtime
from apps.stack.stack import LocalStack, StackOptions, StackPorts, isolated_env
from tests.conftest import fresh_database

ADMIN_PASSWORD = "e2e admin password"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(pg_server: DatabaseSettings) -> Iterator[LocalStack]:
    db = fresh_database(pg_server)
    data_dir = Path(tempfile.mkdtemp(prefix="callcenter-e2e-"))
    app = GroupCommitCallCenter(env=db.eventsourcing_env())
    ports = StackPorts.free()
    env = isolated_env(
        os.environ,
        CALLCENTER_ADMIN_PASSWORD=ADMIN_PASSWORD,
        CALLCENTER_RECORDING_MODE="agent",
        CALLCENTER_DATA_DIR=str(data_dir),
        CALLCENTER_TOKEN_RATE_PER_MINUTE="1000",
    )
    runtime = Runtime(Config(database_url=db.url, data_dir=data_dir), db, app)
    local = LocalStack(runtime, StackOptions(data_dir=data_dir, ports=ports, env=env))
    try:
        local.start()
        yield local
    finally:
        local.stop()
        app.close()
        drop_database(db)


@pytest.fixture(scope="session")
def speech_wav() -> Path:
    """What the customer says, synthesised by espeak-ng: 48 kHz mono 16-bit."""
    out = Path(tempfile.mkdtemp(prefix="callcenter-speech-")) / "customer.wav"
    raw = out.with_suffix(".raw.wav")
    text = "Hello. I would like to book a test drive for a Honda Civic."
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(out), "pad", "0.5", "2"],
        check=True,
    )
    with wave.open(str(out)) as w:
        assert w.getframerate() == 48000
    return out
