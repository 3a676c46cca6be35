"""Rows and parameters between psycopg and the eventsourcing library's types: stored and
logged events built from result rows, array parameters, and psycopg's errors as the
library's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent

from domain.ports import LoggedEvent


def logged_row(
    oid: UUID,
    version: int,
    topic: str,
    state: Any,
    position: int,
    prev: Any,
    chain: Any,
) -> LoggedEvent:
    """A LoggedEvent (and its StoredEvent) without their dataclass constructors."""
    stored = object.__new__(StoredEvent)
    object.__setattr__(
        stored,
        "__dict__",
        {
            "originator_id": oid,
            "originator_version": version,
            "topic": topic,
            "state": bytes(state),
        },
    )
    logged = object.__new__(LoggedEvent)
    object.__setattr__(
        logged,
        "__dict__",
        {
            "position": position,
            "event": stored,
            "prev_hash": None if prev is None else bytes(prev),
            "chain_hash": None if chain is None else bytes(chain),
        },
    )
    return logged


def text_params(values: Sequence[str]) -> list[str]:
    """Text parameters as PostgreSQL receives them in text format: cut at a NUL (text
    cannot hold one; libpq ends the string there). An input key with a NUL is therefore
    never found among the new keys, as it never was: it is recorded as a duplicate."""
    return [v.split("\x00", 1)[0] if "\x00" in v else v for v in values]


def array_param(values: list[Any]) -> list[Any] | None:
    """An array parameter (None when empty: its element type cannot be told)."""
    return values if values else None


def translate_error(e: psycopg.Error) -> Exception:
    """psycopg's errors as the eventsourcing library's, as its datastore does."""
    from eventsourcing import persistence as p

    for psycopg_type, ours in (
        (psycopg.InterfaceError, p.InterfaceError),
        (psycopg.OperationalError, p.OperationalError),
        (psycopg.DataError, p.DataError),
        (psycopg.IntegrityError, p.IntegrityError),
        (psycopg.InternalError, p.InternalError),
        (psycopg.ProgrammingError, p.ProgrammingError),
        (psycopg.NotSupportedError, p.NotSupportedError),
        (psycopg.DatabaseError, p.DatabaseError),
    ):
        if isinstance(e, psycopg_type):
            return ours(str(e))
    return p.PersistenceError(str(e))
