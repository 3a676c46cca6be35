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
from apps.web.auth import admin_required
from apps.web.errors import ApiError
from apps.web.fanout import RESYNC, Broadcaster
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


def _sse(message: Message) -> ServerSentEvent:
    return ServerSentEvent(
        data=json.dumps(message.data, separators=(",", ":")),
        event=message.event,
        id=None if message is RESYNC else str(message.id),
    )


async def _stream(request: Request, conversation_id: UUID | None) -> AsyncIterator[ServerSentEvent]:
    broadcaster: Broadcaster = request.app.state.broadcaster
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
            message = await sub.queue.get()
            if message is RESYNC:
                yield _sse(RESYNC)
                return
            if message.id <= sent:
                continue
            sent = message.id
            yield _sse(message)
    finally:
        broadcaster.unsubscribe(sub)


def _response(stream: AsyncIterator[Any]) -> Response:
    # No buffering by proxies; heartbeats keep idle connections open.
    return EventSourceResponse(
        stream, ping=PING_S, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@admin_required
async def dashboard_stream(request: Request) -> Response:
    _last_event_id(request)  # refuse a bad header before the stream starts
    return _response(_stream(request, None))


@admin_required
async def conversation_stream(request: Request) -> Response:
    cid = body.uuid_value(request.path_params["id"], "conversation id", status=404)
    if await request.app.state.queries.conversation(cid) is None:
        raise ApiError(404, "not_found", f"no conversation {cid}")
    _last_event_id(request)
    return _response(_stream(request, cid))
