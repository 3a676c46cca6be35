"""The retention policy, run by `callcenter retention run` on the real database and MinIO:
what is older than the policy allows is erased (audited like a manual erasure), nothing
else is touched, and the bucket's lifecycle rule follows the setting."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from adapters.storage import RecordingStore
from apps.cli import main
from domain import commands as c
from domain import events as ev
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta, utcnow
from domain.privacy import ERASED
from projections.registry import READ_MODELS
from projections.worker import EventSource, ProjectionWorker
from tests.reliability.minio_server import MinioServer
from tests.web.test_recording_audio import tone_wav

#: Rooms by how many days ago their call ended.
AGES = {"call-old": 40, "call-middle": 10, "call-recent": 1}


def _call(
    app: GroupCommitCallCenter, store: RecordingStore, room: str, days_ago: int, wav: Path
) -> None:
    at = utcnow() - timedelta(days=days_ago)

    def m(seconds: float) -> EventMeta:
        return EventMeta(source="agent", occurred_at=at + timedelta(seconds=seconds))

    app.record(c.StartCall(room_name=room, meta=m(0), room_sid="RM"))
    app.record(
        c.RecordFinalTranscript(room_name=room, meta=m(1), speaker="customer", text=f"I am {room}")
    )
    cid = str(conversation_id_for_room(room))
    key = f"conversations/{cid}/rec-1.wav"
    size = store.upload(wav, key, content_type="audio/wav", metadata={"conversation-id": cid})
    app.record(c.RequestRecording(room_name=room, meta=m(2), recording_id="rec-1", mode="agent"))
    app.record(
        c.CompleteRecording(
            room_name=room, meta=m(3), recording_id="rec-1", bucket=store.settings.bucket,
            object_key=key, size_bytes=size, duration_s=4.0, content_type="audio/wav",
        )
    )  # fmt: skip
    app.record(c.EndCall(room_name=room, meta=m(60), reason="hangup"))


def _words(app: GroupCommitCallCenter, room: str) -> list[str]:
    return [
        e.text
        for _, e in app.events_of(conversation_id_for_room(room))
        if isinstance(e, ev.FinalTranscriptRecorded)
    ]


def test_retention_erases_what_is_due_and_nothing_else(
    app: GroupCommitCallCenter,
    db: DatabaseSettings,
    minio: MinioServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = dataclasses.replace(minio.settings, bucket="retention-recordings")
    store = RecordingStore(settings)
    wav = tmp_path / "call.wav"
    tone_wav(wav)
    for room, days in AGES.items():
        _call(app, store, room, days, wav)
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    ProjectionWorker(db.conninfo, source, list(READ_MODELS.values())).catch_up()

    monkeypatch.setenv("CALLCENTER_DATABASE_URL", db.url)
    monkeypatch.setenv("CALLCENTER_RETENTION_DAYS", "30")
    monkeypatch.setenv("CALLCENTER_RECORDING_RETENTION_DAYS", "7")
    monkeypatch.setenv("CALLCENTER_S3_ENDPOINT", settings.endpoint)
    monkeypatch.setenv("CALLCENTER_S3_ACCESS_KEY", settings.access_key)
    monkeypatch.setenv("CALLCENTER_S3_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("CALLCENTER_S3_BUCKET", settings.bucket)
    old, middle = conversation_id_for_room("call-old"), conversation_id_for_room("call-middle")

    # A dry run lists what is due and changes nothing.
    before = app.store.max_notification_id()
    assert main(["retention", "run", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"calls due: 1\n  {old}" in out and f"recordings due: 1\n  {middle}" in out
    assert app.store.max_notification_id() == before

    assert main(["retention", "run"]) == 0
    # Read as another process would (this one holds the keys it read, for a few seconds).
    app = GroupCommitCallCenter(env=db.eventsourcing_env())
    # The old call is erased whole; the middle one loses only its audio; the recent one
    # keeps everything.
    assert _words(app, "call-old") == [ERASED]
    assert _words(app, "call-middle") == ["I am call-middle"]
    assert _words(app, "call-recent") == ["I am call-recent"]
    objects = {o.object_name for o in store.client.list_objects(settings.bucket, recursive=True)}
    assert objects == {f"conversations/{conversation_id_for_room('call-recent')}/rec-1.wav"}
    audit = {
        (str(e.originator_id), type(e).__name__, e.scope, e.requested_by)
        for room in AGES
        for _, e in app.events_of(conversation_id_for_room(room))
        if isinstance(e, ev.ErasureRequested | ev.ErasureCompleted)
    }
    assert audit == {
        (str(old), "ErasureRequested", "all", "retention"),
        (str(old), "ErasureCompleted", "all", "retention"),
        (str(middle), "ErasureRequested", "recordings", "retention"),
        (str(middle), "ErasureCompleted", "recordings", "retention"),
    }
    assert store.lifecycle_days() == 7

    # Run again: nothing more is due, nothing is recorded.
    after = app.store.max_notification_id()
    assert main(["retention", "run"]) == 0
    assert "calls erased: 0" in capsys.readouterr().out
    assert app.store.max_notification_id() == after
    app.close()


def test_a_bad_retention_setting_is_a_clear_error(
    db: DatabaseSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", db.url)
    monkeypatch.setenv("CALLCENTER_RETENTION_DAYS", "soon")
    assert main(["retention", "run"]) != 0
    assert "CALLCENTER_RETENTION_DAYS must be a whole number" in capsys.readouterr().err
