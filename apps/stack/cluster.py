"""`callcenter up --nodes N`: the system as several machines would run it, on one host.

Built from the engines' own ways of scaling, nothing home-made:
- Redis (Debian's `redis-server`) joins the LiveKit nodes into one cluster;
- N `livekit-server` nodes share it (rooms are placed on any node, clients may connect
  to any);
- N agent workers, one registered with each node (livekit-agents dispatches jobs across
  every registered worker);
- N web processes without projections, behind one nginx address (SSE unbuffered), with
  one shared `CALLCENTER_SESSION_SECRET`, so a login works on each;
- the projections in a process of their own;
- MinIO and PostgreSQL as in the single-node stack.
Every service binds to 127.0.0.1 on its own port.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

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
from apps.stack.stack import LIVEKIT_CONFIG, REPO, log_contains
from projections.registry import READ_MODELS

LIVEKIT_REDIS = """\
redis:
  address: 127.0.0.1:{redis}
"""

NGINX_CONFIG = """\
daemon off;
pid {prefix}/nginx.pid;
error_log stderr warn;
worker_processes 1;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  client_max_body_size 2m;
  upstream web {{
{servers}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      # Server-Sent Events: every message as it is written, and long-lived streams.
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""


@dataclass
class ClusterPorts:
    """Every port of a cluster of `nodes` nodes: free ones, or from a base port."""

    web: int
    redis: int
    minio: int
    webs: list[int] = field(default_factory=list)
    livekit: list[tuple[int, int, int]] = field(default_factory=list)  # http, tcp, udp
    agents: list[int] = field(default_factory=list)

    @classmethod
    def free(cls, nodes: int) -> ClusterPorts:
        return cls(
            web=free_port(),
            redis=free_port(),
            minio=free_port(),
            webs=[free_port() for _ in range(nodes)],
            livekit=[(free_port(), free_port(), free_port()) for _ in range(nodes)],
            agents=[free_port() for _ in range(nodes)],
        )


@dataclass
class ClusterOptions:
    data_dir: Path
    nodes: int
    ports: ClusterPorts
    env: dict[str, str]
    start_agents: bool = True


class ClusterStack:
    def __init__(self, runtime: Runtime, options: ClusterOptions) -> None:
        if options.nodes < 2:
            raise StackError("a cluster has at least 2 nodes")
        self.runtime, self.options = runtime, options
        self.processes: list[ManagedProcess] = []
        self.livekit_urls: list[str] = []
        self.admin_password: str | None = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.options.ports.web}"

    def web_urls(self) -> list[str]:
        """Each web process's own address (behind the proxy)."""
        return [f"http://127.0.0.1:{p}" for p in self.options.ports.webs]

    def start(self) -> None:
        o, ports = self.options, self.options.ports
        logs = o.data_dir / "logs"
        taken = [
            p for p in (ports.web, ports.redis, ports.minio, *ports.webs) if port_has_listener(p)
        ]
        taken += [p for p, _, _ in ports.livekit if port_has_listener(p)]
        if taken:
            raise StackError(f"port(s) {', '.join(map(str, taken))} taken: stop what uses them")
        keys = local_secrets(o.data_dir)
        env = dict(o.env)
        env.setdefault("CALLCENTER_ADMIN_USER", "admin")
        if not env.get("CALLCENTER_ADMIN_PASSWORD") and not env.get(
            "CALLCENTER_ADMIN_PASSWORD_HASH"
        ):
            env["CALLCENTER_ADMIN_PASSWORD"] = self.admin_password = secrets.token_urlsafe(12)
        # One session secret for every web process: a login made on one works on all.
        env.setdefault("CALLCENTER_SESSION_SECRET", secrets.token_urlsafe(32))
        redis_dir = o.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        spawn(
                self.processes,
            "redis",
            [str(find_binary("redis-server")), "--port", str(ports.redis), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(redis_dir)],
            env,
            logs,
            lambda: port_has_listener(ports.redis),
        )  # fmt: skip
        key, secret = keys["livekit_api_key"], keys["livekit_api_secret"]
        for i, (http, tcp, udp) in enumerate(ports.livekit):
            config = o.data_dir / f"livekit-{i + 1}.yaml"
            config.write_text(
                LIVEKIT_CONFIG.format(
                    port=http, tcp=tcp, udp_start=udp, udp_end=udp, key=key, secret=secret,
                    web_port=ports.web,
                )
                + LIVEKIT_REDIS.format(redis=ports.redis)
            )  # fmt: skip
            config.chmod(0o600)
            spawn(
                self.processes,
                f"livekit-{i + 1}",
                [str(find_binary("livekit-server")), "--config", str(config)],
                env,
                logs,
                http_ok(f"http://127.0.0.1:{http}/"),
            )
            self.livekit_urls.append(f"ws://127.0.0.1:{http}")
        env.update(LIVEKIT_API_KEY=key, LIVEKIT_API_SECRET=secret)
        spawn(
            self.processes,
            "minio",
            minio_argv(o.data_dir / "minio", ports.minio),
            minio_env(env, keys),
            logs,
            http_ok(f"http://127.0.0.1:{ports.minio}/minio/health/ready"),
        )
        env.update(
            CALLCENTER_S3_ENDPOINT=f"127.0.0.1:{ports.minio}",
            CALLCENTER_S3_ACCESS_KEY=keys["minio_user"],
            CALLCENTER_S3_SECRET_KEY=keys["minio_password"],
            CALLCENTER_DATABASE_URL=self.runtime.database.url,
        )
        env.setdefault("CALLCENTER_DATA_DIR", str(o.data_dir))
        s3 = S3Settings.from_env(env)
        assert s3 is not None
        RecordingStore(s3).ensure_bucket()
        cli = [sys.executable, "-m", "apps.cli"]
        spawn(
            self.processes,
            "projections",
            [*cli, "projections", "run"],
            env,
            logs,
            self._read_models_ready,
            cwd=REPO,
        )
        for i, port in enumerate(ports.webs):
            node = self.livekit_urls[i % len(self.livekit_urls)]
            spawn(
                self.processes,
                f"web-{i + 1}",
                [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-projections"],
                {**env, "LIVEKIT_URL": node},
                logs,
                http_ok(f"http://127.0.0.1:{port}/healthz"),
                cwd=REPO,
            )
        prefix = o.data_dir / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        servers = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports.webs
        )
        conf.write_text(NGINX_CONFIG.format(prefix=prefix, servers=servers, port=ports.web))
        spawn(
            self.processes,
            "nginx",
            [str(find_binary("nginx")), "-c", str(conf), "-p", str(prefix), "-e", "stderr"],
            env,
            logs,
            http_ok(f"{self.web_url}/healthz"),
        )
        if o.start_agents:
            for i, http_port in enumerate(ports.agents):
                node = self.livekit_urls[i % len(self.livekit_urls)]
                name = f"agent-{i + 1}"
                log = logs / f"{name}.log"
                offset = log.stat().st_size if log.exists() else 0
                spawn(
                    self.processes,
                    name,
                    [*cli, "agent", "start"],
                    {**env, "LIVEKIT_URL": node, "CALLCENTER_AGENT_HTTP_PORT": str(http_port)},
                    logs,
                    log_contains(log, "registered worker", offset),
                    cwd=REPO,
                    timeout=180,
                )

    def _read_models_ready(self) -> bool:
        """The projections process has created every read model's tables."""
        try:
            with psycopg.connect(self.runtime.database.conninfo, connect_timeout=2) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM projection_generations WHERE active"
                ).fetchone()
        except psycopg.Error:
            return False
        return row is not None and row[0] >= len(READ_MODELS)

    def process(self, name: str) -> ManagedProcess:
        return next(p for p in self.processes if p.name == name)

    def failed(self) -> ManagedProcess | None:
        return next((p for p in self.processes if not p.alive), None)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=30 if process.name.startswith("agent") else 10)
