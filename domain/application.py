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
from dataclasses import dataclass
from datetime import datetime
from json.encoder import c_encode_basestring, c_encode_basestring_ascii, c_make_encoder  # type: ignore[attr-defined]
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from domain.command_queue import CommandQueue
from domain.commands import Command
from domain.conversation import Conversation
from domain.errors import DomainError
from domain.ids import conversation_id_for_room
from domain.outcome import Outcome
from domain.ports import BatchPlan, BatchRecorder, LoggedEvent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class _Stale(Exception):
    """The batch was planned on assumptions the store no longer bears out."""


class CheckedAppend(Protocol):
    """What a store offers for batches planned outside its lock (optional)."""

    def append_checked(
        self,
        input_keys: Sequence[str],
        known_versions: dict[UUID, int],
        batch: BatchPlan,
    ) -> dict[tuple[UUID, int], int] | None: ...


class _Restart(Exception):
    """A command failed after changing its aggregate: redo the batch without it."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error


def _assumed_new(keys: Sequence[str]) -> frozenset[str]:
    """The keys a plan made before the transaction assumes new: all of them, but one with
    a NUL, which the store cannot hold and so never reports as new."""
    return frozenset(k for k in keys if "\x00" not in k)


class FastMapper(Mapper[UUID]):
    """The library's mapper with fewer steps per event, for the JSON transcoder without
    compression or encryption: the same stored bytes, the same decoded events.

    Topics and class versions are looked up once per class, the event timestamp is
    transcoded before the (C) JSON encoder runs instead of through its fallback hook, and
    stored and domain events are built without their dataclass constructors.
    """

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder, compressor, cipher)
        self._fast = isinstance(transcoder, JSONTranscoder) and not compressor and not cipher
        self._out: dict[type, tuple[str, int]] = {}
        self._in: dict[str, tuple[type, int, Any]] = {}
        if self._fast:
            assert isinstance(transcoder, JSONTranscoder)
            e = transcoder.encoder
            # The C encoder the library's JSONEncoder builds on every call, built once and
            # without its circular-reference bookkeeping (event state is a tree).
            self._encoder = (
                c_make_encoder(
                    None,
                    e.default,
                    c_encode_basestring_ascii if e.ensure_ascii else c_encode_basestring,
                    None,
                    e.key_separator,
                    e.item_separator,
                    e.sort_keys,
                    e.skipkeys,
                    e.allow_nan,
                )
                if c_make_encoder is not None
                else None
            )
            self._scan = transcoder.decoder.scan_once  # type: ignore[attr-defined]
            self._decode = transcoder.decoder.decode
            self._datetime = transcoder.types.get(datetime)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        if not self._fast:
            return super().to_stored_event(domain_event)
        cls = type(domain_event)
        info = self._out.get(cls)
        if info is None:
            info = self._out[cls] = (get_topic(cls), getattr(cls, "class_version", 1))
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if info[1] > 1:
            state["class_version"] = info[1]
        moment = state.get("timestamp")
        if type(moment) is datetime and self._datetime is not None:
            t = self._datetime
            state["timestamp"] = {"_type_": t.name, "_data_": t.encode(moment)}
        stored = object.__new__(StoredEvent)
        object.__setattr__(
            stored,
            "__dict__",
            {
                "originator_id": originator_id,
                "originator_version": originator_version,
                "topic": info[0],
                "state": self._dump(state),
            },
        )
        return stored

    def portable(self) -> tuple[type[FastMapper], list[Any]] | None:
        """How to build this mapper in another process (`from_portable`), or None."""
        if not self._fast:
            return None
        transcoder = self.transcoder
        assert isinstance(transcoder, JSONTranscoder)
        if type(transcoder) is not JSONTranscoder:
            return None
        return type(self), list(transcoder.types.values())

    @staticmethod
    def from_portable(spec: tuple[type[FastMapper], list[Any]]) -> FastMapper:
        cls, transcodings = spec
        transcoder = JSONTranscoder()
        for transcoding in transcodings:
            transcoder.register(transcoding)
        return cls(transcoder)

    def _dump(self, state: dict[str, Any]) -> bytes:
        if self._encoder is None:
            return self.transcoder.encode(state)
        return "".join(self._encoder(state, 0)).encode("utf8")

    def _load(self, data: bytes) -> dict[str, Any]:
        text = data.decode("utf8")
        try:
            state, end = self._scan(text, 0)
        except StopIteration:
            state, end = None, -1
        if end != len(text) or type(state) is not dict:  # whitespace, or not an object
            state = self._decode(text)
        return state  # type: ignore[no-any-return]

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        if not self._fast:
            return super().to_domain_event(stored_event)
        return self.decode(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )

    def decode(
        self, originator_id: Any, originator_version: int, topic: str, state_bytes: bytes
    ) -> DomainEventProtocol[UUID]:
        """`to_domain_event` from a stored event's columns (no StoredEvent built)."""
        if not self._fast:
            return super().to_domain_event(
                StoredEvent(originator_id, originator_version, topic, state_bytes)
            )
        info = self._in.get(topic)
        if info is None:
            cls = resolve_topic(topic)
            info = self._in[topic] = (cls, getattr(cls, "class_version", 1), None)
        cls, class_version, _ = info
        try:
            state = self._load(state_bytes)
        except Exception:  # raises the library's error
            return super().to_domain_event(
                StoredEvent(originator_id, originator_version, topic, state_bytes)
            )
        if type(originator_id) is not UUID:
            convert = find_id_convertor(cls, type(originator_id))  # type: ignore[arg-type]
            originator_id = convert(originator_id)
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event: Any = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event  # type: ignore[no-any-return]


@dataclass
class Prepared:
    """A batch planned ahead of its transaction (see `CallCenter.prepare`)."""

    commands: Sequence[Command]
    ids: dict[int, UUID]
    outcomes: list[Outcome | None]  # decided already: rejected or duplicate
    keys: list[str]
    known: dict[UUID, int]
    batch: BatchPlan
    made: dict[int, list[int]]  # command index -> versions of the events it made
    working: list[UUID]


class CallCenter(Application[UUID]):
    name = "CallCenter"
    is_snapshotting_enabled = False

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = super().construct_mapper()
        if type(mapper) is Mapper:
            return FastMapper(mapper.transcoder, mapper.compressor, mapper.cipher)
        return mapper

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._cache: OrderedDict[UUID, Conversation] = OrderedDict()
        self._cache_size = int(self.env.get("CONVERSATION_CACHE_SIZE") or 10_000)
        self._write_lock = threading.Lock()
        self._room_ids: dict[str, UUID] = {}
        checked = getattr(self.recorder, "append_checked", None)
        self._checked: CheckedAppend | None = (
            cast(CheckedAppend, self.recorder) if callable(checked) else None
        )
        # Conversations whose cached state includes events planned by `prepare` and not
        # yet settled (committed or discarded), with how many such batches touch each.
        self._speculative: dict[UUID, int] = {}
        self.queue = CommandQueue(
            self._record_queued, pipeline=self if self._checked is not None else None
        )

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
        ids = self._conversation_ids(commands, outcomes)
        with self._write_lock:
            # Never plan on top of a batch the queue planned ahead and has not settled.
            self._forget_speculation()
            return self._record_locked(commands, ids, outcomes)

    def _record_queued(self, commands: Sequence[Command]) -> list[Outcome]:
        return self.record_many(commands)

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
            except _Restart as restart:
                outcomes[restart.index] = Outcome(
                    "rejected", ids[restart.index], error=restart.error
                )
            except _Stale:
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

    # --- planning ahead (the command queue's pipeline) -----------------------------------
    #
    # The queue's writer plans batch N+1 (`prepare`) while batch N's transaction runs in
    # another thread (`commit`), on the assumption that N commits. The transaction checks
    # that assumption under the store's lock: every input key new, every conversation
    # still at the version the plan started from. When it does not hold nothing is
    # written, the speculative state of N and N+1 is dropped (`settle`), and both are
    # recorded again with `record_many`, in order.

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
                except _Restart as restart:
                    outcomes[restart.index] = Outcome(
                        "rejected", ids[restart.index], error=restart.error
                    )
                    continue
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
            ids = prepared.ids
            for i, versions in prepared.made.items():
                cid = ids[i]
                outcomes[i] = Outcome(
                    "recorded", cid, tuple([positions[(cid, v)] for v in versions])
                )
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
        known = {ids[i]: self._cached_version(ids[i]) for i in todo}
        keys = [k for i in todo if (k := commands[i].dedup_key) is not None]
        results: dict[int, Outcome] = {}
        made: dict[int, list[DomainEventProtocol[UUID]]] = {}
        working: dict[UUID, Conversation] = {}
        try:
            batch = self._plan(commands, ids, todo, _assumed_new(keys), results, made, working)
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
            {i: [e.originator_version for e in events] for i, events in made.items()},
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
        made: dict[int, list[DomainEventProtocol[UUID]]],
        working: dict[UUID, Conversation],
    ) -> BatchPlan:
        """Apply the commands to their conversations; what to append, and the keys of
        inputs refused after all."""
        claimed: set[str] = set()
        released: list[str] = []
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
        to_stored = self.mapper.to_stored_event
        return BatchPlan(
            [to_stored(e) for c in working.values() for e in c.collect_events()], released
        )

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
        known = {ids[i]: self._cached_version(ids[i]) for i in todo}
        keys = [k for i in todo if (k := commands[i].dedup_key) is not None]
        results: dict[int, Outcome] = {}
        made: dict[int, list[DomainEventProtocol[UUID]]] = {}
        working: dict[UUID, Conversation] = {}

        def plan(new_keys: frozenset[str], stored: dict[UUID, list[StoredEvent]]) -> BatchPlan:
            self._fast_forward(stored)
            return self._plan(commands, ids, todo, new_keys, results, made, working)

        try:
            if optimistic:
                assert self._checked is not None
                checked = self._checked.append_checked(keys, known, plan(_assumed_new(keys), {}))
                if checked is None:
                    raise _Stale()
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
        for i, events in made.items():
            cid = ids[i]
            results[i] = Outcome(
                "recorded", cid, tuple([positions[(cid, e.originator_version)] for e in events])
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
        decode = getattr(self.mapper, "decode", None)
        if decode is None:
            to_event = self.mapper.to_domain_event
            return [
                (logged, to_event(logged.event))
                for logged in self.store.select_log(conversation_id)
            ]
        out = []
        for logged in self.store.select_log(conversation_id):
            e = logged.event
            out.append((logged, decode(e.originator_id, e.originator_version, e.topic, e.state)))
        return out

    def events_of(self, conversation_id: UUID) -> list[tuple[int, DomainEventProtocol[UUID]]]:
        """A conversation's events in log order, each with its position (no chain links:
        the fast path for replay)."""
        decode = getattr(self.mapper, "decode", None)
        if decode is None:
            return [(logged.position, event) for logged, event in self.log_of(conversation_id)]
        rows = self.store.select_log_rows(conversation_id)
        return [(p, decode(conversation_id, v, topic, state)) for p, v, topic, state in rows]

    def close(self) -> None:
        self.queue.close()
        close_writer = getattr(self.recorder, "close_writer", None)
        if callable(close_writer):
            close_writer()
        super().close()
