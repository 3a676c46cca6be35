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


def content_hash(originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    h = hashlib.sha256()
    h.update(originator_id.bytes)
    h.update(version.to_bytes(8, "big"))
    h.update(topic.encode())
    h.update(b"\x00")
    h.update(state)
    return h.digest()


def chain_hash(
    prev_hash: bytes, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The hash of an event's content linked to its predecessor's chain hash."""
    return hashlib.sha256(prev_hash + content_hash(originator_id, version, topic, state)).digest()


# --- linking a batch ------------------------------------------------------------------


def link_events(events: list[StoredEvent], heads: dict[UUID, bytes]) -> tuple[list[Any], ...]:
    """Column arrays for the insert, each event chained to its predecessor (as
    `chain_hash`, with fewer steps: a batch holds each conversation's events together)."""
    ids, versions, topics, states, prevs, hashes = [], [], [], [], [], []
    last: dict[UUID, bytes] = {}
    current: Any = None
    raw = b""
    prev = GENESIS
    sha256 = hashlib.sha256
    for e in events:
        oid = e.originator_id
        version = e.originator_version
        if oid is not current:
            assert isinstance(oid, UUID)
            if current is not None:
                last[current] = prev
            current, raw = oid, oid.bytes
            if oid in last:
                prev = last[oid]
            elif version == 1:
                prev = GENESIS
            else:
                prev = heads.get(oid) or GENESIS
        topic, state = e.topic, e.state
        content = sha256(
            b"".join((raw, version.to_bytes(8, "big"), topic.encode(), b"\x00", state))
        ).digest()
        h = sha256(prev + content).digest()
        ids.append(oid)
        versions.append(version)
        topics.append(topic)
        states.append(state)
        prevs.append(prev)
        hashes.append(h)
        prev = h
    return ids, versions, topics, states, prevs, hashes


def last_links(columns: tuple[list[Any], ...]) -> dict[UUID, tuple[int, bytes]]:
    """Each conversation's new chain head: its last version and chain hash."""
    last: dict[UUID, tuple[int, bytes]] = {}
    current: Any = None
    head = (0, GENESIS)
    for oid, v, h in zip(columns[0], columns[1], columns[5], strict=True):
        if oid is not current:
            if current is not None:
                last[current] = head
            current = oid
        head = (v, h)
    if current is not None:
        last[current] = head
    return last


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
