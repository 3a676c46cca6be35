"""`GET /api/conversations/{id}/recording/audio` against a real MinIO and the real store:
the whole file, one byte range (206), a range past the end (416), malformed ranges (400),
and the guard (401, 403) and the calls without a recording (404)."""

from __future__ import annotations

import math
import struct
import time
import wave
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.storage import RecordingStore, object_key
from apps.web.byte_ranges import ByteRange, parse_range
from apps.web.errors import ApiError
from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.reliability.minio_server import MinioServer
from tests.web.conftest import WebServer

ROOM = "call-audio-ranges"
PASSWORD = "a long enough password"


def tone_wav(path: Path, seconds: float = 4.0, rate: int = 16000) -> bytes:
    """A real 16-bit mono WAV (a 440 Hz tone), larger than one streamed chunk."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return path.read_bytes()


def store_recording(
    app: GroupCommitCallCenter, store: RecordingStore, room: str, path: Path
) -> str:
    """Upload `path` and record it as the call's completed recording, as the agent does
    (RequestRecording, StartRecording, then CompleteRecording once it is stored)."""
    cid = str(conversation_id_for_room(room))
    rid = "rec-test-audio"
    key = object_key(cid, rid, "wav")
    size = store.upload(path, key, content_type="audio/wav", metadata={"conversation-id": cid})
    meta = EventMeta(source="agent")
    app.record(c.RequestRecording(room_name=room, meta=meta, recording_id=rid, mode="agent"))
    app.record(c.StartRecording(room_name=room, meta=meta, recording_id=rid))
    app.record(
        c.CompleteRecording(
            room_name=room,
            meta=meta,
            recording_id=rid,
            bucket=store.settings.bucket,
            object_key=key,
            size_bytes=size,
            duration_s=4.0,
            content_type="audio/wav",
        )
    )
    return key


def test_the_whole_file_and_single_ranges(
    storage_web: WebServer, minio: MinioServer, tmp_path: Path
) -> None:
    data = tone_wav(tmp_path / "call.wav")
    size = len(data)
    store_recording(storage_web.app, RecordingStore(minio.settings), ROOM, tmp_path / "call.wav")
    storage_web.wait_projected()
    url = f"/api/conversations/{conversation_id_for_room(ROOM)}/recording/audio"
    with closing(storage_web.admin()) as admin:
        whole = admin.get(url)
        assert whole.status_code == 200, whole.text
        assert whole.content == data
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-length"] == str(size)
        assert whole.headers["content-type"] == "audio/wav"
        assert "content-range" not in whole.headers
        assert "no-store" in whole.headers["cache-control"]

        for header, expected, first, last in (
            ("bytes=0-99", data[:100], 0, 99),
            ("bytes=100-", data[100:], 100, size - 1),
            ("bytes=-50", data[-50:], size - 50, size - 1),
            ("bytes=70000-70009", data[70000:70010], 70000, 70009),  # past the first chunk
            ("bytes=0-999999999", data, 0, size - 1),  # clipped to the object
            ("bytes=-999999999", data, 0, size - 1),
        ):
            part = admin.get(url, headers={"Range": header})
            assert part.status_code == 206, (header, part.text)
            assert part.content == expected, header
            assert part.headers["content-range"] == f"bytes {first}-{last}/{size}", header
            assert part.headers["content-length"] == str(last - first + 1), header
            assert part.headers["accept-ranges"] == "bytes"

        head = admin.head(url, headers={"Range": "bytes=10-19"})
        assert head.status_code == 206 and head.content == b""
        assert head.headers["content-range"] == f"bytes 10-19/{size}"

        # an If-Range naming another version of the file gets all of it
        stale = admin.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-this-one"'})
        assert stale.status_code == 200 and stale.content == data
        fresh = admin.get(url, headers={"Range": "bytes=0-9", "If-Range": whole.headers["etag"]})
        assert fresh.status_code == 206 and fresh.content == data[:10]

        for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
            r = admin.get(url, headers={"Range": header})
            assert r.status_code == 416, (header, r.text)
            assert r.headers["content-range"] == f"bytes */{size}"
            assert r.json()["error"] == "range_not_satisfiable"
            assert r.json()["size_bytes"] == size

        for header in ("bytes=abc", "bytes=9-1", "bytes=-", "bytes=0-1,5-6", "items=0-5", ""):
            r = admin.get(url, headers={"Range": header})
            assert r.status_code == 400, (header, r.text)
            assert r.json()["error"] == "invalid_range" and r.json()["reason"]


def test_guarded_like_the_recording_route_and_404_without_a_recording(
    storage_web: WebServer, minio: MinioServer, tmp_path: Path
) -> None:
    store = RecordingStore(minio.settings)
    key = store_recording(storage_web.app, store, ROOM, _wav(tmp_path))
    pending = "call-audio-pending"  # a recording requested and started, never completed
    storage_web.app.record(
        c.RequestRecording(
            room_name=pending, meta=EventMeta(source="agent"), recording_id="r2", mode="agent"
        )
    )
    storage_web.wait_projected()
    url = f"/api/conversations/{conversation_id_for_room(ROOM)}/recording/audio"

    nobody = storage_web.client().get(url)
    assert nobody.status_code == 401 and nobody.json()["error"] == "unauthorized"
    with closing(storage_web.admin()) as admin:
        r = admin.post(
            "/api/admin/users", json={"name": "ana", "role": "analyst", "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        r = admin.post(
            "/api/admin/users", json={"name": "aud", "role": "auditor", "password": PASSWORD}
        )
        assert r.status_code == 201, r.text

        for cid in (conversation_id_for_room(pending), "00000000-0000-0000-0000-000000000000"):
            missing = admin.get(f"/api/conversations/{cid}/recording/audio")
            assert missing.status_code == 404, missing.text
            assert missing.json()["error"] == "not_found"
        assert admin.get("/api/conversations/nonsense/recording/audio").status_code == 404

    for name, status in (("ana", 403), ("aud", 206)):
        client = storage_web.client()
        assert client.post(
            "/api/admin/login", json={"username": name, "password": PASSWORD}
        ).is_success
        with closing(client):
            r = client.get(url, headers={"Range": "bytes=0-3"})
            assert r.status_code == status, (name, r.text)
            if status == 403:
                assert r.json() == {
                    "error": "forbidden",
                    "reason": "the analyst role may not do this (replay_calls)",
                }
            else:
                assert r.content == b"RIFF"

    # the object expired from the bucket (its lifecycle rule): 404, not a broken stream
    store.client.remove_object(minio.settings.bucket, key)
    with closing(storage_web.admin()) as admin:
        gone = admin.get(url)
        assert gone.status_code == 404 and "no longer stored" in gone.json()["reason"]


def test_a_player_that_hangs_up_mid_range_frees_its_storage_connection(
    storage_web: WebServer, minio: MinioServer, tmp_path: Path
) -> None:
    """A seek abandons the range being read: many of them in a row, each dropped after its
    first bytes, leave the route answering and no connection to the storage held open."""
    data = tone_wav(tmp_path / "long.wav", seconds=30.0)  # about 1 MB
    store_recording(storage_web.app, RecordingStore(minio.settings), ROOM, tmp_path / "long.wav")
    storage_web.wait_projected()
    url = f"/api/conversations/{conversation_id_for_room(ROOM)}/recording/audio"
    with closing(storage_web.admin()) as admin:
        assert admin.get(url, timeout=30).content == data  # the route's client is warm
        # Every storage client in this process (the web app's, this test's, the MinIO
        # fixture's) may keep one idle pooled connection: those are not leaks.
        pooled = _connections_to(minio.port)
        for i in range(40):
            with admin.stream("GET", url, headers={"Range": f"bytes={i * 1000}-"}) as r:
                assert r.status_code == 206
                first = next(r.iter_raw(1024))
                assert first == data[i * 1000 : i * 1000 + len(first)]
            # leaving the block closes the connection with most of the range unread
        whole = admin.get(url, timeout=30)
        assert whole.status_code == 200 and whole.content == data
    deadline = time.monotonic() + 5
    while (held := _connections_to(minio.port)) > pooled + 1:
        assert time.monotonic() < deadline, (
            f"{held} connections to the storage left open ({pooled} pooled before)"
        )
        time.sleep(0.1)


def _connections_to(port: int) -> int:
    """This process's (the web server's) open TCP connections to `port`."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


def test_no_object_storage_is_503(web: WebServer) -> None:
    web.app.record(
        c.RequestRecording(
            room_name=ROOM, meta=EventMeta(source="agent"), recording_id="r1", mode="agent"
        )
    )
    web.wait_projected()
    with closing(web.admin()) as admin:
        r = admin.get(f"/api/conversations/{conversation_id_for_room(ROOM)}/recording/audio")
    assert r.status_code == 503 and r.json()["error"] == "storage_unavailable"


def _wav(tmp_path: Path) -> Path:
    path = tmp_path / "short.wav"
    tone_wav(path, seconds=0.5)
    return path


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, ByteRange(0, 0)),
        ("bytes=9-", 10, ByteRange(9, 9)),
        ("bytes=-3", 10, ByteRange(7, 9)),
        ("bytes=-30", 10, ByteRange(0, 9)),
        ("bytes = 2 - 4", 10, ByteRange(2, 4)),
        ("bytes=5-500", 10, ByteRange(5, 9)),
    ],
)
def test_parse_range(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size", "status"),
    [
        ("bytes=10-", 10, 416),
        ("bytes=0-", 0, 416),
        ("bytes=-1", 0, 416),
        ("bytes=-0", 10, 416),
        ("bytes=3-2", 10, 400),
        ("bytes=1-2,4-5", 10, 400),
        ("bytes=" + "9" * 25 + "-", 10, 400),
        ("bytes=0x10-", 10, 400),
        ("pages=1-2", 10, 400),
    ],
)
def test_parse_range_refuses(header: str, size: int, status: int) -> None:
    with pytest.raises(ApiError) as refused:
        parse_range(header, size)
    assert refused.value.status == status
