"""Call participants written with the `livekit` Python SDK: a customer who speaks a WAV
file as their microphone and listens to the agent, and a hidden supervisor."""

from __future__ import annotations

import asyncio
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from livekit import rtc

FRAME_MS = 10


@dataclass
class Listener:
    """Counts the audible frames received from each remote participant."""

    audible_frames: dict[str, int] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def attach(self, room: rtc.Room) -> None:
        @room.on("track_subscribed")
        def _on_track(
            track: rtc.Track, _pub: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
        ) -> None:
            if track.kind == rtc.TrackKind.KIND_AUDIO:
                self.tasks.append(asyncio.create_task(self._count(track, participant.identity)))

    async def _count(self, track: rtc.Track, identity: str) -> None:
        async for event in rtc.AudioStream(track, sample_rate=48000, num_channels=1):
            samples = np.frombuffer(event.frame.data, dtype=np.int16)
            if samples.size and np.abs(samples).mean() > 200:
                self.audible_frames[identity] = self.audible_frames.get(identity, 0) + 1

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def join(url: str, token: str) -> tuple[rtc.Room, Listener]:
    room = rtc.Room()
    listener = Listener()
    listener.attach(room)
    await room.connect(url, token, rtc.RoomOptions(auto_subscribe=True))
    return room, listener


async def publish_wav(room: rtc.Room, wav: Path) -> None:
    """Publish a microphone track and speak the file into it at real-time pace."""
    with wave.open(str(wav)) as w:
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    source = rtc.AudioSource(rate, 1)
    track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
    await room.local_participant.publish_track(
        track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    )
    step = rate * FRAME_MS // 1000
    samples = np.frombuffer(pcm, dtype=np.int16)
    for start in range(0, len(samples) - step, step):
        chunk = samples[start : start + step]
        frame = rtc.AudioFrame(chunk.tobytes(), rate, 1, len(chunk))
        await source.capture_frame(frame)
    await source.wait_for_playout()


async def wait_for(predicate, timeout: float, what: str, interval: float = 0.2) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)
