"""The call center as the running processes use it: the domain's application service
with a thread lock, the group-commit queue and the fast codec.

`domain.application.CallCenter` plans on one thread at a time and knows nothing of
threads, event loops or JSON libraries; this is where they are plugged in. Build every
long-lived application (web app, agent worker, CLI, benches) from this class.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from adapters.data_keys import InMemoryKeyStore, KeyStore, PostgresKeyStore
from adapters.group_commit import CommandQueue, Receipt, outcome_of
from adapters.postgres.codec import FastMapper, column_decoder
from adapters.postgres.database import DatabaseSettings
from adapters.sealing import Sealer
from domain.application import CallCenter
from domain.commands import Command
from domain.outcome import Outcome
from domain.ports import ColumnDecoder


class GroupCommitCallCenter(CallCenter):
    """Callers on any thread or event loop; their commands are written in few
    transactions (`submit`, `record_async`, `record_many_async`)."""

    name = "CallCenter"  # the same application (its tables, its environment prefix)

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env, write_lock=threading.Lock())
        self.queue = CommandQueue(self.record_many, pipeline=self if self.can_plan_ahead else None)

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = super().construct_mapper()
        if type(mapper) is Mapper:
            return FastMapper(
                mapper.transcoder, mapper.compressor, mapper.cipher, sealer=self._sealer()
            )
        return mapper

    def _sealer(self) -> Sealer | None:
        """Personal data is sealed with per-conversation keys in the same database as the
        events (`SEAL_PERSONAL_DATA=n` turns it off, for a benchmark's baseline only)."""
        if (self.env.get("SEAL_PERSONAL_DATA") or "y").lower() in ("n", "no", "0", "false"):
            return None
        if self.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            settings = DatabaseSettings.from_eventsourcing_env(self.env)
            self.key_store: KeyStore = PostgresKeyStore(settings.conninfo)
        else:
            self.key_store = InMemoryKeyStore()
        return Sealer(self.key_store)

    def encode(self, events: list[Any]) -> list[StoredEvent]:
        """Read or make the keys of the batch's conversations in one round trip first."""
        sealer = getattr(self.mapper, "sealer", None)
        if sealer is not None:
            sealer.ensure_keys([e.originator_id for e in events])
        return super().encode(events)

    def shred_key(self, conversation_id: UUID) -> bool:
        """Crypto-shred one conversation: delete its data key for good (True if it had
        one), and forget this process's copy."""
        store: KeyStore | None = getattr(self, "key_store", None)
        if store is None:
            raise RuntimeError("personal data is not sealed here: nothing can be shredded")
        shredded = store.shred(conversation_id)
        if isinstance(self.mapper, FastMapper) and self.mapper.sealer is not None:
            self.mapper.sealer.forget(conversation_id)
        with self._write_lock:  # its cached state was read through the key
            self._cache.pop(conversation_id, None)
        return shredded

    def column_decoder(self) -> ColumnDecoder:
        return column_decoder(self.mapper)

    def submit(self, command: Command) -> Receipt[Outcome]:
        """Queue a command for the next group commit."""
        return self.queue.submit(command)

    async def record_async(self, command: Command) -> Outcome:
        """Group-committed recording for event-loop callers; raises the domain's error."""
        outcome = await outcome_of(self.submit(command))
        if outcome.error is not None:
            raise outcome.error
        return outcome

    async def record_many_async(self, commands: Sequence[Command]) -> list[Outcome]:
        """Several commands in one group-committed transaction; outcomes, never raises
        the domain's errors (each outcome carries its own)."""
        return await outcome_of(self.queue.submit_many(list(commands)))

    def close(self) -> None:
        self.queue.close()
        super().close()
        close_keys = getattr(getattr(self, "key_store", None), "close", None)
        if close_keys is not None:
            close_keys()
