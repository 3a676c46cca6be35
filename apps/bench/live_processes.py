"""The live bench's two child processes (spawned, so these are top-level functions): the
real web app (`create_app`) under uvicorn with its projection worker and SSE broadcaster,
and the SSE clients (asyncio, plain sockets), each following one call's stream and
recording when each message id arrived."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

from adapters.call_center import GroupCommitCallCenter
from apps.gc_tuning import tune_gc

CLIENTS = 100
PASSWORD = "bench-password"


# --- the web app, in its own process ---------------------------------------------------------


def _project(env: dict[str, str], conninfo: str, ready: Any, stop: Any) -> None:
    """`callcenter projections run`: every read model, in a process of its own."""
    from projections.registry import READ_MODELS
    from projections.worker import EventSource, ProjectionWorker

    tune_gc()  # as `callcenter projections run` does
    app = GroupCommitCallCenter(env=env)
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    worker = ProjectionWorker(conninfo, source, list(READ_MODELS.values()))
    worker.start()
    try:
        ready.put("projections")
        stop.wait()
    finally:
        worker.stop()
        app.close()


def _serve(
    env: dict[str, str],
    conninfo: str,
    port: int,
    ready: Any,
    stop: Any,
    with_projections: bool = True,
) -> None:
    import uvicorn

    from adapters.livekit.tokens import LiveKitSettings
    from adapters.passwords import pbkdf2_hash
    from apps.web.app import WebInputs, create_app
    from apps.web.settings import WebSettings
    from projections.registry import READ_MODELS
    from projections.worker import EventSource, ProjectionWorker

    tune_gc()  # as `callcenter serve` does
    app = GroupCommitCallCenter(env=env)
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    worker = (
        ProjectionWorker(conninfo, source, list(READ_MODELS.values())) if with_projections else None
    )
    settings = WebSettings(
        admin_user="admin",
        admin_password_hash=pbkdf2_hash(PASSWORD, iterations=1000),
        session_secret="bench-session-secret",
        livekit=LiveKitSettings(
            url="ws://127.0.0.1:7880", api_key="bench", api_secret="bench-secret-" * 3
        ),
        s3=None,
        token_requests_per_minute=1_000_000,
    )
    web = create_app(WebInputs(app, conninfo, settings, worker))
    server = uvicorn.Server(
        uvicorn.Config(web, host="127.0.0.1", port=port, log_level="error", access_log=False)
    )

    def watch() -> None:
        while not server.started:
            time.sleep(0.05)
        ready.put(port)
        stop.wait()
        server.should_exit = True

    threading.Thread(target=watch, daemon=True).start()
    try:
        server.run()
    finally:
        app.close()


def start_deployed(
    mp: Any, env: dict[str, str], conninfo: str, port: int, stop: Any, started: list[Any]
) -> str:
    """As deployed for load: the read models projected by `callcenter projections run`
    and the web app serving (`serve --no-projections`), each in a process of its own so
    neither waits for the other's share of the interpreter. Each process goes in
    `started` as it starts (the caller stops them); returns an admin bearer token."""
    import httpx

    ready = mp.Queue()
    for target, args in (
        (_project, (env, conninfo, ready, stop)),
        (_serve, (env, conninfo, port, ready, stop, False)),
    ):
        process = mp.Process(target=target, args=args, daemon=True)
        process.start()
        started.append(process)
        ready.get(timeout=120)
    return str(
        httpx.post(
            f"http://127.0.0.1:{port}/api/admin/login",
            json={"username": "admin", "password": PASSWORD},
            timeout=30,
        ).json()["token"]
    )


# --- the SSE clients, in their own process ---------------------------------------------------


async def _follow(
    port: int,
    token: str,
    path: str,
    index: int,
    out: list[tuple[int, int, float]],
    connected: asyncio.Event,
    counter: list[int],
    stop: asyncio.Event,
    ended: list[int],
) -> None:
    """Follow one stream; if the server ends it (a resync) before `stop`, `index` goes
    in `ended`."""
    try:
        await _read_stream(port, token, path, index, out, connected, counter, stop)
    finally:
        if not stop.is_set():
            ended.append(index)


async def _read_stream(
    port: int,
    token: str,
    path: str,
    index: int,
    out: list[tuple[int, int, float]],
    connected: asyncio.Event,
    counter: list[int],
    stop: asyncio.Event,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"{path}: {status!r}")
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        if line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
            chunked = True
    counter[0] += 1
    if counter[0] >= counter[1]:  # every client is connected
        connected.set()
    buffer = b""
    now = time.perf_counter
    try:
        while not stop.is_set():
            if chunked:
                size_line = await reader.readline()
                if not size_line:
                    return
                size = int(size_line.strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    return
                data = await reader.readexactly(size + 2)
                data = data[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return
            t = now()
            buffer += data
            while True:
                cut = buffer.find(b"\r\n\r\n")
                sep = 4
                if cut < 0:
                    cut = buffer.find(b"\n\n")
                    sep = 2
                if cut < 0:
                    break
                block, buffer = buffer[:cut], buffer[cut + sep :]
                for line in block.splitlines():
                    if line.startswith(b"id:"):
                        out.append((index, int(line[3:].strip()), t))
                        break
    finally:
        writer.close()


def _clients(port: int, token: str, paths: list[str], ready: Any, go: Any, out: Any) -> None:
    """Puts (received (client, message id, time), clients whose stream ended early)."""

    async def main() -> tuple[list[tuple[int, int, float]], list[int]]:
        received: list[tuple[int, int, float]] = []
        ended: list[int] = []
        connected, stop = asyncio.Event(), asyncio.Event()
        counter = [0, len(paths)]
        tasks = [
            asyncio.create_task(
                _follow(port, token, p, i, received, connected, counter, stop, ended)
            )
            for i, p in enumerate(paths)
        ]
        await asyncio.wait_for(connected.wait(), 60)
        ready.put(len(paths))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, go.get)  # the parent says when to stop
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return received, ended

    gc.disable()  # the clients only record timestamps: no pauses while they read
    out.put(asyncio.run(main()))
