"""A local OpenAI-compatible server, the test double at the agent's LLM boundary.

It stands where Ollama, vLLM or llama.cpp's server would: uvicorn on a free loopback
port, `GET /v1/models` and `POST /v1/chat/completions` with `stream: true` answered as
Server-Sent Events of `chat.completion.chunk` objects, then `data: [DONE]`. Each request
takes the next scripted reply; every request body is kept for the test to read.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.threaded_server import start_in_thread


@dataclass(frozen=True)
class Gate:
    """Streaming stops here until the test opens the gate."""

    opened: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Cut:
    """The connection drops here, mid-body, as when the server process dies."""


@dataclass(frozen=True)
class ErrorChunk:
    """An error event in the stream, as Ollama and vLLM send when generation fails."""

    message: str = "model runner has unexpectedly stopped"


Step = dict[str, Any] | Gate | Cut | ErrorChunk


@dataclass
class Reply:
    steps: list[Step]
    delay_s: float = 0.0
    """how long the server thinks before its response headers"""


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


def text_reply(*tokens: str, gate_after: int | None = None, delay_s: float = 0.0) -> Reply:
    """The assistant says ``tokens``, one chunk each (a Gate after the first ``gate_after``)."""
    steps: list[Step] = [_chunk({"role": "assistant", "content": ""})]
    for i, token in enumerate(tokens):
        if gate_after is not None and i == gate_after:
            steps.append(Gate())
        steps.append(_chunk({"content": token}))
    steps.append(_chunk({}, "stop"))
    steps.append({"choices": [], "usage": _usage(len(tokens))})
    return Reply(steps, delay_s)


def tool_call_reply(name: str, arguments: dict[str, Any], call_id: str = "call_1") -> Reply:
    """A streamed tool call: the name first, then its JSON arguments in fragments."""
    raw = json.dumps(arguments)
    pieces = [raw[i : i + 7] for i in range(0, len(raw), 7)]
    first = {"index": 0, "id": call_id, "type": "function",
             "function": {"name": name, "arguments": ""}}  # fmt: skip
    steps: list[Step] = [_chunk({"role": "assistant", "tool_calls": [first]})]
    steps += [_chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in pieces]
    steps.append(_chunk({}, "tool_calls"))
    return Reply(steps)


def failing_reply(*tokens: str, failure: Cut | ErrorChunk) -> Reply:
    """A few tokens, then the stream fails."""
    steps: list[Step] = [_chunk({"role": "assistant", "content": ""})]
    steps += [_chunk({"content": token}) for token in tokens]
    steps.append(failure)
    return Reply(steps)


def _usage(completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": 100, "completion_tokens": completion_tokens,
            "total_tokens": 100 + completion_tokens}  # fmt: skip


class OpenAICompatibleServer:
    def __init__(self, models: tuple[str, ...] = ("llama3.1:latest",), owned_by: str = "library"):
        self.models, self.owned_by = models, owned_by
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self._replies: queue.Queue[Reply] = queue.Queue()
        self.app = Starlette(
            routes=[
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
            ]
        )
        self.url = ""

    def script(self, *replies: Reply) -> None:
        for reply in replies:
            self._replies.put(reply)

    @property
    def pending(self) -> int:
        return self._replies.qsize()

    async def _models(self, request: Request) -> Response:
        data = [{"id": m, "object": "model", "owned_by": self.owned_by} for m in self.models]
        return JSONResponse({"object": "list", "data": data})

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("authorization", ""))
        try:
            reply = self._replies.get_nowait()
        except queue.Empty:
            error = {"message": "the test scripted no more replies", "type": "server_error"}
            return JSONResponse({"error": error}, status_code=500)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return StreamingResponse(
            self._stream(reply, str(body.get("model"))), media_type="text/event-stream"
        )

    async def _stream(self, reply: Reply, model: str) -> AsyncIterator[str]:
        for step in reply.steps:
            if isinstance(step, Gate):
                await asyncio.to_thread(step.opened.wait, 30)
            elif isinstance(step, Cut):
                raise ConnectionAbortedError("the test double drops the connection")
            elif isinstance(step, ErrorChunk):
                yield _sse({"error": {"message": step.message, "type": "server_error"}})
                return
            else:
                chunk = {"id": "chatcmpl-double", "object": "chat.completion.chunk",
                         "created": int(time.time()), "model": model, **step}  # fmt: skip
                yield _sse(chunk)
        yield "data: [DONE]\n\n"

    def run(self) -> Iterator[OpenAICompatibleServer]:
        """Serve on a free loopback port for the duration of the generator."""
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="critical")
        server = uvicorn.Server(config)
        thread = start_in_thread(server, "the OpenAI-compatible test server")
        port = server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(15)


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data)}\n\n"
