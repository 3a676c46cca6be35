"""The call center's application service: every command becomes immutable events.

Commands are applied to cached `Conversation` aggregates and appended in batches. Inside
the append transaction the event table is locked and each touched conversation is brought
up to date from the store first, so several processes may write one conversation without
losing anything to a version conflict. Redelivered inputs are recognised by their dedup key
in the same transaction.

This is the model's application service and nothing else: it plans on one thread at a
time. The group-commit queue, the thread lock and the fast codec that the running
processes use are added on the adapters' side (`adapters.call_center`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.commands import Command
from domain.conversation import Conversation
from domain.errors import DomainError
from domain.ids import conversation_id_for_room
from domain.outcome import Outcome
from domain.planning import (
    CheckedAppend,
    Prepared,
    Restart,
    Stale,
    assumed_new,
    recorded_outcomes,
)
from domain.ports import BatchPlan, BatchRecorder, ColumnDecoder, LoggedEvent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class CallCenter(Application[UUID]):
    name = "CallCenter"
    is_snapshotting_enabled = False

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        write_lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        """`write_lock` guards the cached conversations; callers on several threads give
        a real lock (one thread needs none)."""
        super().__init__(env)
        self._cache: OrderedDict[UUID, Conversation] = OrderedDict()
        self._cache_size = int(self.env.get("CONVERSATION_CACHE_SIZE") or 10_000)
        self._write_lock: AbstractContextManager[Any] = (
            nullcontext() if write_lock is None else write_lock
        )
        self._room_ids: dict[str, UUID] = {}
        checked = getattr(self.recorder, "append_checked", None)
        self._checked: CheckedAppend | None = (
            cast(CheckedAppend, self.recorder) if callable(checked) else None
        )
        # Conversations whose cached state includes events planned by `prepare` and not
        # yet settled (committed or discarded), with how many such batches touch each.
        self._speculative: dict[UUID, int] = {}

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

    def record_many(self, commands: Sequence[Command]) -> list[Outcome]:
        """Record commands in order, atomically per attempt; one outcome per command."""
        outcomes: list[Outcome | None] = [None] * len(commands)
        ids = self._conversation_ids(commands, outcomes)
        with self._write_lock:
            # Never plan on top of a batch the queue planned ahead and has not settled.
            self._forget_speculation()
            return self._record_locked(commands, ids, outcomes)

    def _record_locked(
        self, commands: Sequence[Command], ids: dict[int, UUID], outcomes: list[Outcome | None]
    ) -> list[Outcome]:
        # First plan outside the store's lock, as if nobody else wrote; if the store
        # disagrees, plan again inside the lock from what is stored.
        optimistic = self._checked is not None
        for attempt in range(MAX_ATTEMPTS):
            todo = [i for i, o in enumerate(outcomes) if o is None]
            if not todo:
                break
            try:
                self._attempt(commands, ids, todo, outcomes, optimistic=optimistic)
            except Restart as restart:
                outcomes[restart.index] = Outcome(
                    "rejected", ids[restart.index], error=restart.error
                )
            except Stale:
                optimistic = False
            except IntegrityError:  # a writer outside our protocol: reload and retry
                optimistic = False
                log.info("version conflict on attempt %d; retrying", attempt + 1)
        if any(o is None for o in outcomes):
            raise RuntimeError("commands could not be recorded after repeated conflicts")
        return cast(list[Outcome], outcomes)

    def _conversation_ids(
        self, commands: Sequence[Command], outcomes: list[Outcome | None]
    ) -> dict[int, UUID]:
        ids: dict[int, UUID] = {}
        room_ids = self._room_ids
        for i, command in enumerate(commands):
            room = command.room_name
            cid = room_ids.get(room) if type(room) is str else None
            if cid is None:
                try:
                    cid = command.conversation_id
                except DomainError as e:
                    outcomes[i] = Outcome("rejected", None, error=e)
                    continue
                if len(room_ids) >= self._cache_size * 4:
                    room_ids.clear()
                room_ids[room] = cid
            ids[i] = cid
        return ids

    # --- planning ahead (the group-commit queue's pipeline) ------------------------------
    #
    # The queue's writer plans batch N+1 (`prepare`) while batch N's transaction runs in
    # another thread (`commit`), on the assumption that N commits. The transaction checks
    # that assumption under the store's lock: every input key new, every conversation
    # still at the version the plan started from. When it does not hold nothing is
    # written, the speculative state of N and N+1 is dropped (`settle`), and both are
    # recorded again with `record_many`, in order.

    @property
    def can_plan_ahead(self) -> bool:
        """Whether the store checks batches planned outside its lock (`prepare`)."""
        return self._checked is not None

    def prepare(self, commands: Sequence[Command]) -> Prepared | None:
        """Plan a batch without touching the store; None if it cannot be planned ahead."""
        if self._checked is None:
            return None
        outcomes: list[Outcome | None] = [None] * len(commands)
        ids = self._conversation_ids(commands, outcomes)
        with self._write_lock:
            for _ in range(MAX_ATTEMPTS):
                todo = [i for i, o in enumerate(outcomes) if o is None]
                try:
                    prepared = self._plan_ahead(commands, ids, todo, outcomes)
                except Restart as restart:
                    outcomes[restart.index] = Outcome(
                        "rejected", ids[restart.index], error=restart.error
                    )
                    continue
                except Stale:
                    return None  # a refusal the store must confirm: record it unplanned
                speculative = self._speculative
                for cid in prepared.working:
                    speculative[cid] = speculative.get(cid, 0) + 1
                return prepared
        return None

    def commit(self, prepared: Prepared) -> list[Outcome] | None:
        """Append a prepared batch; None when the store no longer fits its plan. Touches
        no cached state, so it may run while the next batch is being prepared."""
        outcomes = list(prepared.outcomes)
        if prepared.known:
            assert self._checked is not None
            positions = self._checked.append_checked(prepared.keys, prepared.known, prepared.batch)
            if positions is None:
                return None
            for i, outcome in recorded_outcomes(prepared.ids, prepared.made, positions).items():
                outcomes[i] = outcome
        return cast(list[Outcome], outcomes)

    def settle(self, prepared: Prepared, committed: bool) -> None:
        """The prepared batch committed, or never will: then its conversations are
        dropped from the cache, to be reloaded from the store."""
        with self._write_lock:
            speculative = self._speculative
            for cid in prepared.working:
                n = speculative.get(cid, 0) - 1
                if n > 0:
                    speculative[cid] = n
                else:
                    speculative.pop(cid, None)
                if not committed:
                    self._cache.pop(cid, None)

    def _forget_speculation(self) -> None:
        for cid in self._speculative:
            self._cache.pop(cid, None)

    def _plan_ahead(
        self,
        commands: Sequence[Command],
        ids: dict[int, UUID],
        todo: list[int],
        outcomes: list[Outcome | None],
    ) -> Prepared:
        known, keys = self._assumptions(commands, ids, todo)
        results: dict[int, Outcome] = {}
        made: dict[int, list[int]] = {}
        working: dict[UUID, Conversation] = {}
        try:
            batch = self._plan(
                commands, ids, todo, assumed_new(keys), results, made, working, verified=False
            )
        except BaseException:
            for cid in working:
                self._cache.pop(cid, None)
            raise
        self._cache_working(working)
        decided = list(outcomes)
        for i, outcome in results.items():
            decided[i] = outcome
        return Prepared(
            commands,
            ids,
            decided,
            keys,
            known,
            batch,
            made,
            list(working),
        )

    # --- recording now ---------------------------------------------------------------------

    def _plan(
        self,
        commands: Sequence[Command],
        ids: dict[int, UUID],
        todo: list[int],
        new_keys: frozenset[str],
        results: dict[int, Outcome],
        made: dict[int, list[int]],
        working: dict[UUID, Conversation],
        *,
        verified: bool,
    ) -> BatchPlan:
        """Apply the commands to their conversations: what to append, with each recorded
        input's dedup key (on the first event it made, or on its own if it made none).
        `made` gets, per recorded command, where its events are in the batch.

        Unless `verified` (planned inside the store's lock, from what is stored), a cached
        conversation may be behind the store and an uncached one is only assumed new: a
        refusal decided on either raises Stale, so that the store is asked before anyone
        is told no."""
        claimed: set[str] = set()
        keyed: list[tuple[int, str]] = []
        new_events: dict[int, list[Any]] = {}
        cache = self._cache
        for i in todo:
            command, cid = commands[i], ids[i]
            key = command.dedup_key
            if key is not None:
                if key not in new_keys or key in claimed:
                    results[i] = Outcome("duplicate", cid)
                    continue
                claimed.add(key)
            conversation = working.get(cid) or cache.get(cid)
            fresh = conversation is None
            before = 0 if conversation is None else len(conversation.pending_events)
            try:
                if conversation is None:
                    conversation = Conversation.open(command.room_name, command.meta)
                command.apply(conversation)
            except DomainError as e:
                if not verified:
                    # decided on what this process last saw, which another writer (the
                    # agent, another web process) may have moved on: the store confirms it
                    raise Stale() from e
                results[i] = Outcome("rejected", cid, error=e)
                if not fresh and conversation is not None:
                    if len(conversation.pending_events) != before:
                        working[cid] = conversation  # so it is evicted on rollback
                        raise Restart(i, e) from e
                continue
            working[cid] = conversation
            new_events[i] = conversation.pending_events[before:]
            if key is not None:
                keyed.append((i, key))
        events = [e for c in working.values() for e in c.collect_events()]
        # Events are found by identity: their ids would hash through UUID.__hash__.
        index_of = {id(e): k for k, e in enumerate(events)}
        for i, mine in new_events.items():
            made[i] = [index_of[id(e)] for e in mine]
        keys: list[str | None] = [None] * len(events)
        quiet: list[str] = []
        for i, key in keyed:
            if made[i]:
                keys[made[i][0]] = key
            else:
                quiet.append(key)
        return BatchPlan(self.encode(events), keys, quiet)

    def encode(self, events: list[Any]) -> list[StoredEvent]:
        """A batch's events as stored events (an adapter may prepare the batch first)."""
        to_stored = self.mapper.to_stored_event
        return [to_stored(e) for e in events]

    def _cache_working(self, working: dict[UUID, Conversation]) -> None:
        cache = self._cache
        for cid, conversation in working.items():
            cache[cid] = conversation
            cache.move_to_end(cid)
        while len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _attempt(
        self,
        commands: Sequence[Command],
        ids: dict[int, UUID],
        todo: list[int],
        outcomes: list[Outcome | None],
        *,
        optimistic: bool = False,
    ) -> None:
        known, keys = self._assumptions(commands, ids, todo)
        results: dict[int, Outcome] = {}
        made: dict[int, list[int]] = {}
        working: dict[UUID, Conversation] = {}

        def plan(new_keys: frozenset[str], stored: dict[UUID, list[StoredEvent]]) -> BatchPlan:
            self._fast_forward(stored)
            return self._plan(
                commands, ids, todo, new_keys, results, made, working, verified=not optimistic
            )

        try:
            if optimistic:
                assert self._checked is not None
                checked = self._checked.append_checked(keys, known, plan(assumed_new(keys), {}))
                if checked is None:
                    raise Stale()
                positions = checked
            else:
                positions = self.store.append_batch(keys, known, plan)
        except BaseException as exc:
            for cid in working:  # their in-memory changes were not committed
                self._cache.pop(cid, None)
            if isinstance(exc, IntegrityError):  # what we cached is not what is stored
                for cid in known:
                    self._cache.pop(cid, None)
            raise
        self._cache_working(working)
        results.update(recorded_outcomes(ids, made, positions))
        for i, outcome in results.items():
            outcomes[i] = outcome

    def _assumptions(
        self, commands: Sequence[Command], ids: dict[int, UUID], todo: list[int]
    ) -> tuple[dict[UUID, int], list[str]]:
        """What a plan starts from: each conversation's cached version, and the input
        keys it takes to be new."""
        known = {ids[i]: self._cached_version(ids[i]) for i in todo}
        keys = [k for i in todo if (k := commands[i].dedup_key) is not None]
        return known, keys

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

    def column_decoder(self) -> ColumnDecoder:
        """How a stored event's columns become a domain event, through the mapper (an
        adapter with a codec that decodes columns directly overrides this)."""
        to_event = self.mapper.to_domain_event

        def decode(
            originator_id: Any, originator_version: int, topic: str, state: bytes
        ) -> DomainEventProtocol[UUID]:
            return to_event(StoredEvent(originator_id, originator_version, topic, state))

        return decode

    def log_of(self, conversation_id: UUID) -> list[tuple[LoggedEvent, DomainEventProtocol[UUID]]]:
        """A conversation's events in log order, each with its position and chain links."""
        decode = self.column_decoder()
        out = []
        for logged in self.store.select_log(conversation_id):
            e = logged.event
            out.append((logged, decode(e.originator_id, e.originator_version, e.topic, e.state)))
        return out

    def events_of(self, conversation_id: UUID) -> list[tuple[int, DomainEventProtocol[UUID]]]:
        """A conversation's events in log order, each with its position (no chain links:
        the fast path for replay)."""
        decode = self.column_decoder()
        rows = self.store.select_log_rows(conversation_id)
        return [(p, decode(conversation_id, v, topic, state)) for p, v, topic, state in rows]

    def close(self) -> None:
        close_writer = getattr(self.recorder, "close_writer", None)
        if callable(close_writer):
            close_writer()
        super().close()
