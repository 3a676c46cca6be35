"""`callcenter up`: every part of the system on this machine, each checked healthy
before the next starts, and all stopped cleanly in reverse order."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from adapters.storage import RecordingStore, S3Settings
from apps.runtime import Runtime
from apps.stack.processes import (
    ManagedProcess,
    StackError,
    find_binary,
    free_port,
    http_ok,
    port_has_listener,
    spawn,
)
from apps.stack.secrets_store import local_secrets
from apps.stack.services import minio_argv, minio_env
from apps.web.app import WebInputs, create_app
from apps.web.settings import WebSettings

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StackPorts:
    web: int = 8000
    livekit: int = 7880
    livekit_tcp: int = 7881
    livekit_udp: tuple[int, int] = (50000, 50100)
    minio: int = 9000
    agent_http: int = 8081  # the agent worker's health/metrics server

    @classmethod
    def free(cls) -> StackPorts:
        """A free port for every service: a stack beside others on one host (tests, benches)."""
        udp = free_port()
        return cls(
            web=free_port(),
            livekit=free_port(),
            livekit_tcp=free_port(),
            livekit_udp=(udp, udp),
            minio=free_port(),
            agent_http=free_port(),
        )


#: Settings a stack of its own must not inherit from the shell that starts it.
FOREIGN_SETTINGS = ("LIVEKIT_", "CALLCENTER_", "DEEPGRAM_", "OPENAI_", "CARTESIA_")


def isolated_env(environ: Mapping[str, str], **settings: str) -> dict[str, str]:
    """`environ` without LiveKit, call-center or cloud-provider settings, plus `settings`."""
    env = {k: v for k, v in environ.items() if not k.startswith(FOREIGN_SETTINGS)}
    env.update(settings)
    return env


@dataclass
class StackOptions:
    data_dir: Path
    ports: StackPorts = field(default_factory=StackPorts)
    start_agent: bool = True
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


LIVEKIT_CONFIG = """\
port: {port}
bind_addresses: ["127.0.0.1"]
rtc:
  tcp_port: {tcp}
  port_range_start: {udp_start}
  port_range_end: {udp_end}
  use_external_ip: false
  node_ip: 127.0.0.1
keys:
  {key}: {secret}
webhook:
  api_key: {key}
  urls:
    - http://127.0.0.1:{web_port}/webhook/livekit
room:
  empty_timeout: 20
  departure_timeout: 5
logging:
  level: info
"""


class LocalStack:
    def __init__(self, runtime: Runtime, options: StackOptions) -> None:
        self.runtime = runtime
        self.options = options
        self.processes: list[ManagedProcess] = []
        self.admin_password: str | None = None
        self.livekit_url = ""
        self.child_env: dict[str, str] = {}
        self._web: uvicorn.Server | None = None
        self._web_thread: threading.Thread | None = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.options.ports.web}"

    def start(self) -> None:
        o, ports = self.options, self.options.ports
        logs = o.data_dir / "logs"
        secrets = local_secrets(o.data_dir)
        env = dict(o.env)
        env.setdefault("CALLCENTER_ADMIN_USER", "admin")
        for port, what in ((ports.web, "web app"), (ports.minio, "MinIO")):
            if port_has_listener(port):
                raise StackError(
                    f"port {port} for the {what} is taken: stop what uses it or choose another port"
                )
        # LiveKit: a server of our own unless LIVEKIT_URL points at one.
        if env.get("LIVEKIT_URL"):
            if not env.get("LIVEKIT_API_KEY") or not env.get("LIVEKIT_API_SECRET"):
                raise StackError(
                    "LIVEKIT_URL is set: set LIVEKIT_API_KEY and LIVEKIT_API_SECRET too"
                )
            self.livekit_url = env["LIVEKIT_URL"]
        else:
            if port_has_listener(ports.livekit):
                raise StackError(f"port {ports.livekit} for livekit-server is taken")
            key, secret = secrets["livekit_api_key"], secrets["livekit_api_secret"]
            config = o.data_dir / "livekit.yaml"
            config.write_text(
                LIVEKIT_CONFIG.format(
                    port=ports.livekit,
                    tcp=ports.livekit_tcp,
                    udp_start=ports.livekit_udp[0],
                    udp_end=ports.livekit_udp[1],
                    key=key,
                    secret=secret,
                    web_port=ports.web,
                )
            )
            config.chmod(0o600)
            spawn(
                self.processes,
                "livekit-server",
                [str(find_binary("livekit-server")), "--dev", "--config", str(config)],
                env,
                logs,
                http_ok(f"http://127.0.0.1:{ports.livekit}/"),
            )
            self.livekit_url = f"ws://127.0.0.1:{ports.livekit}"
            env.update(LIVEKIT_API_KEY=key, LIVEKIT_API_SECRET=secret)
        env["LIVEKIT_URL"] = self.livekit_url
        # Object storage for recordings.
        if not env.get("CALLCENTER_S3_ACCESS_KEY"):
            spawn(
                self.processes,
                "minio",
                minio_argv(o.data_dir / "minio", ports.minio),
                minio_env(env, secrets),
                logs,
                http_ok(f"http://127.0.0.1:{ports.minio}/minio/health/ready"),
            )
            env.update(
                CALLCENTER_S3_ENDPOINT=f"127.0.0.1:{ports.minio}",
                CALLCENTER_S3_ACCESS_KEY=secrets["minio_user"],
                CALLCENTER_S3_SECRET_KEY=secrets["minio_password"],
            )
        s3 = S3Settings.from_env(env)
        assert s3 is not None
        RecordingStore(s3).ensure_bucket()
        # The web app with its projections, in this process.
        settings, self.admin_password = WebSettings.from_env(env)
        from apps.usecases.summaries import summary_follower

        web = create_app(
            WebInputs(
                self.runtime.app,
                self.runtime.database.conninfo,
                settings,
                self.runtime.projection_worker(),
                summary_follower(self.runtime.app, self.runtime.database.conninfo, env),
            )
        )
        # In a thread uvicorn has no signal handlers, so open SSE streams never learn of
        # the shutdown: cancel them after a grace period rather than keep the lifespan
        # (projection worker, broadcaster) running until the process exits.
        self._web = uvicorn.Server(
            uvicorn.Config(
                web,
                host="127.0.0.1",
                port=ports.web,
                log_level="warning",
                timeout_graceful_shutdown=3,
            )
        )
        self._web_thread = threading.Thread(target=self._web.run, name="web", daemon=True)
        self._web_thread.start()
        deadline = time.monotonic() + 60
        while not http_ok(f"{self.web_url}/healthz")():
            if time.monotonic() > deadline or not self._web_thread.is_alive():
                raise StackError("the web app did not become healthy")
            time.sleep(0.2)
        # The agent worker, in its own process, writing to the same event store.
        self.child_env = {**env, "CALLCENTER_DATABASE_URL": self.runtime.database.url}
        self.child_env.setdefault("CALLCENTER_DATA_DIR", str(o.data_dir))
        self.child_env.setdefault("CALLCENTER_AGENT_HTTP_PORT", str(ports.agent_http))
        if o.start_agent:
            agent_log = logs / "agent.log"
            offset = agent_log.stat().st_size if agent_log.exists() else 0
            spawn(
                self.processes,
                "agent",
                [sys.executable, "-m", "apps.cli", "agent", "start"],
                self.child_env,
                logs,
                log_contains(agent_log, "registered worker", offset),
                cwd=REPO,
                timeout=180,
            )

    def failed(self) -> ManagedProcess | None:
        """A child that died on its own, if any."""
        return next((p for p in self.processes if not p.alive), None)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.name == "agent":
                process.stop(timeout=30)  # lets it flush events and finish uploads
        if self._web is not None:
            self._web.should_exit = True
            if self._web_thread is not None:
                self._web_thread.join(15)
        for process in reversed(self.processes):
            process.stop()


def log_contains(path: Path, text: str, offset: int) -> object:
    def check() -> bool:
        try:
            with path.open("rb") as f:
                f.seek(offset)
                return text.encode() in f.read()
        except OSError:
            return False

    return check
