"""PostgreSQL stopped in the middle of a load run and started again: no acknowledged
event is lost or duplicated, projections resume from their tracking positions, and an SSE
client sees every message once, in order, with no gap."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings, EmbeddedPostgres
from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.readmodels import db_rows, fold_rows, wait_for_position
from tests.web.conftest import WebServer, room_event, serve, web_settings
from tests.web.sse_client import read_events

ROOMS = [f"call-outage-{i}" for i in range(8)]
WATCHED = ROOMS[0]


@pytest.fixture
def own_postgres() -> Iterator[tuple[EmbeddedPostgres, DatabaseSettings]]:
    with tempfile.TemporaryDirectory(prefix="callcenter-outage-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "postgres")
        settings = server.start()
        try:
            yield server, settings
        finally:
            server.stop()


def _load(
    app: GroupCommitCallCenter, stop: threading.Event, acked: list[str], failed: list[str]
) -> None:
    """Closed-loop callers through the group commit, like the agent and webhooks."""
    i = 0
    while not stop.is_set():
        batch = []
        for room in ROOMS:
            key = f"{room}:{i}"
            cmd = c.RecordFinalTranscript(
                room_name=room,
                meta=EventMeta(source="agent", external_id=key),
                speaker="customer",
                text=key,
            )
            batch.append((key, app.submit(cmd)))
        for key, future in batch:
            try:
                outcome = future.result(timeout=30)
                if outcome.status == "recorded":
                    acked.append(key)
            except Exception:
                failed.append(key)
        i += 1
        time.sleep(0.01)


def _follow(
    web: WebServer, headers: dict[str, str], got: list[tuple[int, str]], stop: threading.Event
) -> None:
    """An SSE client that reconnects with Last-Event-ID whenever its stream ends."""
    cid = conversation_id_for_room(WATCHED)
    last = "0"
    while not stop.is_set():
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(5, read=3)) as client,
                client.stream(
                    "GET",
                    f"{web.url}/api/conversations/{cid}/stream",
                    headers={**headers, "Last-Event-ID": last},
                ) as r,
            ):
                for m in read_events(r):
                    if m.event == "final":
                        got.append((int(m.id or 0), m.data["text"]))
                        last = m.id or last
                    if stop.is_set():
                        return
        except httpx.HTTPError:
            time.sleep(0.2)


def test_postgres_restart_mid_load(own_postgres: tuple[EmbeddedPostgres, DatabaseSettings]) -> None:
    server, db = own_postgres
    app = GroupCommitCallCenter(env=db.eventsourcing_env())
    with serve(app, db, web_settings()) as web:
        for room in ROOMS:
            web.webhook(room_event("room_started", room))
        web.wait_projected()
        headers = web.bearer()
        stop, stop_sse = threading.Event(), threading.Event()
        acked: list[str] = []
        failed: list[str] = []
        got: list[tuple[int, str]] = []
        loader = threading.Thread(target=_load, args=(app, stop, acked, failed))
        follower = threading.Thread(target=_follow, args=(web, headers, got, stop_sse))
        follower.start()
        loader.start()
        time.sleep(3)
        before_outage = len(acked)
        server.halt()
        time.sleep(3)
        server.resume()
        time.sleep(4)
        stop.set()
        loader.join(60)
        assert before_outage > 0 and len(acked) > before_outage, "load went on after the restart"
        assert failed, "some commands must have failed while the database was down"

        # Every acknowledged command is stored exactly once.
        stored: list[str] = []
        for room in ROOMS:
            stored += [
                e.text
                for _, e in app.log_of(conversation_id_for_room(room))
                if type(e).__name__ == "FinalTranscriptRecorded"
            ]  # type: ignore[attr-defined]
        assert len(stored) == len(set(stored))
        assert set(acked) <= set(stored)

        # Projections resumed from their positions and agree with the log.
        wait_for_position(db.conninfo, app.store.max_notification_id() or 0, 60)
        ids = [conversation_id_for_room(r) for r in ROOMS]
        assert db_rows(db.conninfo, ids) == fold_rows(app, ids)

        # The SSE client saw the watched call's lines once each, in order, no gap.
        expected = [t for t in stored if t.startswith(WATCHED + ":")]
        deadline = time.monotonic() + 30
        while len(got) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop_sse.set()
        follower.join(10)
        assert [t for _, t in got] == expected
        assert [p for p, _ in got] == sorted({p for p, _ in got})
    app.close()
