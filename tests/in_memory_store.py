"""An event store in memory, for the domain's rules: the library's POPO recorder plus the
batch append the application service needs (dedup keys, newer events, positions).

What needs PostgreSQL (the hash chain, concurrent writers, the append function) is
tested against PostgreSQL; this is the fake unit of work of Cosmic Python's unit tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from domain.ports import LoggedEvent, Planner

#: The application's environment for an in-memory store.
IN_MEMORY_ENV = {"PERSISTENCE_MODULE": "tests.in_memory_store:InMemoryFactory"}


class InMemoryRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._input_keys: set[str] = set()

    def append_batch(
        self, input_keys: Sequence[str], known_versions: dict[UUID, int], plan: Planner
    ) -> list[int]:
        with self._database_lock:
            new_keys = frozenset(k for k in input_keys if k not in self._input_keys)
            newer = {
                cid: list(self.select_events(cid, gt=version))
                for cid, version in known_versions.items()
            }
            batch = plan(new_keys, newer)
            positions = list(self._insert_events(batch.events) or [])
            self._input_keys.update(k for k in batch.keys if k is not None)
            self._input_keys.update(batch.quiet_keys)
            return positions

    def select_log(self, conversation_id: UUID) -> list[LoggedEvent]:
        with self._database_lock:
            index = self._stored_events_index[str(conversation_id)]
            return [
                LoggedEvent(i + 1, self._stored_events[i], None, None)
                for _, i in sorted(index.items())
            ]

    def select_log_rows(self, conversation_id: UUID) -> list[tuple[int, int, str, bytes]]:
        return [
            (e.position, e.event.originator_version, e.event.topic, e.event.state)
            for e in self.select_log(conversation_id)
        ]

    def iter_log(self, conversation_id: UUID | None = None) -> Iterator[LoggedEvent]:
        if conversation_id is not None:
            yield from self.select_log(conversation_id)
            return
        with self._database_lock:
            ids = list(self._stored_events_index)
        for cid in sorted(ids):
            yield from self.select_log(UUID(cid))

    def select_heads(self) -> dict[UUID, tuple[int, bytes]]:
        return {}  # no hash chain in memory


class InMemoryFactory(POPOFactory):
    def application_recorder(self) -> ApplicationRecorder:
        return InMemoryRecorder()
