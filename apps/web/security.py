"""Security headers on every response, a body-size cap, a body deadline, and response
counting."""

from __future__ import annotations

import asyncio

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.web.metrics import Metrics


def content_security_policy(livekit_http: str, livekit_ws: str, media_origin: str | None) -> str:
    media = f"'self' blob: {media_origin}" if media_origin else "'self' blob:"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {livekit_ws} {livekit_http} ws: wss:; media-src {media}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )


class BodyTimeout(Exception):
    """The client did not send its whole request body in time."""


class SecurityHeaders:
    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str,
        metrics: Metrics,
        max_body: int,
        body_timeout_s: float = 10.0,
    ) -> None:
        self.app, self.csp, self.metrics, self.max_body = app, csp, metrics, max_body
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _reject_too_large(send, self.max_body)
            self.metrics.responses["4xx"] += 1
            return

        started = False
        receive_in_time = _with_body_deadline(receive, self.body_timeout_s)

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.csp
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers.setdefault("Cache-Control", "no-store")
                self.metrics.responses[f"{message['status'] // 100}xx"] += 1
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_with_headers)
        except BodyTimeout:
            # A slow-drip body would hold the request open for ever: answer and let go.
            if not started:
                await _reject(send, 408, b"timeout", b"the request body did not arrive in time")
                self.metrics.responses["4xx"] += 1


def _with_body_deadline(receive: Receive, timeout_s: float) -> Receive:
    """`receive` that raises BodyTimeout if the body is not complete `timeout_s` after the
    request began; after the body (streams waiting for a disconnect) it waits as long as it
    takes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    body_done = False

    async def receive_in_time() -> Message:
        nonlocal body_done
        if body_done:
            return await receive()
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise BodyTimeout
        try:
            message = await asyncio.wait_for(receive(), remaining)
        except TimeoutError:
            raise BodyTimeout from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            body_done = True
        return message

    return receive_in_time


async def _reject_too_large(send: Send, limit: int) -> None:
    await _reject(send, 413, b"too_large", b"request body is larger than %d bytes" % limit)


async def _reject(send: Send, status: int, code: bytes, reason: bytes) -> None:
    body = b'{"error":"%s","reason":"%s"}' % (code, reason)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
