"""The stored events' codec: the library's mapper with fewer steps per event (orjson and
the C JSON encoder), decoding straight from columns, and the sealing of personal-data
fields with their conversation's key (`adapters/sealing.py`, the codec's only I/O: a key
is read or made once per conversation and cached)."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from json.encoder import c_encode_basestring, c_encode_basestring_ascii, c_make_encoder  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from adapters.data_keys import open_key_store
from adapters.sealing import SEALED, Sealer, forgets_key
from domain.ports import ColumnDecoder
from domain.privacy import personal_fields


class FastMapper(Mapper[UUID]):
    """The library's mapper with fewer steps per event, for the JSON transcoder without
    compression or encryption: the same stored bytes, the same decoded events.

    Topics and class versions are looked up once per class, the event timestamp is
    transcoded before the (C) JSON encoder runs instead of through its fallback hook, and
    stored and domain events are built without their dataclass constructors. Events whose
    fields are all plain (text, numbers, booleans, and the flat `meta` dict) are encoded
    with orjson: it writes some floats and non-ASCII text differently, never a different
    value; anything it might encode otherwise than the library (a float that is not
    finite, a nested value) goes through the library's encoder.
    """

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        super().__init__(transcoder, compressor, cipher)
        self._fast = isinstance(transcoder, JSONTranscoder) and not compressor and not cipher
        if sealer is not None and not self._fast:
            raise ValueError("sealing personal data needs the JSON transcoder alone")
        self.sealer = sealer
        self._out: dict[type, tuple[str, int, tuple[str, ...] | None, tuple[str, ...]]] = {}
        self._in: dict[str, tuple[type, int, Any, tuple[str, ...], bool]] = {}
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
            info = self._out[cls] = (
                get_topic(cls),
                getattr(cls, "class_version", 1),
                plain_float_fields(cls),
                personal_fields(cls) if self.sealer is not None else (),
            )
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if info[3]:
            assert self.sealer is not None
            self.sealer.seal(cls, originator_id, originator_version, info[3], state)
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
                "state": self._dump_plain(state, info[2])
                if info[2] is not None
                else self._dump(state),
            },
        )
        return stored

    def _dump_plain(self, state: dict[str, Any], floats: tuple[str, ...]) -> bytes:
        for name in floats:
            x = state.get(name)
            if x is not None and (type(x) is not float or not math.isfinite(x)):
                return self._dump(state)
        meta = state.get("meta")
        if meta is not None:
            if type(meta) is not dict:
                return self._dump(state)
            for v in meta.values():
                if v is not None and type(v) is not str:
                    return self._dump(state)
        try:
            return orjson.dumps(state)
        except TypeError:  # e.g. an int beyond 64 bits: the library's encoder copes
            return self._dump(state)

    def portable(self) -> tuple[type[FastMapper], list[Any], Any] | None:
        """How to build this mapper in another process (`from_portable`), or None."""
        if not self._fast:
            return None
        transcoder = self.transcoder
        assert isinstance(transcoder, JSONTranscoder)
        if type(transcoder) is not JSONTranscoder:
            return None
        keys = None
        if self.sealer is not None:
            keys = self.sealer.keys.portable()
            if keys is None:  # keys only this process holds
                return None
        return type(self), list(transcoder.types.values()), keys

    @staticmethod
    def from_portable(spec: tuple[type[FastMapper], list[Any], Any]) -> FastMapper:
        cls, transcodings, keys = spec
        transcoder = JSONTranscoder()
        for transcoding in transcodings:
            transcoder.register(transcoding)
        sealer = None if keys is None else Sealer(open_key_store(keys))
        return cls(transcoder, sealer=sealer)

    def prefetch_keys(self, rows: Any) -> None:
        """Read the keys of a page of log rows' conversations in one round trip, first
        forgetting those of conversations whose erasure is in the page (another process
        may have shredded a key this one still holds)."""
        if self.sealer is None:
            return
        for row in rows:
            if row[3] in _ERASURE_TOPICS:
                self.sealer.forget(row[1])
        self.sealer.prefetch([row[1] for row in rows])

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

    def _load_plain(self, data: bytes) -> dict[str, Any]:
        """The state of an event whose fields are all plain, parsed by orjson (three times
        faster than the library's scanner with its hook on every object): its only
        transcoded value is the timestamp. Anything orjson might read otherwise (a NaN,
        an int beyond 64 bits, a nested value the library's encoder wrote) goes through
        `_load`."""
        try:
            state = orjson.loads(data)
        except orjson.JSONDecodeError:
            return self._load(data)
        if type(state) is not dict or self._datetime is None:
            return self._load(data)
        moment = state.get("timestamp")
        if type(moment) is dict:
            if moment.get("_type_") != self._datetime.name or len(moment) != 2:
                return self._load(data)
            state["timestamp"] = self._datetime.decode(moment["_data_"])
        meta = state.get("meta")
        for v in state.values():
            kind = type(v)
            if kind is float:
                # orjson reads an integer beyond 64 bits as a float; json keeps the int
                if not -_INT64 < v < _INT64:
                    return self._load(data)
            elif (kind is dict and v is not meta) or kind is list:
                return self._load(data)
        if meta is not None:
            for v in meta.values():
                if v is not None and type(v) is not str:
                    return self._load(data)
        return state

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
            plain = plain_float_fields(cls) is not None
            info = self._in[topic] = (
                cls,
                getattr(cls, "class_version", 1),
                plain,
                personal_fields(cls),
                forgets_key(cls),
            )
        cls, class_version, plain, personal, forgets = info
        try:
            state = self._load_plain(state_bytes) if plain else self._load(state_bytes)
        except Exception:  # raises the library's error
            return super().to_domain_event(
                StoredEvent(originator_id, originator_version, topic, state_bytes)
            )
        if type(originator_id) is not UUID:
            convert = find_id_convertor(cls, type(originator_id))  # type: ignore[arg-type]
            originator_id = convert(originator_id)
        if personal and SEALED in state:
            if self.sealer is None:
                Sealer.unopenable(cls, personal, state)
            else:
                self.sealer.open(cls, originator_id, originator_version, personal, state)
        elif forgets and self.sealer is not None:
            self.sealer.forget(originator_id)  # another process may be erasing it
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event: Any = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event  # type: ignore[no-any-return]


_ERASURE_TOPICS = frozenset(
    {"domain.erasure:ErasurePart.ErasureRequested", "domain.erasure:ErasurePart.ErasureCompleted"}
)
_PLAIN = {"str", "int", "bool", "None"}
_INT64 = float(2**63)
_OWN = {"originator_id", "originator_version", "timestamp"}  # popped or transcoded first


def plain_float_fields(cls: type) -> tuple[str, ...] | None:
    """For an event class whose fields are all plain (text, numbers, booleans, each
    maybe None, and `meta`), the names of its float fields; None for any other class."""
    if not dataclasses.is_dataclass(cls):
        return None
    floats = []
    for f in dataclasses.fields(cls):
        if f.name in _OWN:
            continue
        kinds = {k.strip() for k in str(getattr(f.type, "__name__", f.type)).split("|")}
        if f.name == "meta" and kinds == {"dict[str, Any]"}:
            continue
        if "float" in kinds:
            floats.append(f.name)
            kinds.discard("float")
        if not kinds <= _PLAIN:
            return None
    return tuple(floats)


def column_decoder(mapper: Mapper[UUID]) -> ColumnDecoder:
    """How to decode stored columns with this mapper: `FastMapper.decode` directly (no
    StoredEvent in between), or any other mapper through a StoredEvent."""
    if isinstance(mapper, FastMapper):
        return mapper.decode  # its owner's `prefetch_keys` is used by `decoded`
    to_event = mapper.to_domain_event

    def decode(
        originator_id: Any, originator_version: int, topic: str, state: bytes
    ) -> DomainEventProtocol[UUID]:
        return to_event(StoredEvent(originator_id, originator_version, topic, state))

    return decode
