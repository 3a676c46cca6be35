"""Shared fixtures: one real embedded PostgreSQL server per test session, a fresh
database per test that needs one."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import (
    DatabaseSettings,
    EmbeddedPostgres,
    drop_database,
    ensure_database,
)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[DatabaseSettings]:
    url = os.environ.get("CALLCENTER_TEST_DATABASE_URL")
    if url:
        yield DatabaseSettings.from_url(url)
        return
    with tempfile.TemporaryDirectory(prefix="callcenter-pg-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp) / "postgres")
        settings = embedded.start()
        try:
            yield settings
        finally:
            embedded.stop()


def fresh_database(server: DatabaseSettings) -> DatabaseSettings:
    settings = server.with_dbname(f"t_{uuid.uuid4().hex[:16]}")
    ensure_database(settings)
    return settings


@pytest.fixture
def db(pg_server: DatabaseSettings) -> Iterator[DatabaseSettings]:
    settings = fresh_database(pg_server)
    try:
        yield settings
    finally:
        drop_database(settings)


@pytest.fixture
def app(db: DatabaseSettings) -> Iterator[GroupCommitCallCenter]:
    application = GroupCommitCallCenter(env=db.eventsourcing_env())
    try:
        yield application
    finally:
        application.close()
