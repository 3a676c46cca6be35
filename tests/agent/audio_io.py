"""Test audio I/O for an AgentSession without a room: a microphone that plays espeak-ng
speech in real time (silence in between), and a speaker that plays the agent's audio and
reports playback the way a room output does."""

from __future__ import annotations

import asyncio
import time
from collections import deque

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from tests.voice.voice_helpers import spoken, to_room_frames

RATE, CHANNELS, FRAME_S = 48_000, 1, 0.01  # what RoomIO delivers: mono


class SpeechInput(io.AudioInput):
    """10 ms frames at 48 kHz mono, paced in real time like a participant's track."""

    def __init__(self) -> None:
        super().__init__(label="test-microphone")
        self._frames: deque[rtc.AudioFrame] = deque()
        silence = np.zeros(int(RATE * FRAME_S) * CHANNELS, dtype=np.int16)
        self._silence = rtc.AudioFrame(silence.tobytes(), RATE, CHANNELS, int(RATE * FRAME_S))
        self._next_at: float | None = None

    def say(self, text: str) -> float:
        """Queue `text` as speech; returns how long it takes to play."""
        frames = to_room_frames(spoken(text), rate=RATE, channels=CHANNELS, lead_silence=0.3)
        self._frames.extend(frames)
        return len(frames) * FRAME_S

    @property
    def speaking(self) -> bool:
        return bool(self._frames)

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.monotonic()
        if self._next_at is None or self._next_at < now - 0.2:  # resynchronise after a stall
            self._next_at = now
        if (delay := self._next_at - now) > 0:
            await asyncio.sleep(delay)
        self._next_at += FRAME_S
        return self._frames.popleft() if self._frames else self._silence


class FakeSpeaker(io.AudioOutput):
    """Plays each segment for its duration / `speed`; interrupted by clear_buffer()."""

    def __init__(self, speed: float = 2.0) -> None:
        super().__init__(label="test-speaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self._speed = speed
        self._pushed = 0.0
        self._interrupted = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.segments: list[tuple[float, bool]] = []  # (seconds played, interrupted)

    @property
    def playing(self) -> bool:
        return bool(self._tasks) or self._pushed > 0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._pushed == 0:
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        if self._pushed:
            duration, self._pushed = self._pushed, 0.0
            self._interrupted.clear()
            task = asyncio.get_running_loop().create_task(self._play(duration))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def clear_buffer(self) -> None:
        self._interrupted.set()

    async def _play(self, duration: float) -> None:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._interrupted.wait(), duration / self._speed)
            interrupted = True
        except TimeoutError:
            interrupted = False
        played = min(duration, (time.monotonic() - started) * self._speed)
        self.segments.append((played, interrupted))
        self.on_playback_finished(playback_position=played, interrupted=interrupted)
