"""Supervisors acting on a live call (coach, barge in, take over, hand back, end) and the
escalation queue. Every act is recorded before it takes effect, naming the supervisor."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.livekit.agent_control import LiveKitUnavailable
from apps.web import body
from apps.web.auth import requires
from apps.web.dependencies import deps
from apps.web.errors import ApiError

MAX_COACHING = 500
T = TypeVar("T")


async def _live_call(request: Request) -> dict[str, Any]:
    cid = body.uuid_value(request.path_params["id"], "conversation id", status=404)
    row = await deps(request).queries.conversation(cid)
    if row is None:
        raise ApiError(404, "not_found", f"no conversation {cid}")
    if row["status"] == "ended":
        raise ApiError(409, "call_ended", "the call has ended")
    return dict(row)


async def _effect(act: Awaitable[T]) -> T:
    try:
        return await act
    except LiveKitUnavailable as e:
        raise ApiError(
            502, "livekit_unavailable", f"recorded, but the call could not be reached: {e}"
        ) from None


@requires("act_on_calls")
async def coach(request: Request) -> JSONResponse:
    data = await body.read_json(request, max_bytes=4096)
    text = body.string(data, "text", required=True, max_len=MAX_COACHING) or ""
    if not text.strip():
        raise ApiError(422, "invalid_parameter", "'text' must not be empty")
    row = await _live_call(request)
    supervision = deps(request).supervision
    position = await _effect(supervision.coach(row["room_name"], request.state.admin, text))
    return JSONResponse({"ok": True, "position": position})


def _speaking(
    act: Callable[[Any, str, str], Awaitable[Any]],
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        row = await _live_call(request)
        grant = await _effect(act(deps(request).supervision, row["room_name"], request.state.admin))
        return JSONResponse(dataclasses.asdict(grant))

    return endpoint


barge = requires("act_on_calls")(_speaking(lambda s, room, who: s.barge_in(room, who)))
takeover = requires("act_on_calls")(_speaking(lambda s, room, who: s.take_over(room, who)))
accept = requires("act_on_calls")(
    _speaking(lambda s, room, who: s.take_over(room, who, via="escalation"))
)


@requires("act_on_calls")
async def handback(request: Request) -> JSONResponse:
    row = await _live_call(request)
    await _effect(deps(request).supervision.hand_back(row["room_name"], request.state.admin))
    return JSONResponse({"ok": True})


@requires("act_on_calls")
async def end(request: Request) -> JSONResponse:
    row = await _live_call(request)
    await _effect(deps(request).supervision.end(row["room_name"], request.state.admin))
    return JSONResponse({"ok": True})


@requires("act_on_calls")
async def escalations(request: Request) -> JSONResponse:
    now = datetime.now(UTC)
    rows = await deps(request).queries.escalations()
    return JSONResponse(
        {
            "items": [
                {
                    "conversation_id": str(r["conversation_id"]),
                    "room_name": r["room_name"],
                    "requested_at": r["requested_at"].isoformat(),
                    "waiting_s": round((now - r["requested_at"]).total_seconds(), 1),
                    "utterance": r["utterance"],
                }
                for r in rows
            ]
        }
    )


@requires("watch_calls")
async def acts(request: Request) -> JSONResponse:
    """Who did what to this call: the audit read model of supervisor acts."""
    cid = body.uuid_value(request.path_params["id"], "conversation id", status=404)
    if await deps(request).queries.conversation(cid) is None:
        raise ApiError(404, "not_found", f"no conversation {cid}")
    rows = await deps(request).queries.supervisor_acts(uuid.UUID(str(cid)))
    return JSONResponse(
        {
            "items": [
                {**r, "occurred_at": r["occurred_at"].isoformat()}  # position, action, ...
                for r in rows
            ]
        }
    )
