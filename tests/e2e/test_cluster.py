"""The cluster of `callcenter up --nodes 2` on one host: Redis, two livekit-server nodes,
two agent workers, MinIO, the projections process, and two web processes behind nginx
with one session secret.

- Calls placed on both LiveKit nodes are answered by both workers; when one worker is
  killed mid-call, its calls are recorded as ended (`agent_lost`) and their rooms closed,
  while new calls go to the other worker.
- A login made on one web process works on the other; a dashboard stream on web process A
  sees every call recorded through web process B, once; and when a web process dies, its
  stream resumes through the proxy with `Last-Event-ID`, with no gap and no duplicate.
Everything the cluster started is stopped, even when a test fails."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from livekit import rtc

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings, drop_database
from apps.runtime import Config, Runtime
from apps.stack.cluster import ClusterOptions, ClusterPorts, ClusterStack
from apps.stack.stack import isolated_env
from domain.ids import conversation_id_for_room
from tests.conftest import fresh_database
from tests.e2e.livekit_client import join
from tests.web.sse_client import SseMessage, read_events

PASSWORD = "cluster admin password"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster(pg_server: DatabaseSettings) -> Iterator[ClusterStack]:
    db = fresh_database(pg_server)
    data_dir = Path(tempfile.mkdtemp(prefix="callcenter-cluster-"))
    app = GroupCommitCallCenter(env=db.eventsourcing_env())
    env = isolated_env(
        os.environ,
        CALLCENTER_ADMIN_PASSWORD=PASSWORD,
        CALLCENTER_TOKEN_RATE_PER_MINUTE="1000",
        CALLCENTER_RECORDING_MODE="agent",
    )
    runtime = Runtime(Config(database_url=db.url, data_dir=data_dir), db, app)
    stack = ClusterStack(
        runtime,
        ClusterOptions(data_dir, nodes=2, ports=ClusterPorts.free(2), env=env),
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        app.close()
        drop_database(db)
    assert not any(p.alive for p in stack.processes)


def _login(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    r = client.post("/api/admin/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


class Listener:
    """A dashboard stream read on a thread, its messages kept."""

    def __init__(self, client: httpx.Client, last_event_id: str | None = None) -> None:
        self.client, self.messages = client, []
        self.error: BaseException | None = None
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.thread = threading.Thread(target=self._read, args=(headers,), daemon=True)
        self.thread.start()

    def _read(self, headers: dict[str, str]) -> None:
        try:
            with self.client.stream("GET", "/api/stream", headers=headers, timeout=None) as r:
                assert r.status_code == 200
                for message in read_events(r):
                    self.messages.append(message)
        except (httpx.HTTPError, AssertionError) as e:
            self.error = e

    def requested(self, rooms: set[str]) -> list[SseMessage]:
        return [
            m
            for m in self.messages
            if m.event == "conversation"
            and isinstance(m.data, dict)
            and m.data.get("room_name") in rooms
            and m.data.get("change") == "requested"
        ]

    def wait_for(self, rooms: set[str], timeout: float = 30) -> list[SseMessage]:
        deadline = time.monotonic() + timeout
        while len(self.requested(rooms)) < len(rooms):
            assert time.monotonic() < deadline, (len(self.requested(rooms)), self.error)
            time.sleep(0.1)
        return self.requested(rooms)


def _calls(url: str, n: int) -> set[str]:
    rooms = set()
    for _ in range(n):
        grant = httpx.post(f"{url}/api/get-token", json={"participant_name": "Caller"}, timeout=20)
        assert grant.status_code == 200, grant.text
        rooms.add(grant.json()["room_name"])
    return rooms


def _worker_of(cluster: ClusterStack, room: str) -> str | None:
    """Which agent worker took the call: its log names the room."""
    for name in ("agent-1", "agent-2"):
        if room in cluster.process(name).log_path.read_text(errors="replace"):
            return name
    return None


async def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.25)


def _has_agent(room: rtc.Room) -> bool:
    kinds = [p.kind for p in room.remote_participants.values()]
    return rtc.ParticipantKind.PARTICIPANT_KIND_AGENT in kinds


async def test_both_nodes_and_both_workers_answer_and_a_lost_worker_ends_its_calls(
    cluster: ClusterStack,
) -> None:
    calls: dict[str, tuple[str, rtc.Room]] = {}  # room name -> (node url, customer)
    try:
        for attempt in range(8):  # until each worker has a call (LiveKit places by load)
            web = cluster.web_urls()[attempt % 2]  # web-1 hands out node 1, web-2 node 2
            grant = httpx.post(f"{web}/api/get-token", json={"participant_name": "C"}, timeout=20)
            assert grant.status_code == 200, grant.text
            g = grant.json()
            customer, _ = await join(g["livekit_url"], g["token"])
            calls[g["room_name"]] = (g["livekit_url"], customer)
            await _wait(lambda c=customer: _has_agent(c), 90, "an agent to answer")
            await _wait(lambda r=g["room_name"]: _worker_of(cluster, r) is not None, 10, "log")
            workers = {_worker_of(cluster, r) for r in calls}
            if attempt >= 1 and workers == {"agent-1", "agent-2"}:
                break
        assert {url for url, _ in calls.values()} == set(cluster.livekit_urls)
        assert {_worker_of(cluster, r) for r in calls} == {"agent-1", "agent-2"}

        lost = {r for r in calls if _worker_of(cluster, r) == "agent-1"}
        kept = set(calls) - lost
        victim = cluster.process("agent-1").process
        assert victim is not None
        os.killpg(victim.pid, signal.SIGKILL)  # the worker dies mid-call

        with closing(_login(cluster.web_url)) as admin:

            def row(room: str) -> dict[str, object]:
                cid = conversation_id_for_room(room)
                return admin.get(f"/api/conversations/{cid}").json()  # type: ignore[no-any-return]

            await _wait(
                lambda: all(row(r)["status"] == "ended" for r in lost), 60, "the lost calls to end"
            )
            assert {row(r)["end_reason"] for r in lost} == {"agent_lost"}
            await _wait(
                lambda: all(
                    calls[r][1].connection_state == rtc.ConnectionState.CONN_DISCONNECTED
                    for r in lost
                ),
                30,
                "the lost calls' rooms to close",
            )
            assert all(row(r)["status"] != "ended" for r in kept)  # the others go on

        grant = httpx.post(
            f"{cluster.web_url}/api/get-token", json={"participant_name": "C"}, timeout=20
        ).json()
        customer, _ = await join(grant["livekit_url"], grant["token"])
        calls[grant["room_name"]] = (grant["livekit_url"], customer)
        await _wait(lambda: _has_agent(customer), 90, "the surviving worker to answer")
        await _wait(lambda: _worker_of(cluster, grant["room_name"]) == "agent-2", 10, "log")
    finally:
        for _, customer in calls.values():
            await customer.disconnect()


def test_a_login_and_a_stream_on_one_web_process_see_calls_made_through_the_other(
    cluster: ClusterStack,
) -> None:
    web_a, web_b = cluster.web_urls()
    with closing(_login(web_a)) as admin_a:
        with httpx.Client(base_url=web_b, cookies=admin_a.cookies, timeout=10) as same_login_b:
            assert same_login_b.get("/api/admin/me").json()["name"] == "admin"
        listener = Listener(admin_a)
        time.sleep(0.5)  # the stream is open
        rooms = _calls(web_b, 5)
        seen = listener.wait_for(rooms)
        assert len({m.id for m in seen}) == len(seen) == 5  # every call once
        # and the proxy's address serves both: the calls are listed through it too
        with closing(_login(cluster.web_url)) as admin:
            listed = {c["room_name"] for c in admin.get("/api/conversations").json()["items"]}
            assert rooms <= listed


def test_a_stream_resumes_through_the_proxy_when_its_web_process_dies(
    cluster: ClusterStack,
) -> None:
    web_a, web_b = cluster.web_urls()
    with closing(_login(web_a)) as admin_a:
        listener = Listener(admin_a)
        time.sleep(0.5)
        before = _calls(web_b, 2)
        seen_before = listener.wait_for(before)
        last_id = max(int(m.id or 0) for m in listener.messages)
        cluster.process("web-1").stop()  # the client's web process goes away
        listener.thread.join(10)
        assert listener.error is not None or not listener.thread.is_alive()
        during = _calls(web_b, 3)  # made while the client is disconnected
        with httpx.Client(base_url=cluster.web_url, cookies=admin_a.cookies, timeout=10) as via:
            resumed = Listener(via, last_event_id=str(last_id))
            after = _calls(cluster.web_url, 2)
            seen = resumed.wait_for(during | after)
    ids = [int(m.id or 0) for m in resumed.messages]
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # in order, none twice
    assert min(ids) > last_id  # nothing already seen is sent again
    assert {m.data["room_name"] for m in seen} == during | after  # nothing missed
    assert not {m.data["room_name"] for m in resumed.requested(before)}
    assert len(seen_before) == 2
