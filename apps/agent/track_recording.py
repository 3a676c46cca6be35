"""One participant's microphone as a recording of its own: a supervisor who barges in or
takes over. The session recorder keeps the caller and the AI (`call_audio.py`); with
this file beside it the call's recordings keep everything that was said. (Egress
recording mixes every participant into its file already.)"""

from __future__ import annotations

import asyncio
import logging
import uuid
import wave
from pathlib import Path

from livekit import rtc

from adapters.storage import RecordingStore, object_key
from apps.agent.call_audio import object_metadata, record_uploaded
from apps.agent.config import AgentConfig
from apps.agent.facts import Facts
from domain import commands as c

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CONTENT_TYPE = "audio/wav"


class TrackRecording:
    def __init__(self, facts: Facts, conversation_id: str, config: AgentConfig, who: str) -> None:
        self._facts = facts
        self._conversation_id = conversation_id
        self._s3 = config.s3
        self.recording_id = f"rec-{who}-{uuid.uuid4().hex[:8]}"[:64]
        self.path = config.recordings_dir / f"{self.recording_id}.wav"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wav: wave.Wave_write | None = wave.open(str(self.path), "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self.frames = 0
        rid = self.recording_id
        facts.record(
            c.RequestRecording, f"recording/{rid}/requested", recording_id=rid, mode="agent"
        )
        facts.record(c.StartRecording, f"recording/{rid}/started", recording_id=rid)

    def write(self, frame: rtc.AudioFrame) -> None:
        """A 16 kHz mono frame of the track."""
        if self._wav is not None:
            self._wav.writeframes(frame.data.tobytes())
            self.frames += frame.samples_per_channel

    async def finish(self) -> None:
        """Close the file and upload it; the outcome is recorded either way."""
        if self._wav is None:
            return
        self._wav.close()
        self._wav = None
        rid = self.recording_id
        if self._s3 is None:
            self._failed(f"object storage is not configured (CALLCENTER_S3_*); kept {self.path}")
            return
        key = object_key(self._conversation_id, rid, "wav")
        try:
            size = await asyncio.to_thread(self._upload, self.path, key)
        except Exception as e:
            self._failed(f"{e}; kept {self.path}")
            return
        record_uploaded(
            self._facts, rid, self._s3, key, size, self.frames / SAMPLE_RATE, CONTENT_TYPE
        )
        await asyncio.to_thread(self.path.unlink, missing_ok=True)

    def _upload(self, path: Path, key: str) -> int:
        assert self._s3 is not None
        return RecordingStore(self._s3).upload(
            path,
            key,
            content_type=CONTENT_TYPE,
            metadata=object_metadata(self._conversation_id, self._facts.room_name),
        )

    def _failed(self, reason: str) -> None:
        log.warning("a track recording failed: %s", reason)
        rid = self.recording_id
        self._facts.record(
            c.FailRecording, f"recording/{rid}/failed", recording_id=rid, reason=reason[:2000]
        )
