"""A supervisor's voice in the call (barged in, or with the call taken over) transcribed as
speaker `supervisor`: into the event store, the live transcript and the AI's context, so
that after the hand-back it knows what was said while it was out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from livekit import rtc
from livekit.agents import stt

from apps.agent.facts import Facts
from apps.agent.track_recording import TrackRecording
from domain import commands as c

log = logging.getLogger(__name__)

SUPERVISOR = "supervisor"
#: speaking supervisors join with identities `supervisor-<account>-<random>` (hidden
#: listen-ins cannot publish, so only a speaking supervisor has a track)
IDENTITY_PREFIX = "supervisor-"
SAMPLE_RATE = 16000


class SupervisorTranscriber:
    def __init__(
        self,
        recogniser: stt.STT[Any],
        facts: Facts,
        on_line: Callable[[str], None],
        record: Callable[[str], TrackRecording] | None = None,
    ) -> None:
        """``record`` starts a recording of a supervisor's track (by identity)."""
        self._stt = recogniser
        self._facts = facts
        self._on_line = on_line
        self._record = record
        self._tasks: dict[str, asyncio.Task[None]] = {}  # track sid -> its transcription

    def track_subscribed(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant
    ) -> None:
        if track.kind != rtc.TrackKind.KIND_AUDIO or not who.identity.startswith(IDENTITY_PREFIX):
            return
        task = asyncio.get_running_loop().create_task(self._transcribe(track, who.identity))
        self._tasks[track.sid] = task

    def track_unsubscribed(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, _who: rtc.RemoteParticipant
    ) -> None:
        task = self._tasks.pop(track.sid, None)
        if task is not None:
            task.cancel()

    async def _transcribe(self, track: rtc.Track, identity: str) -> None:
        stream = self._stt.stream()
        recording = self._record(identity.rsplit("-", 1)[0]) if self._record else None

        async def feed() -> None:
            async for event in rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1):
                stream.push_frame(event.frame)
                if recording is not None:
                    recording.write(event.frame)
            stream.end_input()

        feeding = asyncio.create_task(feed())
        lines = 0
        try:
            async for event in stream:
                if event.type != stt.SpeechEventType.FINAL_TRANSCRIPT or not event.alternatives:
                    continue
                heard = event.alternatives[0]
                text = heard.text.strip()
                if not text:
                    continue
                lines += 1
                self._facts.record(
                    c.RecordFinalTranscript,
                    self._facts.next("supervisor-final"),
                    speaker=SUPERVISOR,
                    text=text[:10_000],
                    confidence=heard.confidence,
                    language="en",
                    segment_id=f"{identity}/{lines}",
                )
                self._on_line(text)
        except asyncio.CancelledError:
            raise
        except Exception:  # a recogniser failure must not take the call down
            log.exception("transcribing supervisor %s failed", identity)
        finally:
            feeding.cancel()
            await asyncio.gather(feeding, return_exceptions=True)
            await stream.aclose()
            if recording is not None:
                await recording.finish()

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
