"""Child processes of the local stack: started with a log file, checked for health,
stopped politely (SIGTERM) and then firmly (SIGKILL)."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

BIN_DIR = Path(os.environ.get("CALLCENTER_BIN_DIR", Path.home() / ".cache" / "callcenter" / "bin"))


class StackError(RuntimeError):
    """A part of the stack is missing or did not become healthy."""


def find_binary(name: str) -> Path:
    candidate = BIN_DIR / name
    if candidate.exists():
        return candidate
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")  # nginx
    if found:
        return Path(found)
    raise StackError(
        f"{name} not found in {BIN_DIR} or on PATH: "
        "run scripts/setup.sh (or scripts/install-binaries.sh)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_has_listener(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on the port. A bind test would also fail for
    a minute after a stop, while the last connections sit in TIME_WAIT; the servers we
    start set SO_REUSEADDR and bind fine then."""
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if `callcenter up` dies without cleaning up."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_dir: Path,
        healthy: Callable[[], bool],
        cwd: Path | None = None,
    ) -> None:
        self.name, self.argv, self.env, self.healthy, self.cwd = (
            name,
            list(argv),
            dict(env),
            healthy,
            cwd,
        )
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.process.poll() is not None:
                raise StackError(
                    f"{self.name} exited with code {self.process.returncode}; "
                    f"see {self.log_path}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise StackError(
                    f"{self.name} was not healthy after {timeout:.0f}s; "
                    f"see {self.log_path}:\n{self.tail()}"
                )
            time.sleep(0.2)
        log.info("%s is up (pid %d)", self.name, self.process.pid)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        except ProcessLookupError:
            pass

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(
    processes: list[ManagedProcess],
    name: str,
    argv: list[str],
    env: Mapping[str, str],
    logs: Path,
    healthy: object,
    *,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> None:
    """Start a child, kept in `processes` (so that a stack stops it even if it fails to
    become healthy), and wait until `healthy()` says it is up."""
    process = ManagedProcess(name, argv, env=env, log_dir=logs, healthy=healthy, cwd=cwd)  # type: ignore[arg-type]
    processes.append(process)
    process.start(timeout)
