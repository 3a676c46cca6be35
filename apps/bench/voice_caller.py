"""A caller on the livekit rtc SDK: a microphone that sends 10 ms frames in real time
(speech when there is some to say, digital silence otherwise, as a real microphone never
stops), and an ear that timestamps every audible frame of the agent's audio.

Voice-to-voice is what the caller hears: from the moment the last speech sample leaves
this microphone (its capture time plus what the source still had queued) to the first
frame received from the agent whose RMS is above `AUDIBLE_RMS`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc

from apps.bench.voice_speech import RATE, Utterance

FRAME = RATE // 100  # 10 ms
AUDIBLE_RMS = 300.0  # int16 RMS; the agent's line noise is digital zero
#: The source's own queue: small, so the end of speech is known to within 20 ms.
QUEUE_MS = 20


@dataclass
class Turn:
    text: str
    voice: str
    speech_s: float
    #: monotonic and wall-clock time of the caller's end of speech
    ended_mono: float = 0.0
    ended_wall: float = 0.0
    #: first audible agent frame after the end of speech (monotonic), if any
    heard_mono: float | None = None

    @property
    def voice_to_voice_s(self) -> float | None:
        return None if self.heard_mono is None else self.heard_mono - self.ended_mono


@dataclass
class Caller:
    room: rtc.Room
    agent_identity: str = ""
    audible: list[float] = field(default_factory=list)  # monotonic times of audible frames
    _source: rtc.AudioSource | None = None
    _pending: asyncio.Queue[tuple[np.ndarray, asyncio.Future[float]]] = field(
        default_factory=asyncio.Queue
    )
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        @self.room.on("track_subscribed")
        def _on_track(
            track: rtc.Track, _pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant
        ) -> None:
            if track.kind == rtc.TrackKind.KIND_AUDIO and (
                who.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            ):
                self.agent_identity = who.identity
                self._tasks.append(asyncio.create_task(self._listen(track)))

        self._source = rtc.AudioSource(RATE, 1, queue_size_ms=QUEUE_MS)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        await self.room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        self._tasks.append(asyncio.create_task(self._microphone()))
        for track_pub in (
            pub
            for p in self.room.remote_participants.values()
            for pub in p.track_publications.values()
        ):  # tracks already subscribed before the handler existed
            if track_pub.track is not None and track_pub.kind == rtc.TrackKind.KIND_AUDIO:
                self._tasks.append(asyncio.create_task(self._listen(track_pub.track)))

    async def _listen(self, track: rtc.Track) -> None:
        async for event in rtc.AudioStream(track, sample_rate=RATE, num_channels=1):
            samples = np.frombuffer(event.frame.data, dtype=np.int16)
            if samples.size and np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > AUDIBLE_RMS:
                self.audible.append(time.monotonic())

    async def _microphone(self) -> None:
        assert self._source is not None
        silence = np.zeros(FRAME, dtype=np.int16)
        while True:
            try:
                samples, done = self._pending.get_nowait()
            except asyncio.QueueEmpty:
                await self._send(silence)  # paced by the source's queue
                continue
            for start in range(0, len(samples), FRAME):
                chunk = samples[start : start + FRAME]
                if len(chunk) < FRAME:
                    chunk = np.concatenate([chunk, silence[: FRAME - len(chunk)]])
                await self._send(chunk)
            done.set_result(time.monotonic() + self._source.queued_duration)

    async def _send(self, chunk: np.ndarray) -> None:
        assert self._source is not None
        await self._source.capture_frame(rtc.AudioFrame(chunk.tobytes(), RATE, 1, len(chunk)))

    async def say(self, utterance: Utterance) -> Turn:
        """Speak it; returns once its last sample is out, with the end of speech timed."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        await self._pending.put((utterance.samples, done))
        ended = await done
        wall = time.time() - (time.monotonic() - ended)
        return Turn(utterance.text, utterance.voice, utterance.duration_s, ended, wall)

    def first_audible_after(self, t: float) -> float | None:
        return next((a for a in self.audible if a > t), None)

    async def wait_quiet(self, after: float, quiet_s: float, timeout: float) -> bool:
        """Wait until the agent has been inaudible for `quiet_s` (after `after` and after
        its last audible frame); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.audible[-1] if self.audible else 0.0
            if time.monotonic() - max(last, after) >= quiet_s:
                return True
            await asyncio.sleep(0.05)
        return False

    async def wait_heard(self, after: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (t := self.first_audible_after(after)) is not None:
                return t
            await asyncio.sleep(0.02)
        return None

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
