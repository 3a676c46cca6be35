"""The per-conversation hash chain that makes tampering with stored events evident."""

from __future__ import annotations

import hashlib
from uuid import UUID

GENESIS = bytes(32)


def content_hash(originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    h = hashlib.sha256()
    h.update(originator_id.bytes)
    h.update(version.to_bytes(8, "big"))
    h.update(topic.encode())
    h.update(b"\x00")
    h.update(state)
    return h.digest()


def chain_hash(prev_hash: bytes, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The hash of an event's content linked to its predecessor's chain hash."""
    return hashlib.sha256(prev_hash + content_hash(originator_id, version, topic, state)).digest()
