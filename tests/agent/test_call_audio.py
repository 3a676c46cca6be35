"""Call audio: the agent's own recorder uploads to a real MinIO with retries; failures are
events, never the end of the call; the egress request is what the design asks for."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import av
import pytest
from livekit import api

from adapters.call_center import GroupCommitCallCenter
from adapters.storage import S3Settings, object_key
from adapters.voice.providers import Providers
from apps.agent.call import Call
from apps.agent.call_audio import AgentRecording, EgressRecording, egress_request
from apps.agent.config import AgentConfig
from domain.ids import conversation_id_for_room
from tests.agent.audio_io import FakeSpeaker, SpeechInput
from tests.agent.helpers import MINIO_BINARY, Minio, eventually, free_port, logged


def of(events: list[object], name: str) -> list[object]:
    return [e for e in events if type(e).__name__ == name]


def require_minio() -> None:
    if not MINIO_BINARY.exists():
        pytest.skip(f"MinIO binary not found at {MINIO_BINARY} (scripts/install-binaries.sh)")


async def run_call(call: Call, *, customer_audio: bool = True) -> None:
    call.session.input.audio, call.session.output.audio = SpeechInput(), FakeSpeaker(speed=4.0)
    await call.open()
    await call.start()
    if customer_audio:
        call.customer_audio_published()  # what the room reports for the first audio track
    assert call.greeting is not None
    await asyncio.wait_for(call.greeting.wait_for_playout(), 30)
    await call.end()


async def test_agent_recording_is_uploaded_with_retries_once_storage_is_back(
    app: GroupCommitCallCenter,
    agent_config: AgentConfig,
    providers: Providers,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    require_minio()
    room = "call-recorded"
    minio = Minio(tmp_path / "minio")  # not running yet: the first attempts fail
    config = dataclasses.replace(agent_config, recording_mode="agent", s3=minio.settings)
    call = Call(room_name=room, session_key="job-rec", config=config, app=app, providers=providers)
    assert isinstance(call.recording, AgentRecording)
    await run_call(call)
    local = call.recording.path
    assert local is not None and local.exists()

    async def storage_comes_back() -> None:
        await asyncio.sleep(1.5)
        await asyncio.to_thread(minio.start)

    caplog.set_level(logging.WARNING, "adapters.storage")
    try:
        back = asyncio.create_task(storage_comes_back())
        await call.close()
        await back

        events = logged(app, room)
        [requested] = of(events, "RecordingRequested")
        [started] = of(events, "RecordingStarted")
        [done] = of(events, "RecordingCompleted")
        rid = requested.recording_id
        assert requested.mode == "agent" and started.recording_id == done.recording_id == rid
        cid = str(conversation_id_for_room(room))
        assert (done.bucket, done.object_key) == (
            minio.settings.bucket,
            object_key(cid, rid, "ogg"),
        )
        assert done.content_type == "audio/ogg" and done.size_bytes > 1000 and done.duration_s > 1
        assert any("retrying" in r.getMessage() for r in caplog.records)  # it did retry
        assert not local.exists()  # uploaded, so not kept

        from adapters.storage import RecordingStore

        client = RecordingStore(minio.settings).client
        stat = client.stat_object(done.bucket, done.object_key)
        meta = {k.lower(): v for k, v in (stat.metadata or {}).items()}
        assert meta["x-amz-meta-conversation-id"] == cid and meta["x-amz-meta-room"] == room
        [rule] = client.get_bucket_lifecycle(done.bucket).rules
        assert rule.expiration.days == 365
        copy = tmp_path / "copy.ogg"
        client.fget_object(done.bucket, done.object_key, str(copy))
        with av.open(str(copy)) as ogg:
            stream = ogg.streams.audio[0]
            assert stream.codec_context.channels == 2  # customer left, agent right
    finally:
        minio.stop()


async def test_a_failed_upload_is_an_event_and_the_call_ends_normally(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    room = "call-upload-fails"
    nowhere = S3Settings(endpoint=f"127.0.0.1:{free_port()}", access_key="a", secret_key="b")
    config = dataclasses.replace(agent_config, recording_mode="agent", s3=nowhere)
    call = Call(room_name=room, session_key="job-fail", config=config, app=app, providers=providers)
    call.recording = AgentRecording(call.facts, "cid", config, upload_attempts=2, base_delay_s=0.05)
    await run_call(call)
    await call.close()  # does not raise
    events = logged(app, room)
    [failed] = of(events, "RecordingFailed")
    assert "failed after 2 attempts" in failed.reason and "kept" in failed.reason
    assert any(e.component == "recording" for e in of(events, "ErrorReported"))
    assert of(events, "AgentSessionClosed")  # the call itself ended as usual
    assert call.recording.path is not None and call.recording.path.exists()


async def test_no_customer_audio_means_no_recording(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    config = dataclasses.replace(agent_config, recording_mode="agent")
    room = "call-silent-customer"
    call = Call(room_name=room, session_key="job-none", config=config, app=app, providers=providers)
    await run_call(call, customer_audio=False)
    await call.close()
    assert not [e for e in logged(app, room) if type(e).__name__.startswith("Recording")]


def test_egress_request_is_audio_only_dual_channel_ogg_to_s3() -> None:
    s3 = S3Settings(endpoint="127.0.0.1:9000", access_key="k", secret_key="s", bucket="b")
    request = egress_request("room-1", "conversations/c/r.ogg", s3, {"room": "room-1"})
    assert request.room_name == "room-1" and request.audio_only
    assert request.audio_mixing == api.AudioMixing.DUAL_CHANNEL_AGENT
    [out] = request.file_outputs
    assert out.file_type == api.EncodedFileType.OGG and out.filepath == "conversations/c/r.ogg"
    assert out.s3.endpoint == "http://127.0.0.1:9000" and out.s3.force_path_style
    assert (out.s3.bucket, out.s3.access_key, dict(out.s3.metadata)) == (
        "b",
        "k",
        {"room": "room-1"},
    )


async def test_an_egress_that_cannot_start_is_a_failed_recording(
    app: GroupCommitCallCenter, agent_config: AgentConfig, tmp_path: Path
) -> None:
    require_minio()
    minio = Minio(tmp_path / "minio")
    await asyncio.to_thread(minio.start)
    try:
        config = dataclasses.replace(
            agent_config,
            recording_mode="egress",
            s3=minio.settings,
            livekit_url=f"ws://127.0.0.1:{free_port()}",  # no LiveKit there
            livekit_api_key="devkey",
            livekit_api_secret="secret",
        )
        from adapters.agent_sink import EventSink
        from apps.agent.facts import Facts

        sink = EventSink(app, spool_dir=tmp_path / "spool")
        await sink.start()
        recording = EgressRecording(Facts("call-egress", "job-eg", sink.put), "cid", config)
        await recording.start()
        await recording.stop()
        assert await sink.flush(10)
        await sink.close()
        events = logged(app, "call-egress")
        [failed] = of(events, "RecordingFailed")
        assert "egress could not start" in failed.reason
        [requested] = of(events, "RecordingRequested")
        assert requested.mode == "egress"
        from adapters.storage import RecordingStore

        assert RecordingStore(minio.settings).client.bucket_exists(minio.settings.bucket)
    finally:
        minio.stop()


async def test_recording_waits_for_the_customer_audio_not_a_timer(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    config = dataclasses.replace(agent_config, recording_mode="agent")
    call = Call(room_name="call-trigger", session_key="job-t", config=config, app=app,
                providers=providers)  # fmt: skip
    call.session.input.audio, call.session.output.audio = SpeechInput(), FakeSpeaker(speed=4.0)
    call.customer_audio_published()  # before the session: it starts once the recorder is attached
    await call.open()
    await call.start()
    await eventually(lambda: call.recording.recording_id is not None, 5, "the recording")
    await call.end()
    await call.close()
