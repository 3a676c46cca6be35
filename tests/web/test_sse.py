"""Server-Sent Events: resume with Last-Event-ID gets exactly what was missed; a slow
client is told to resync."""

from __future__ import annotations

import threading
import time

import httpx

from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.web.conftest import WebServer, room_event
from tests.web.sse_client import read_events

TOTAL = 60


def _writer(web: WebServer, room: str, stop: threading.Event) -> None:
    for i in range(TOTAL):
        web.app.record(
            c.RecordFinalTranscript(
                room_name=room, meta=EventMeta(source="agent"), speaker="customer", text=f"line {i}"
            )
        )
        time.sleep(0.02)
    stop.set()


def test_reconnect_with_last_event_id_gets_every_message_once(web: WebServer) -> None:
    room = "call-sse"
    web.webhook(room_event("room_started", room))
    start = web.app.store.max_notification_id() or 0
    web.wait_projected()
    cid = conversation_id_for_room(room)
    headers = web.bearer()
    url = f"{web.url}/api/conversations/{cid}/stream"
    done = threading.Event()
    writer = threading.Thread(target=_writer, args=(web, room, done))
    received: list[tuple[int, str]] = []
    with httpx.Client(timeout=httpx.Timeout(10, read=20)) as client:
        with client.stream("GET", url, headers={**headers, "Last-Event-ID": str(start)}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            writer.start()
            for m in read_events(r):
                if m.event == "final":
                    received.append((int(m.id or 0), m.data["text"]))
                if len(received) == 15:
                    break  # drop the connection mid-stream while the writer goes on
        time.sleep(0.3)
        last = received[-1][0]
        with client.stream("GET", url, headers={**headers, "Last-Event-ID": str(last)}) as r:
            for m in read_events(r):
                if m.event == "final":
                    received.append((int(m.id or 0), m.data["text"]))
                if len(received) >= TOTAL:
                    break
    writer.join()
    texts = [t for _, t in received]
    assert texts == [f"line {i}" for i in range(TOTAL)]
    ids = [i for i, _ in received]
    assert ids == sorted(set(ids))


def test_dashboard_feed_and_resume(web: WebServer) -> None:
    headers = web.bearer()
    start = web.app.store.max_notification_id() or 0
    for i in range(3):
        web.webhook(room_event("room_started", f"call-dash-{i}"))
    web.webhook(room_event("room_finished", "call-dash-0"))
    web.wait_projected()
    with httpx.Client(timeout=httpx.Timeout(10, read=20)) as client:
        with client.stream(
            "GET", f"{web.url}/api/stream", headers={**headers, "Last-Event-ID": str(start)}
        ) as r:
            seen = []
            for m in read_events(r):
                seen.append((m.event, m.data.get("room_name"), m.data.get("change")))
                if len(seen) == 4:
                    break
    assert seen == [
        ("conversation", "call-dash-0", "started"),
        ("conversation", "call-dash-1", "started"),
        ("conversation", "call-dash-2", "started"),
        ("conversation", "call-dash-0", "ended"),
    ]


def test_a_slow_client_is_told_to_resync_and_does_not_stall_others(web: WebServer) -> None:
    room = "call-slow"
    web.webhook(room_event("room_started", room))
    web.wait_projected()
    cid = conversation_id_for_room(room)
    headers = web.bearer()
    url = f"{web.url}/api/conversations/{cid}/stream"
    count, payload = 6000, "x" * 3000  # ~18 MB: more than the sockets can buffer
    fast: list[str] = []

    def read_fast() -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=60)) as client,
            client.stream("GET", url, headers=headers) as r,
        ):
            for m in read_events(r):
                fast.append(m.event)
                if m.event == "resync" or len(fast) >= count:
                    return

    with httpx.Client(timeout=httpx.Timeout(10, read=60)) as client:
        with client.stream("GET", url, headers=headers) as slow:
            reader = threading.Thread(target=read_fast)
            reader.start()
            time.sleep(0.5)
            for start in range(0, count, 1000):
                web.app.record_many(
                    [
                        c.RecordInterimTranscript(
                            room_name=room,
                            meta=EventMeta(source="agent"),
                            speaker="customer",
                            text=f"{i} {payload}",
                        )
                        for i in range(start, start + 1000)
                    ]
                )
            web.wait_projected(60)
            reader.join(60)
            # Only now does the slow client read: what it gets ends with a resync order.
            events = [m.event for m in read_events(slow)]
    assert fast == ["interim"] * count
    assert events[-1] == "resync"
    assert 0 < events.count("interim") < count
