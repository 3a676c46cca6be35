"""Personal data: revealing one call's to one person for a while (auditors, admins), and
erasing a call's for good (crypto-shredding; admins only)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from apps.usecases.erasure import ConversationNotFound, ErasureRefused
from apps.usecases.reveals import NotRevealed, RevealRefused
from apps.web import body
from apps.web.auth import requires
from apps.web.dependencies import deps
from apps.web.errors import ApiError


async def _reason(request: Request, what: str) -> str:
    data = await body.read_json(request, max_bytes=4096)
    reason = body.string(data, "reason", required=True, max_len=500) or ""
    if not reason.strip():
        raise ApiError(422, "invalid_reason", f"reason must say why the call is {what}")
    return reason.strip()


@requires("reveal_pii")
async def reveal(request: Request) -> JSONResponse:
    """Show the signed-in person this call's personal data for a while, on the record:
    `{"until"}`; then `GET /api/conversations/{id}/revealed` reads the call as said."""
    cid = body.uuid_value(request.path_params["id"], "conversation id", status=404)
    reason = await _reason(request, "revealed")
    d = deps(request)
    try:
        until = await asyncio.to_thread(d.reveals.reveal, cid, request.state.admin, reason)
    except ConversationNotFound:
        raise ApiError(404, "not_found", f"no conversation {cid}") from None
    except RevealRefused as e:
        raise ApiError(409, "not_revealable", str(e)) from None
    return JSONResponse({"until": until.isoformat()})


@requires("reveal_pii")
async def revealed(request: Request) -> JSONResponse:
    """The call's timeline as said, to the person it was revealed to, until it ends."""
    cid = body.uuid_value(request.path_params["id"], "conversation id", status=404)
    at = body.time_param(request, "at")
    d = deps(request)
    try:
        timeline, until = await asyncio.to_thread(d.reveals.timeline, cid, request.state.admin, at)
    except ConversationNotFound:
        raise ApiError(404, "not_found", f"no conversation {cid}") from None
    except NotRevealed:
        raise ApiError(
            403, "not_revealed", "reveal this call's personal data first (with a reason)"
        ) from None
    return JSONResponse({**timeline.to_dict(), "revealed_until": until.isoformat()})


@requires("erase_calls")
async def erase(request: Request) -> JSONResponse:
    """Erase a call's personal data and recordings for good: 200 `{"status": "erased"}`,
    or 202 `{"status": "erasing"}` while it runs (asking again is safe)."""
    cid = body.uuid_value(request.path_params["id"], "conversation id", status=404)
    reason = await _reason(request, "erased")
    try:
        status = await deps(request).erasures.erase(cid, request.state.admin, reason)
    except ConversationNotFound:
        raise ApiError(404, "not_found", f"no conversation {cid}") from None
    except ErasureRefused as e:
        raise ApiError(409, "call_in_progress", str(e)) from None
    return JSONResponse({"status": status}, status_code=200 if status == "erased" else 202)
