"""Server-Sent Event streams: the dashboard feed and one call's feed, resumable by
`Last-Event-ID` (each message's id is its position in the event log)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from apps.web import body
from apps.web.auth import requires
from apps.web.dependencies import deps
from apps.web.errors import ApiError
from apps.web.fanout import RESYNC
from apps.web.messages import Message

PING_S = 15


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ApiError(
            422, "invalid_parameter", "Last-Event-ID must be a log position (a whole number)"
        )
    return int(raw)


#: At most this many queued messages go to a client in one write.
MAX_MESSAGES_PER_WRITE = 500


def _sse(message: Message) -> bytes:
    """The message on the wire, encoded once however many clients it goes to."""
    if message.wire is None:
        message.wire = ServerSentEvent(
            data=json.dumps(message.data, separators=(",", ":")),
            event=message.event,
            id=None if message is RESYNC else str(message.id),
        ).encode()
    return message.wire


async def _stream(request: Request, conversation_id: UUID | None) -> AsyncIterator[bytes]:
    broadcaster = deps(request).broadcaster
    last = _last_event_id(request)
    sub = broadcaster.subscribe(conversation_id)
    try:
        sent = sub.start_position if last is None else last
        if last is not None and last < sub.start_position:
            missed = await broadcaster.backlog(conversation_id, last, sub.start_position)
            if missed is None:
                yield _sse(RESYNC)
                return
            for message in missed:
                yield _sse(message)
            sent = sub.start_position
        while True:
            # Everything queued goes out in one write: under load a client is sent a
            # burst per wake-up instead of one write (and one task switch) per message.
            batch = [await sub.queue.get()]
            while len(batch) < MAX_MESSAGES_PER_WRITE and not sub.queue.empty():
                batch.append(sub.queue.get_nowait())
            chunk = []
            resync = False
            for message in batch:
                if message is RESYNC:
                    resync = True
                    break
                if message.id <= sent:
                    continue
                sent = message.id
                chunk.append(_sse(message))
            if chunk:
                yield b"".join(chunk)
            if resync:
                yield _sse(RESYNC)
                return
    finally:
        broadcaster.unsubscribe(sub)


def _response(stream: AsyncIterator[Any]) -> Response:
    # No buffering by proxies; heartbeats keep idle connections open.
    return EventSourceResponse(
        stream, ping=PING_S, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@requires("watch_calls")
async def dashboard_stream(request: Request) -> Response:
    _last_event_id(request)  # refuse a bad header before the stream starts
    return _response(_stream(request, None))


@requires("watch_calls")
async def conversation_stream(request: Request) -> Response:
    cid = body.uuid_value(request.path_params["id"], "conversation id", status=404)
    if await deps(request).queries.conversation(cid) is None:
        raise ApiError(404, "not_found", f"no conversation {cid}")
    _last_event_id(request)
    return _response(_stream(request, cid))
