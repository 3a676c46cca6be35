"""The per-conversation hash chain that makes tampering with stored events evident."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.ports import LoggedEvent

GENESIS = bytes(32)


def _link(prev_hash: bytes, id_bytes: bytes, version: int, topic: str, state: bytes) -> bytes:
    """The one definition of a link: sha256(prev ‖ sha256(id ‖ version ‖ topic ‖ NUL ‖
    state)), with the id already as bytes (a batch converts each conversation's once)."""
    content = hashlib.sha256(
        b"".join((id_bytes, version.to_bytes(8, "big"), topic.encode(), b"\x00", state))
    ).digest()
    return hashlib.sha256(prev_hash + content).digest()


def chain_hash(
    prev_hash: bytes, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The hash of an event's content linked to its predecessor's chain hash."""
    return _link(prev_hash, originator_id.bytes, version, topic, state)


# --- linking a batch ------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedBatch:
    """A batch's insert columns, each event chained to its predecessor, and each
    conversation's new chain head (its last version and hash)."""

    columns: tuple[list[Any], ...]
    heads: dict[UUID, tuple[int, bytes]]


def link_events(events: list[StoredEvent], heads: dict[UUID, bytes]) -> LinkedBatch:
    """Chain a batch's events from the given heads (a batch holds each conversation's
    events together, so each id is converted once per run of them)."""
    ids, versions, topics, states, prevs, hashes = [], [], [], [], [], []
    last: dict[UUID, tuple[int, bytes]] = {}
    current: Any = None
    raw = b""
    prev = GENESIS
    version = 0
    for e in events:
        oid = e.originator_id
        if oid is not current:  # a run of another conversation's events begins
            assert isinstance(oid, UUID)
            if current is not None:
                last[current] = (version, prev)
            current, raw = oid, oid.bytes
            if oid in last:
                prev = last[oid][1]
            elif e.originator_version == 1:
                prev = GENESIS
            else:
                prev = heads.get(oid) or GENESIS
        version, topic, state = e.originator_version, e.topic, e.state
        h = _link(prev, raw, version, topic, state)
        ids.append(oid)
        versions.append(version)
        topics.append(topic)
        states.append(state)
        prevs.append(prev)
        hashes.append(h)
        prev = h
    if current is not None:
        last[current] = (version, prev)
    return LinkedBatch((ids, versions, topics, states, prevs, hashes), last)


# --- verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainFinding:
    conversation_id: UUID
    version: int | None
    position: int | None
    problem: str

    def __str__(self) -> str:
        where = f" v{self.version}" if self.version is not None else ""
        at = f" (log position {self.position})" if self.position is not None else ""
        return f"{self.conversation_id}{where}{at}: {self.problem}"


@dataclass
class ChainReport:
    conversations: int = 0
    events: int = 0
    findings: list[ChainFinding] | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_chains(
    logged: Iterable[LoggedEvent],
    heads: dict[UUID, tuple[int, bytes]],
    only: UUID | None = None,
) -> ChainReport:
    """Recompute every chain from the stored rows (ordered by conversation, version).

    Altered content breaks that event's hash; a removed or reordered event breaks the
    version sequence or the next link; a removed newest event disagrees with the head.
    """
    report = ChainReport(findings=[])
    findings = report.findings
    assert findings is not None
    current: UUID | None = None
    expected_version, prev, last_position = 1, GENESIS, 0
    seen: set[UUID] = set()

    def close(oid: UUID, last_version: int, last_hash: bytes) -> None:
        head = heads.get(oid)
        if head is None:
            findings.append(ChainFinding(oid, None, None, "no recorded chain head"))
        elif head != (last_version, last_hash):
            findings.append(
                ChainFinding(
                    oid,
                    head[0],
                    None,
                    f"chain ends at v{last_version} but head says v{head[0]}: "
                    "events removed or altered",
                )
            )

    for item in logged:
        e = item.event
        oid = e.originator_id
        assert isinstance(oid, UUID)
        if oid != current:
            if current is not None:
                close(current, expected_version - 1, prev)
            current, expected_version, prev, last_position = oid, 1, GENESIS, 0
            seen.add(oid)
            report.conversations += 1
        report.events += 1
        version = e.originator_version
        if version != expected_version:
            findings.append(
                ChainFinding(
                    oid,
                    version,
                    item.position,
                    f"expected v{expected_version}: events missing or reordered",
                )
            )
        if item.position <= last_position:
            findings.append(
                ChainFinding(oid, version, item.position, "log order disagrees with version order")
            )
        if item.chain_hash is None or item.prev_hash is None:
            findings.append(
                ChainFinding(oid, version, item.position, "event is not sealed in the chain")
            )
        else:
            if item.prev_hash != prev:
                findings.append(
                    ChainFinding(
                        oid, version, item.position, "link to the previous event is broken"
                    )
                )
            if chain_hash(item.prev_hash, oid, version, e.topic, e.state) != item.chain_hash:
                findings.append(ChainFinding(oid, version, item.position, "content was altered"))
        expected_version = version + 1
        prev = item.chain_hash or b""
        last_position = item.position
    if current is not None:
        close(current, expected_version - 1, prev)
    for oid in heads:
        if oid not in seen and (only is None or oid == only):
            findings.append(
                ChainFinding(oid, None, None, "every event of this conversation was removed")
            )
    return report
