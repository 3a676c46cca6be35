"""Running a uvicorn server in a thread for a test, and knowing when it is up."""

from __future__ import annotations

import threading
import time

import uvicorn


def start_in_thread(server: uvicorn.Server, what: str, timeout_s: float = 30) -> threading.Thread:
    """Start `server` in a daemon thread; return once it accepts connections."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.02)
    return thread
