"""Security headers on every response, a body-size cap, and response counting."""

from __future__ import annotations

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


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, csp: str, metrics: Metrics, max_body: int) -> None:
        self.app, self.csp, self.metrics, self.max_body = app, csp, metrics, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _reject_too_large(send, self.max_body)
            self.metrics.responses["4xx"] += 1
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.csp
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers.setdefault("Cache-Control", "no-store")
                self.metrics.responses[f"{message['status'] // 100}xx"] += 1
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _reject_too_large(send: Send, limit: int) -> None:
    body = b'{"error":"too_large","reason":"request body is larger than %d bytes"}' % limit
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
