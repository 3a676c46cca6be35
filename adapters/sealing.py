"""Sealing the personal-data fields of events with their conversation's key (AES-256-GCM
from the `cryptography` package), and opening them again.

A sealed event's stored state has its personal fields taken out and one `_sealed_` text
in their place: base64 of a fresh 12-byte nonce and the ciphertext of those fields as
JSON, with the event's conversation id and version as associated data (so a sealed value
cannot be moved to another event). Fields that are None stay as they are.

Reading never fails on a key: a shredded key gives `[erased]` in each sealed field, and
a missing or wrong key gives `[unreadable]` and one logged error for that conversation,
so a projection worker goes on with the next event.
"""

from __future__ import annotations

import binascii
import json
import logging
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.data_keys import SHREDDED, KeyStore, Shredded
from domain import events as ev
from domain.privacy import placeholder

log = logging.getLogger(__name__)

SEALED = "_sealed_"
NONCE_BYTES = 12
#: How long a process trusts a key it has read before asking the store again; the bound
#: on how long another process's erasure can take to reach this one's reads (each
#: process also forgets a key as soon as it reads that conversation's erasure events).
KEY_TTL_S = 10.0

_Cipher = AESGCM | Shredded | None  # None: the store has no key for it
_FORGET = (ev.ErasureRequested, ev.ErasureCompleted)


def forgets_key(cls: type) -> bool:
    return issubclass(cls, _FORGET)


class Sealer:
    """Seals and opens events' personal fields, with a bounded cache of keys.

    The cache is keyed by the id's integer (hashing a UUID runs Python code; its `int`
    is a plain attribute) and each entry holds the cipher, when it expires, and the
    id's bytes for the associated data."""

    def __init__(self, keys: KeyStore, cache_size: int = 20_000) -> None:
        self.keys = keys
        self._ciphers: OrderedDict[int, tuple[_Cipher, float, bytes]] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()
        self._warned: set[UUID] = set()
        self._nonces, self._nonces_at = b"", 0

    # --- the key cache --------------------------------------------------------------------

    def _fresh(self, cid: UUID) -> tuple[_Cipher, float, bytes] | None:
        entry = self._ciphers.get(cid.int)
        if entry is not None and entry[1] < time.monotonic():
            return None
        return entry

    def _remember(self, cid: UUID, cipher: _Cipher) -> tuple[_Cipher, float, bytes]:
        entry = (cipher, time.monotonic() + KEY_TTL_S, cid.bytes)
        with self._lock:
            self._ciphers[cid.int] = entry
            self._ciphers.move_to_end(cid.int)
            while len(self._ciphers) > self._size:
                self._ciphers.popitem(last=False)
        return entry

    def forget(self, cid: UUID) -> None:
        with self._lock:
            self._ciphers.pop(cid.int, None)

    def prefetch(self, conversation_ids: Iterable[UUID]) -> None:
        """Read the keys of many conversations in one round trip (a page of the log)."""
        by_int = {c.int: c for c in conversation_ids}
        now = time.monotonic()
        cached = self._ciphers
        wanted = [c for i, c in by_int.items() if (e := cached.get(i)) is None or e[1] < now]
        if not wanted:
            return
        found = self.keys.keys_for_reading(wanted)
        for cid in wanted:
            key = found.get(cid)
            self._remember(cid, AESGCM(key) if isinstance(key, bytes) else key)

    def ensure_keys(self, conversation_ids: Iterable[UUID]) -> None:
        """Read or make the keys of a batch's conversations in one round trip."""
        by_int = {c.int: c for c in conversation_ids}
        now = time.monotonic()
        cached = self._ciphers
        wanted = [
            c
            for i, c in by_int.items()
            if (e := cached.get(i)) is None or e[1] < now or not isinstance(e[0], AESGCM)
        ]
        if not wanted:
            return
        found = self.keys.keys_for_writing(wanted)
        for cid in wanted:
            key = found.get(cid)
            if key is not None:
                self._remember(cid, AESGCM(key) if isinstance(key, bytes) else key)

    def _for_reading(self, cid: UUID) -> tuple[_Cipher, float, bytes]:
        entry = self._fresh(cid)
        if entry is None:
            self.prefetch((cid,))
            entry = self._ciphers[cid.int]
        return entry

    def _for_writing(self, cid: UUID) -> tuple[AESGCM | None, bytes]:
        entry = self._fresh(cid)
        if entry is not None and isinstance(entry[0], AESGCM):
            return entry[0], entry[2]
        key = self.keys.key_for_writing(cid)
        cipher = None if key is None else AESGCM(key)
        self._remember(cid, cipher if cipher is not None else SHREDDED)
        return cipher, cid.bytes

    def _nonce(self) -> bytes:
        """A fresh random nonce, cut from a block of the OS's random bytes (one system
        call per 1,024 nonces rather than one each)."""
        with self._lock:
            if self._nonces_at >= len(self._nonces):
                self._nonces, self._nonces_at = os.urandom(NONCE_BYTES * 1024), 0
            at = self._nonces_at
            self._nonces_at = at + NONCE_BYTES
            return self._nonces[at : at + NONCE_BYTES]

    # --- sealing -----------------------------------------------------------------------------

    def seal(
        self, cls: type, cid: UUID, version: int, fields: tuple[str, ...], state: dict[str, Any]
    ) -> None:
        """Take `fields` out of `state` and put them back sealed (or erased, when the
        conversation's key was shredded before this event)."""
        personal = {f: state.pop(f) for f in fields if state.get(f) is not None}
        if not personal:
            return
        entry = self._ciphers.get(cid.int)
        if entry is not None and type(entry[0]) is AESGCM and entry[1] >= time.monotonic():
            cipher, id_bytes = entry[0], entry[2]
        else:
            cipher, id_bytes = self._for_writing(cid)  # type: ignore[assignment]
        if cipher is None:
            state.update({f: placeholder(cls, f, erased=True) for f in personal})
            return
        try:
            payload = orjson.dumps(personal)
        except TypeError:  # e.g. an int beyond 64 bits in tool arguments: json copes
            payload = b"j" + json.dumps(personal).encode()
        nonce = self._nonce()
        sealed = cipher.encrypt(nonce, payload, id_bytes + _VERSION(version))
        state[SEALED] = binascii.b2a_base64(nonce + sealed, newline=False).decode("ascii")

    def open(
        self, cls: type, cid: UUID, version: int, fields: tuple[str, ...], state: dict[str, Any]
    ) -> None:
        """Put a sealed state's fields back, or their placeholders when unreadable."""
        sealed = state.pop(SEALED, None)
        if sealed is None:
            return
        entry = self._ciphers.get(cid.int)
        if entry is None or entry[1] < time.monotonic():
            entry = self._for_reading(cid)
        cipher = entry[0]
        if type(cipher) is AESGCM:
            try:
                raw = binascii.a2b_base64(sealed)
                plain = cipher.decrypt(
                    raw[:NONCE_BYTES], raw[NONCE_BYTES:], entry[2] + _VERSION(version)
                )
                # "j": written by json, not orjson (see `seal`): orjson would read a
                # big int as a float
                state.update(json.loads(plain[1:]) if plain[:1] == b"j" else orjson.loads(plain))
                return
            except (InvalidTag, ValueError, binascii.Error):
                self._warn(cid, "its key does not open it")
        elif cipher is None:
            self._warn(cid, "its key is missing")
        erased = isinstance(cipher, Shredded)
        for f in fields:
            if f not in state:
                state[f] = placeholder(cls, f, erased=erased)

    @staticmethod
    def unopenable(cls: type, fields: tuple[str, ...], state: dict[str, Any]) -> None:
        """A sealed state read by a codec with no keys at all."""
        state.pop(SEALED, None)
        for f in fields:
            if f not in state:
                state[f] = placeholder(cls, f, erased=False)

    def _warn(self, cid: UUID, why: str) -> None:
        if cid not in self._warned:  # once per conversation and process
            self._warned.add(cid)
            log.error(
                "conversation %s: personal data cannot be read (%s); it reads as [unreadable]",
                cid,
                why,
            )


#: The version's part of the associated data (after the id's 16 bytes).
_VERSION = struct.Struct(">Q").pack
