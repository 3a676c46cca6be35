"""Object storage unavailable while a recording uploads: retried with backoff and stored
when it returns; after bounded retries the failure is reported, not hidden."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from adapters.storage import RecordingStore, UploadFailed, object_key
from tests.reliability.minio_server import MinioServer


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "call.ogg"
    path.write_bytes(b"OggS" + bytes(range(256)) * 400)
    return path


def test_upload_waits_out_an_outage(tmp_path: Path, recording: Path) -> None:
    minio = MinioServer(tmp_path / "minio")
    minio.start()
    store = RecordingStore(minio.settings)
    store.ensure_bucket()
    minio.stop()
    threading.Timer(2.5, minio.start).start()  # storage comes back during the retries
    key = object_key("conv-1", "rec-1", "ogg")
    started = time.monotonic()
    try:
        size = store.upload(
            recording,
            key,
            content_type="audio/ogg",
            metadata={"conversation-id": "conv-1", "room": "call-1"},
            attempts=8,
            base_delay_s=0.25,
        )
        assert time.monotonic() - started >= 2.0, "it had to wait for the storage to return"
        assert size == recording.stat().st_size
        stat = store.client.stat_object(minio.settings.bucket, key)
        assert stat.metadata["x-amz-meta-conversation-id"] == "conv-1"
        lifecycle = store.client.get_bucket_lifecycle(minio.settings.bucket)
        assert lifecycle.rules[0].expiration.days == 365
    finally:
        time.sleep(0.1)
        minio.stop()


def test_upload_gives_up_after_bounded_retries(tmp_path: Path, recording: Path) -> None:
    minio = MinioServer(tmp_path / "minio")  # never started: nothing listens on its port
    store = RecordingStore(minio.settings)
    started = time.monotonic()
    with pytest.raises(UploadFailed) as failed:
        store.upload(
            recording,
            "conversations/x/y.ogg",
            content_type="audio/ogg",
            metadata={},
            attempts=3,
            base_delay_s=0.1,
        )
    assert "after 3 attempts" in str(failed.value)
    assert time.monotonic() - started < 10
