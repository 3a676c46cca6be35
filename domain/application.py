"""The call center's application service: every command becomes immutable events.

Commands are applied to cached `Conversation` aggregates and appended in batches. Inside
the append transaction the event table is locked and each touched conversation is brought
up to date from the store first, so several processes may write one conversation without
losing anything to a version conflict. Redelivered inputs are recognised by their dedup key
in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.command_queue import CommandQueue
from domain.commands import Command
from domain.conversation import Conversation
from domain.errors import DomainError
from domain.ids import conversation_id_for_room
from domain.outcome import Outcome
from domain.ports import BatchPlan, BatchRecorder, LoggedEvent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class _Restart(Exception):
    """A command failed after changing its aggregate: redo the batch without it."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error


class CallCenter(Application[UUID]):
    name = "CallCenter"
    is_snapshotting_enabled = False

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._cache: OrderedDict[UUID, Conversation] = OrderedDict()
        self._cache_size = int(self.env.get("CONVERSATION_CACHE_SIZE") or 10_000)
        self._write_lock = threading.Lock()
        self.queue = CommandQueue(self.record_many)

    @property
    def store(self) -> BatchRecorder:
        return cast(BatchRecorder, self.recorder)

    # --- commands ------------------------------------------------------------------------

    def record(self, command: Command) -> Outcome:
        """Record one command now; raises the domain's error if it is refused."""
        outcome = self.record_many([command])[0]
        if outcome.error is not None:
            raise outcome.error
        return outcome

    def submit(self, command: Command) -> Future[Outcome]:
        """Queue a command for the next group commit."""
        return self.queue.submit(command)

    async def record_async(self, command: Command) -> Outcome:
        """Group-committed recording for event-loop callers; raises the domain's error."""
        outcome = await asyncio.wrap_future(self.submit(command))
        if outcome.error is not None:
            raise outcome.error
        return outcome

    async def record_many_async(self, commands: Sequence[Command]) -> list[Outcome]:
        """Several commands in one group-committed transaction; outcomes, never raises
        the domain's errors (each outcome carries its own)."""
        return await asyncio.wrap_future(self.queue.submit_many(list(commands)))

    def record_many(self, commands: Sequence[Command]) -> list[Outcome]:
        """Record commands in order, atomically per attempt; one outcome per command."""
        outcomes: list[Outcome | None] = [None] * len(commands)
        ids: dict[int, UUID] = {}
        for i, command in enumerate(commands):
            try:
                ids[i] = command.conversation_id
            except DomainError as e:
                outcomes[i] = Outcome("rejected", None, error=e)
        with self._write_lock:
            for attempt in range(MAX_ATTEMPTS):
                todo = [i for i, o in enumerate(outcomes) if o is None]
                if not todo:
                    break
                try:
                    self._attempt(commands, ids, todo, outcomes)
                except _Restart as restart:
                    outcomes[restart.index] = Outcome(
                        "rejected", ids[restart.index], error=restart.error
                    )
                except IntegrityError:  # a writer outside our protocol: reload and retry
                    log.info("version conflict on attempt %d; retrying", attempt + 1)
        if any(o is None for o in outcomes):
            raise RuntimeError("commands could not be recorded after repeated conflicts")
        return cast(list[Outcome], outcomes)

    def _attempt(
        self,
        commands: Sequence[Command],
        ids: dict[int, UUID],
        todo: list[int],
        outcomes: list[Outcome | None],
    ) -> None:
        known = {ids[i]: self._cached_version(ids[i]) for i in todo}
        keys = [k for i in todo if (k := commands[i].dedup_key) is not None]
        results: dict[int, Outcome] = {}
        made: dict[int, list[DomainEventProtocol[UUID]]] = {}
        working: dict[UUID, Conversation] = {}

        def plan(new_keys: frozenset[str], stored: dict[UUID, list[StoredEvent]]) -> BatchPlan:
            self._fast_forward(stored)
            claimed: set[str] = set()
            released: list[str] = []
            for i in todo:
                command, cid, key = commands[i], ids[i], commands[i].dedup_key
                if key is not None:
                    if key not in new_keys or key in claimed:
                        results[i] = Outcome("duplicate", cid)
                        continue
                    claimed.add(key)
                conversation = working.get(cid) or self._cache.get(cid)
                fresh = conversation is None
                before = 0 if conversation is None else len(conversation.pending_events)
                try:
                    if conversation is None:
                        conversation = Conversation.open(command.room_name, command.meta)
                    command.apply(conversation)
                except DomainError as e:
                    results[i] = Outcome("rejected", cid, error=e)
                    if key is not None:
                        released.append(key)
                    if not fresh and conversation is not None:
                        if len(conversation.pending_events) != before:
                            working[cid] = conversation  # so it is evicted on rollback
                            raise _Restart(i, e) from e
                    continue
                working[cid] = conversation
                made[i] = list(conversation.pending_events[before:])
            events = [e for c in working.values() for e in c.collect_events()]
            return BatchPlan([self.mapper.to_stored_event(e) for e in events], released)

        try:
            positions = self.store.append_batch(keys, known, plan)
        except BaseException:
            for cid in working:  # their in-memory changes were not committed
                self._cache.pop(cid, None)
            raise
        for cid, conversation in working.items():
            self._cache[cid] = conversation
            self._cache.move_to_end(cid)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        for i, events in made.items():
            cid = ids[i]
            results[i] = Outcome(
                "recorded", cid, tuple(positions[(cid, e.originator_version)] for e in events)
            )
        for i, outcome in results.items():
            outcomes[i] = outcome

    def _cached_version(self, conversation_id: UUID) -> int:
        cached = self._cache.get(conversation_id)
        return 0 if cached is None else cached.version

    def _fast_forward(self, stored: dict[UUID, list[StoredEvent]]) -> None:
        """Apply events other processes appended since we cached each conversation."""
        for cid, newer in stored.items():
            if not newer:
                continue
            aggregate: Any = self._cache.get(cid)
            for stored_event in newer:
                event: Any = self.mapper.to_domain_event(stored_event)
                aggregate = event.mutate(aggregate)
            self._cache[cid] = aggregate

    # --- queries -------------------------------------------------------------------------

    def conversation(self, conversation_id: UUID, version: int | None = None) -> Conversation:
        return cast(Conversation, self.repository.get(conversation_id, version=version))

    def conversation_for_room(self, room_name: str) -> Conversation:
        return self.conversation(conversation_id_for_room(room_name))

    def log_of(self, conversation_id: UUID) -> list[tuple[LoggedEvent, DomainEventProtocol[UUID]]]:
        """A conversation's events in log order, each with its position and chain links."""
        return [
            (logged, self.mapper.to_domain_event(logged.event))
            for logged in self.store.select_log(conversation_id)
        ]

    def close(self) -> None:
        self.queue.close()
        super().close()
