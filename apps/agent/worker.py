"""The LiveKit worker: an `AgentServer` whose jobs answer CME Auto Sales' calls.

Customers' tokens dispatch the agent by name (`AGENT_NAME`). Each job runs in its own
process: the prewarm loads silero's VAD and the local speech models once per process, the
entrypoint joins the room and starts the call, and the shutdown sequence ends it in order:
`on_session_end` stops the recording, records the end and flushes the events while still in
the room; after livekit-agents disconnects, a shutdown callback uploads the recording and
closes the sink.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from livekit.agents import AgentServer, JobContext, JobProcess
from livekit.plugins import silero

from adapters.call_center import GroupCommitCallCenter
from adapters.livekit.tokens import AGENT_NAME
from adapters.postgres.database import DatabaseSettings
from adapters.voice.providers import describe, prewarm_local_models, select_providers
from apps.agent import turns
from apps.agent.call import Call
from apps.agent.config import AgentConfig
from apps.agent.retry import with_backoff
from apps.gc_tuning import tune_gc
from domain import commands as c

log = logging.getLogger("callcenter.agent")

# how long a job may take to shut down: the recording upload retries and the final flush
SHUTDOWN_TIMEOUT_S = 90.0
# how long a job process may take to load its models before livekit-agents gives up on it
PREWARM_TIMEOUT_S = 30.0

_calls: dict[str, Call] = {}  # the job process's running call, by job id


def prewarm(proc: JobProcess) -> None:
    tune_gc()
    proc.userdata["vad"] = silero.VAD.load()
    # Whisper and Piper take a second or two to load: not while a caller waits
    prewarm_local_models(os.environ)
    turns.prewarm(os.environ)


def app_factory(config: AgentConfig) -> Callable[[], GroupCommitCallCenter]:
    """Opened lazily by the event sink: the store may be down when a call starts."""

    def open_app() -> GroupCommitCallCenter:
        if not config.database_url:
            raise ConnectionError("CALLCENTER_DATABASE_URL is not set in the job process")
        return GroupCommitCallCenter(
            env=DatabaseSettings.from_url(config.database_url).eventsourcing_env()
        )

    return open_app


async def entrypoint(ctx: JobContext) -> None:
    config = AgentConfig.from_env()
    providers = select_providers(os.environ, vad_model=ctx.proc.userdata.get("vad"))
    log.info(
        "%s; %s; recording=%s",
        describe(providers),
        turns.describe(os.environ),
        config.recording_mode,
    )
    call = Call(
        room_name=ctx.job.room.name,
        session_key=ctx.job.id,
        config=config,
        app=app_factory(config),
        providers=providers,
    )
    _calls[ctx.job.id] = call

    async def after_disconnect() -> None:
        if (done := _calls.pop(ctx.job.id, None)) is not None:
            await done.close(None if ctx.is_fake_job() else ctx.room)

    ctx.add_shutdown_callback(after_disconnect)
    await call.open()
    # the job ends with the session (the customer hung up, or it failed)
    call.session.on("close", lambda ev: ctx.shutdown(reason=f"session closed: {ev.reason.value}"))
    if ctx.is_fake_job():  # console mode: no room, the local microphone is the customer
        call.customer_audio_published()
    else:
        call.room_events.attach(ctx.room)
        try:
            await with_backoff("connecting to the room", ctx.connect, attempts=4)
        except Exception as e:
            call.facts.record(
                c.ReportError,
                "connect",
                component="room",
                message=str(e) or repr(e),
                recoverable=False,
            )
            raise
        call.room_events.connected(ctx.room)
    await call.start(ctx.room)


async def on_session_end(ctx: JobContext) -> None:
    call = _calls.get(ctx.job.id)
    if call is not None:
        await call.end()


def capacity_load(max_calls: int) -> Callable[[AgentServer], float]:
    """Load as the share of this worker's call slots in use.

    The library's default measures the whole machine's CPU; on a small shared host a busy
    neighbour (a build, a benchmark) makes the worker refuse every call."""

    def load(server: AgentServer) -> float:
        return min(1.0, len(server.active_jobs) / max_calls)

    return load


def build_server(*, providers_line: str | None = None) -> AgentServer:
    max_calls = int(os.environ.get("CALLCENTER_AGENT_MAX_CALLS", "8"))
    server = AgentServer(
        setup_fnc=prewarm,
        # the prewarm loads Whisper and Piper (2-3 s idle); a busy 2-core host needs longer
        initialize_process_timeout=PREWARM_TIMEOUT_S,
        shutdown_process_timeout=SHUTDOWN_TIMEOUT_S,
        load_fnc=capacity_load(max_calls),
        load_threshold=0.99,
        num_idle_processes=int(os.environ.get("CALLCENTER_AGENT_IDLE_PROCESSES", "1")),
        # its health server: several workers (tests, a cluster) on one host need their own
        port=int(os.environ.get("CALLCENTER_AGENT_HTTP_PORT", "8081")),
    )
    server.rtc_session(entrypoint, agent_name=AGENT_NAME, on_session_end=on_session_end)
    if providers_line:
        server.on("worker_started", lambda: log.info(providers_line))
    return server
