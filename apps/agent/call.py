"""One agent session in one room: its event sink, session and room events, silence
monitor and recording, and the order they are started and stopped in."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.llm import LLMError
from livekit.agents.voice import SpeechHandle
from livekit.agents.voice.events import CloseEvent, ErrorEvent

from adapters.agent_sink import AppSource, EventSink
from adapters.voice.providers import Providers
from apps.agent.assistant import GREETING, DealershipAssistant
from apps.agent.call_audio import CallRecording, make_recording
from apps.agent.config import AgentConfig
from apps.agent.facts import Facts
from apps.agent.room_events import RoomEvents
from apps.agent.session_events import SessionEvents
from apps.agent.silence import SilenceMonitor
from apps.agent.supervision import SupervisorDesk
from apps.agent.supervisor_speech import SupervisorTranscriber
from apps.agent.track_recording import TrackRecording
from apps.agent.turns import turn_handling
from apps.agent.typed_vin import TypedVins
from apps.usecases.dealership import DealershipServices
from domain import commands as c
from domain.ids import conversation_id_for_room

log = logging.getLogger(__name__)

# said when the LLM fails mid-answer (a self-hosted server dying, a dropped stream)
LLM_FAILED_APOLOGY = "Sorry, I lost my train of thought there. Could you say that again?"


class Call:
    def __init__(
        self,
        *,
        room_name: str,
        session_key: str,
        config: AgentConfig,
        app: AppSource,
        providers: Providers,
        services: DealershipServices | None = None,
        sink: EventSink | None = None,
        recording: CallRecording | None = None,
    ) -> None:
        self.config = config
        self.sink = sink or EventSink(
            app, spool_dir=config.spool_dir, max_memory=config.event_memory_limit
        )
        self.facts = Facts(room_name, session_key, self.sink.put)
        self.silence = SilenceMonitor(
            self._silence_detected,
            self._silence_ended,
            timeout_s=config.silence_timeout_s,
            check_every_s=config.silence_check_s,
        )
        self.events = SessionEvents(self.facts, silence=self.silence, on_close=self._closed)
        self.room_events = RoomEvents(self.facts, self.customer_audio_published)
        cid = str(conversation_id_for_room(room_name))
        self.recording = recording or make_recording(self.facts, cid, config)
        self.assistant = DealershipAssistant(self.facts, services, on_speech=self.events.on_speech)
        self.session: AgentSession[Any] = AgentSession(
            stt=providers.stt,
            llm=providers.llm,
            tts=providers.tts,
            vad=providers.vad,
            turn_handling=turn_handling(os.environ),  # type: ignore[arg-type]
        )
        self.events.attach(self.session)
        self.session.on("error", self._apologise_if_the_llm_failed)
        self.typed_vins = TypedVins(self.session)
        self.assistant.typed_vins = self.typed_vins.vins
        self.desk = SupervisorDesk(
            self.session,
            self.facts,
            grace_s=config.supervisor_grace_s,
            escalation_timeout_s=config.escalation_timeout_s,
        )
        self.assistant.desk = self.desk
        recording_tracks = config.recording_mode == "agent"  # egress mixes every track in
        self.supervisor_speech = SupervisorTranscriber(
            providers.stt,
            self.facts,
            self.desk.supervisor_said,
            record=(lambda who: TrackRecording(self.facts, cid, config, who))
            if recording_tracks
            else None,
        )
        self.close_event: CloseEvent | None = None
        self._closed_ev = asyncio.Event()
        self._recording_attached = self._audio_seen = False
        self._recording_task: asyncio.Task[None] | None = None
        self.greeting: SpeechHandle | None = None

    async def open(self) -> None:
        await self.sink.start()

    async def start(self, room: rtc.Room | None = None) -> None:
        """Start the session (in `room`, or on whatever I/O the session already has), attach
        the recorder, greet the caller, and watch the line for silence."""
        if room is not None:
            room.on("data_received", self.typed_vins.data_received)
            room.on("data_received", self.desk.data_received)
            room.on("active_speakers_changed", self.desk.active_speakers_changed)
            room.on("participant_disconnected", self.desk.participant_disconnected)
            room.on("participant_connected", self.desk.participant_connected)
            room.on("track_subscribed", self.supervisor_speech.track_subscribed)
            room.on("track_unsubscribed", self.supervisor_speech.track_unsubscribed)
            await self.session.start(self.assistant, room=room, record=False)
        else:
            await self.session.start(self.assistant, record=False)
        self.recording.attach(self.session)
        self._recording_attached = True
        if self._audio_seen:
            self._start_recording()
        self.silence.start()
        self.greeting = self.session.say(GREETING)

    def customer_audio_published(self) -> None:
        """The customer's first audio track is there: recording starts now."""
        self._audio_seen = True
        if self._recording_attached:  # otherwise start() starts it once it is attached
            self._start_recording()

    def _start_recording(self) -> None:
        if self._recording_task is None:
            self._recording_task = asyncio.get_running_loop().create_task(self.recording.start())

    def _silence_detected(self, silent_for: float) -> None:
        log.info("silence for %.0fs", silent_for)
        self.facts.record(c.DetectSilence, self.facts.next("silence"), silent_for_s=silent_for)

    def _silence_ended(self, silent_for: float) -> None:
        self.facts.record(c.EndSilence, self.facts.next("silence-end"), silent_for_s=silent_for)

    def _apologise_if_the_llm_failed(self, ev: ErrorEvent) -> None:
        """The answer stopped short (its retries spent): the caller hears why, not silence."""
        if isinstance(ev.error, LLMError) and not ev.error.recoverable:
            try:
                self.session.say(LLM_FAILED_APOLOGY)
            except RuntimeError:  # the session is already closing: nobody left to hear it
                log.info("no apology: the session is closing")

    def _closed(self, ev: CloseEvent) -> None:
        self.close_event = ev
        self._closed_ev.set()

    async def wait_closed(self) -> CloseEvent | None:
        await self._closed_ev.wait()
        return self.close_event

    async def end(self, flush_timeout_s: float = 5.0) -> None:
        """The session is over: stop the recording, record the end, flush the events."""
        await self.silence.stop()
        if self._recording_task is not None:
            await asyncio.gather(self._recording_task, return_exceptions=True)
        await self.recording.stop()
        await self.session.aclose()  # emits `close` unless the session already ended
        ended_at = self.room_events.customer_left_at or self.room_events.room_ended_at
        if self.room_events.end_reason and ended_at:
            # the last fact of the call, so the domain accepts everything said before it
            self.facts.record(c.EndCall, "end", ended_at, reason=self.room_events.end_reason)
        started = time.monotonic()
        flushed = await self.sink.flush(flush_timeout_s)
        log.info(
            "events %s in %.2fs: %s",
            "flushed" if flushed else "still buffered",
            time.monotonic() - started,
            self.sink.stats,
        )

    async def close(self, room: rtc.Room | None = None, timeout_s: float = 10.0) -> None:
        """After leaving the room: upload the recording, then write every last event."""
        if room is not None:
            self.room_events.agent_left(room)
        await self.supervisor_speech.close()
        try:
            await self.recording.finish()
        finally:
            await self.sink.close(timeout_s)
