"""Where the accounts live: the call center's own database, in their own events table."""

from __future__ import annotations

from collections.abc import Mapping

from domain.account_directory import AccountDirectory

_KEPT = ("PERSISTENCE_MODULE", "CREATE_TABLE")


def account_directory(call_center_env: Mapping[str, str]) -> AccountDirectory:
    """An account directory in the store the call center's settings name (PostgreSQL, or
    in memory when they name none), with eventsourcing's own recorder: the call center's
    hash-chained recorder is for conversations."""
    env = {k: v for k, v in call_center_env.items() if k.startswith("POSTGRES_") or k in _KEPT}
    return AccountDirectory(env=env)
