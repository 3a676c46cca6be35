"""A durable spool of commands waiting to be recorded in the event store.

One append-only JSONL file per writer (`<name>.jsonl`) and how many of its bytes are
already stored (`<name>.offset`). The file is `flock`ed while its writer lives, so a
spool whose process stopped can be told apart and adopted by another writer.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import IO

from domain import commands as cmds
from domain.commands import Command
from domain.meta import EventMeta

log = logging.getLogger(__name__)

# --- codec: commands as JSON lines ---------------------------------------------------------

COMMAND_TYPES: dict[str, type[Command]] = {
    name: value
    for name, value in vars(cmds).items()
    if isinstance(value, type) and issubclass(value, Command) and value is not Command
}


def encode_command(command: Command) -> str:
    """One JSON line; raises TypeError for a field JSON cannot hold."""
    data = {f.name: getattr(command, f.name) for f in fields(command) if f.name != "meta"}
    doc = {"type": type(command).__name__, "meta": command.meta.to_dict(), "data": data}
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)


def decode_command(line: str) -> Command:
    doc = json.loads(line)
    return COMMAND_TYPES[doc["type"]](**doc["data"], meta=EventMeta.from_dict(doc["meta"]))


def _encode_all(commands: Sequence[Command]) -> list[str]:
    lines = []
    for command in commands:
        try:
            lines.append(encode_command(command) + "\n")
        except (TypeError, ValueError) as e:
            log.error("dropping %s that cannot be spooled: %s", type(command).__name__, e)
    return lines


# --- spool: an append-only file and how far of it is stored ---------------------------------


class Spool:
    """`<name>.jsonl` plus `<name>.offset` (bytes already stored), locked while in use."""

    def __init__(self, path: Path, lock: IO[bytes]) -> None:
        self.path, self._lock, self.pending = path, lock, 0
        self._mutex = threading.Lock()  # appends (spill) and commits (writer) run in threads
        self._offset_path = path.with_suffix(".offset")
        self.offset = int(self._offset_path.read_text() or 0) if self._offset_path.exists() else 0

    @classmethod
    def create(cls, directory: Path) -> Spool:
        directory.mkdir(parents=True, exist_ok=True)
        # names sort by creation time, which is the order spools are adopted in
        path = directory / f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        spool = cls.try_lock(path)
        assert spool is not None
        return spool

    @classmethod
    def try_lock(cls, path: Path) -> Spool | None:
        """The spool at `path` if no live process holds it."""
        lock = open(path, "ab")  # noqa: SIM115 - held for the spool's lifetime
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return None
        return cls(path, lock)

    def append(self, commands: Sequence[Command]) -> int:
        """Append and fsync; returns how many were written (unencodable ones are not)."""
        lines = _encode_all(commands)
        with self._mutex, open(self.path, "a", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            os.fsync(f.fileno())  # a spool is what survives a crash; make it real
            self.pending += len(lines)
        return len(lines)

    def count(self) -> int:
        """Records not yet stored (for an adopted spool)."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            self.pending = sum(1 for line in f if line.endswith(b"\n"))
        return self.pending

    def read(self, limit: int) -> tuple[list[Command], int, int]:
        """Up to `limit` commands from the offset: (commands, lines consumed, new offset)."""
        out: list[Command] = []
        consumed, offset = 0, self.offset
        with open(self.path, "rb") as f:
            f.seek(offset)
            while consumed < limit:
                line = f.readline()
                if not line.endswith(b"\n"):  # end, or a line cut short by a crash
                    break
                offset += len(line)
                consumed += 1
                try:
                    out.append(decode_command(line.decode("utf-8")))
                except (ValueError, KeyError, TypeError) as e:
                    log.error("skipping unreadable spool line in %s: %s", self.path.name, e)
        return out, consumed, offset

    def commit(self, consumed: int, offset: int) -> None:
        with self._mutex:
            self.offset, self.pending = offset, self.pending - consumed
            tmp = self._offset_path.with_suffix(".tmp")
            tmp.write_text(str(offset))
            os.replace(tmp, self._offset_path)

    def compact(self) -> None:
        """Empty the file once everything in it is stored (a long call must not grow it)."""
        with self._mutex:
            if self.pending == 0 and self.offset > 0:
                os.truncate(self.path, 0)
                self.offset = 0
                self._offset_path.unlink(missing_ok=True)

    def rewrite(self, head: Sequence[Command], tail: Sequence[Command]) -> None:
        """Replace the file with `head` + its unstored lines + `tail` (kept at shutdown)."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            middle = [line for line in f if line.endswith(b"\n")]
        lines = _encode_all(head) + [m.decode("utf-8") for m in middle] + _encode_all(tail)
        tmp = self.path.with_suffix(".rewrite")
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self.commit(0, 0)
        self.pending = len(lines)

    def remove(self) -> None:
        for p in (self.path, self._offset_path):
            p.unlink(missing_ok=True)
        self.close()

    def close(self) -> None:
        self._lock.close()
