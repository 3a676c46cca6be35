"""Recording a call, in one of two modes, started by the customer's first audio track.

* `egress`: LiveKit's room-composite egress records the room (audio only, dual channel:
  agent / customer, OGG) and uploads straight to S3/MinIO; its progress comes back through
  the egress webhooks, whose recording id is the egress id.
* `agent`: livekit-agents' own session recorder (`RecorderIO`, what `AgentSession.start(
  record=...)` uses: a stereo OGG, customer left, agent right) writes a file, uploaded with
  the `minio` client when the session ends, with retries. `record=` would start it with the
  session; we attach the same recorder and start it when the customer's audio appears.

The bucket is created if missing, with a 365-day lifecycle rule; objects carry the
conversation id and the room as metadata. A failure is recorded and never ends the call.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import av
from livekit import api
from livekit.agents import AgentSession
from livekit.agents.voice.recorder_io import RecorderIO

from adapters.storage import RecordingStore, S3Settings, object_key
from apps.agent.config import AgentConfig
from apps.agent.facts import Facts
from apps.agent.retry import with_backoff
from domain import commands as c

log = logging.getLogger(__name__)

CONTENT_TYPE = "audio/ogg"


def object_metadata(conversation_id: str, room_name: str) -> dict[str, str]:
    return {"conversation-id": conversation_id, "room": room_name}


def record_uploaded(
    facts: Facts,
    recording_id: str,
    s3: S3Settings,
    key: str,
    size: int,
    duration_s: float,
    content_type: str,
) -> None:
    """A recording this agent uploaded to object storage is complete."""
    facts.record(
        c.CompleteRecording,
        f"recording/{recording_id}/completed",
        recording_id=recording_id,
        bucket=s3.bucket,
        object_key=key,
        size_bytes=size,
        duration_s=duration_s,
        content_type=content_type,
    )


class CallRecording:
    """No recording (`off`); the base of the two modes."""

    mode = "off"

    def __init__(self, facts: Facts, conversation_id: str) -> None:
        self._facts = facts
        self._conversation_id = conversation_id
        self.recording_id: str | None = None

    def attach(self, session: AgentSession[Any]) -> None:
        """Called once the session has started, before anything is said."""

    async def start(self) -> None:
        """The customer's first audio track was published."""

    async def stop(self) -> None:
        """The session ended: stop capturing."""

    async def finish(self) -> None:
        """After leaving the room: upload what was captured."""

    def _failed(self, recording_id: str | None, reason: str) -> None:
        log.warning("recording failed: %s", reason)
        rid = recording_id or f"{self.mode}-{uuid.uuid4().hex[:12]}"
        if recording_id is None:
            self._request(rid)
        self._facts.record(
            c.FailRecording, f"recording/{rid}/failed", recording_id=rid, reason=reason[:2000]
        )
        self._facts.record(
            c.ReportError,
            self._facts.next("error"),
            component="recording",
            message=reason[:10_000],
            recoverable=True,
        )

    def _request(self, rid: str) -> None:
        self._facts.record(
            c.RequestRecording, f"recording/{rid}/requested", recording_id=rid, mode=self.mode
        )


def egress_request(
    room_name: str, key: str, s3: S3Settings, metadata: dict[str, str]
) -> api.RoomCompositeEgressRequest:
    return api.RoomCompositeEgressRequest(
        room_name=room_name,
        audio_only=True,
        audio_mixing=api.AudioMixing.DUAL_CHANNEL_AGENT,
        file_outputs=[
            api.EncodedFileOutput(
                file_type=api.EncodedFileType.OGG,
                filepath=key,
                s3=api.S3Upload(
                    access_key=s3.access_key,
                    secret=s3.secret_key,
                    region=s3.region,
                    endpoint=s3.origin,
                    bucket=s3.bucket,
                    force_path_style=True,
                    metadata=metadata,
                ),
            )
        ],
    )


class EgressRecording(CallRecording):
    mode = "egress"

    def __init__(
        self, facts: Facts, conversation_id: str, config: AgentConfig, *, attempts: int = 3
    ) -> None:
        super().__init__(facts, conversation_id)
        self._config, self._attempts = config, attempts
        self._started = False

    def _api(self) -> api.LiveKitAPI:
        url = self._config.livekit_url.replace("wss://", "https://").replace("ws://", "http://")
        return api.LiveKitAPI(url, self._config.livekit_api_key, self._config.livekit_api_secret)

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        s3, room = self._config.s3, self._facts.room_name
        if s3 is None:
            self._failed(None, "object storage is not configured (CALLCENTER_S3_*)")
            return
        key = object_key(self._conversation_id, f"egress-{uuid.uuid4().hex[:12]}", "ogg")
        request = egress_request(room, key, s3, object_metadata(self._conversation_id, room))
        try:
            store = RecordingStore(s3)
            await with_backoff(
                "creating the recordings bucket",
                lambda: asyncio.to_thread(store.ensure_bucket),
                attempts=self._attempts,
            )
            async with self._api() as lk:
                info = await with_backoff(
                    "starting the room egress",
                    lambda: lk.egress.start_room_composite_egress(request),
                    attempts=self._attempts,
                )
        except Exception as e:
            self._failed(None, f"egress could not start: {e}")
            return
        self.recording_id = info.egress_id
        self._request(info.egress_id)  # the egress webhooks report the rest under this id
        log.info("egress %s recording room %s to %s", info.egress_id, room, key)

    async def stop(self) -> None:
        if self.recording_id is None:
            return
        try:
            async with self._api() as lk:
                await lk.egress.stop_egress(api.StopEgressRequest(egress_id=self.recording_id))
        except Exception as e:  # it also ends by itself when the room closes
            log.info("stopping egress %s: %s", self.recording_id, e)


class AgentRecording(CallRecording):
    mode = "agent"

    def __init__(
        self,
        facts: Facts,
        conversation_id: str,
        config: AgentConfig,
        *,
        upload_attempts: int = 6,
        base_delay_s: float = 0.5,
    ) -> None:
        super().__init__(facts, conversation_id)
        self._s3, self._dir = config.s3, config.recordings_dir
        self._attempts, self._delay = upload_attempts, base_delay_s
        self._recorder: RecorderIO | None = None
        self.path: Path | None = None
        self._started_at: float | None = None
        self._duration = 0.0

    def attach(self, session: AgentSession[Any]) -> None:
        if session.input.audio is None or session.output.audio is None:
            log.info("no audio input/output to record")
            return
        # wrapped while nothing is playing: the wrappers only pass audio on until start()
        self._recorder = RecorderIO(agent_session=session)
        session.input.audio = self._recorder.record_input(session.input.audio)
        session.output.audio = self._recorder.record_output(session.output.audio)

    async def start(self) -> None:
        if self._recorder is None or self.recording_id is not None:
            return
        rid = self.recording_id = f"rec-{uuid.uuid4().hex[:16]}"
        self.path = self._dir / f"{rid}.ogg"
        self._request(rid)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            await self._recorder.start(output_path=self.path)
        except Exception as e:
            self._failed(rid, f"recorder could not start: {e}")
            self._recorder = None
            return
        self._started_at = time.monotonic()
        self._facts.record(c.StartRecording, f"recording/{rid}/started", recording_id=rid)

    async def stop(self) -> None:
        if self._recorder is None or self._started_at is None:
            return
        recorder, self._recorder = self._recorder, None
        self._duration = time.monotonic() - self._started_at
        try:
            await recorder.aclose()
        except Exception as e:
            log.warning("closing the recorder: %s", e)

    async def finish(self) -> None:
        rid, path = self.recording_id, self.path
        if rid is None or path is None or self._started_at is None or self._recorder is not None:
            return  # never started, failed already, or not stopped
        self._started_at = None
        if not path.exists():
            self._failed(rid, "the recorder wrote no file")
            return
        if self._s3 is None:
            self._failed(rid, f"object storage is not configured (CALLCENTER_S3_*); kept {path}")
            return
        key = object_key(self._conversation_id, rid, "ogg")
        try:
            size, duration = await asyncio.to_thread(self._upload, self._s3, path, key)
        except Exception as e:  # UploadFailed after its retries, or anything unexpected
            self._failed(rid, f"{e}; kept {path}")
            return
        record_uploaded(self._facts, rid, self._s3, key, size, duration, CONTENT_TYPE)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    def _upload(self, s3: S3Settings, path: Path, key: str) -> tuple[int, float]:
        """In a worker thread: reading the file's duration blocks too."""
        duration = _duration(path, self._duration)
        size = RecordingStore(s3).upload(
            path,
            key,
            content_type=CONTENT_TYPE,
            metadata=object_metadata(self._conversation_id, self._facts.room_name),
            attempts=self._attempts,
            base_delay_s=self._delay,
        )
        return size, duration


def _duration(path: Path, fallback: float) -> float:
    """The file's own duration if the container knows it, else the wall-clock time."""
    try:
        with av.open(str(path)) as container:
            if container.duration:
                return max(0.0, container.duration / av.time_base)
    except Exception:  # a duration is a nicety; the upload already succeeded
        pass
    return max(0.0, fallback)


def make_recording(facts: Facts, conversation_id: str, config: AgentConfig) -> CallRecording:
    if config.recording_mode == "egress":
        return EgressRecording(facts, conversation_id, config)
    if config.recording_mode == "agent":
        return AgentRecording(facts, conversation_id, config)
    return CallRecording(facts, conversation_id)
