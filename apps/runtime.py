"""Configuration from the environment, and the running pieces every entry point shares."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings, EmbeddedPostgres, ensure_database
from projections.registry import READ_MODELS
from projections.worker import EventSource, ProjectionWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    database_url: str | None
    data_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("CALLCENTER_DATABASE_URL") or None,
            data_dir=Path(env.get("CALLCENTER_DATA_DIR") or "./var").resolve(),
        )


@dataclass
class Runtime:
    config: Config
    database: DatabaseSettings
    app: GroupCommitCallCenter

    def event_source(self) -> EventSource:
        return EventSource(self.app.recorder.events_table_name, self.app.mapper)  # type: ignore[attr-defined]

    def projection_worker(self, names: list[str] | None = None) -> ProjectionWorker:
        models = [READ_MODELS[n] for n in (names or list(READ_MODELS))]
        return ProjectionWorker(self.database.conninfo, self.event_source(), models)


@contextmanager
def open_runtime(config: Config | None = None) -> Iterator[Runtime]:
    """Connect to the configured database, or start the embedded one and stop it after."""
    config = config or Config.from_env()
    embedded: EmbeddedPostgres | None = None
    if config.database_url:
        database = DatabaseSettings.from_url(config.database_url)
        ensure_database(database)
        log.info("event store: %s", database.redacted())
    else:
        embedded = EmbeddedPostgres(config.data_dir / "postgres")
        database = embedded.start()
        log.info("event store: embedded PostgreSQL in %s", embedded.data_dir)
    app = GroupCommitCallCenter(env=database.eventsourcing_env())
    try:
        yield Runtime(config, database, app)
    finally:
        app.close()
        if embedded is not None:
            embedded.stop()
