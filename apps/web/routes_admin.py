"""Staff endpoints: login, conversations and their transcripts, timelines, recordings
(a short-lived URL, or the audio streamed with range requests), and listen-in tokens
(audited); each guarded by the right it needs (domain/accounts.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.storage import StorageUnavailable
from apps.web import body
from apps.web.auth import requires, signed_in
from apps.web.byte_ranges import stream_object
from apps.web.dependencies import deps
from apps.web.errors import ApiError
from projections.replay import replay

log = logging.getLogger(__name__)


async def login(request: Request) -> JSONResponse:
    """Sign in, throttled per account and per client address (429 with Retry-After)."""
    data = await body.read_json(request, max_bytes=4096)
    username = body.string(data, "username", required=True, max_len=128) or ""
    password = body.string(data, "password", required=True, max_len=256) or ""
    d = deps(request)
    auth, throttle = d.auth, d.login_throttle
    address = request.client.host if request.client else "unknown"
    wait_s = await throttle.retry_after_s(username, address)
    if wait_s:
        d.metrics.logins["throttled"] += 1
        log.warning(
            "admin login throttled: user=%r address=%s retry_after=%ds",
            username[:64],
            address,
            wait_s,
        )
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
            retry_after_s=wait_s,
        )
    # the KDF takes a good fraction of a second: off the event loop
    staff = await asyncio.to_thread(auth.check, username, password)
    if staff is None:
        failed = await throttle.failed(username, address)
        d.metrics.logins["failed"] += 1
        log.warning(
            "admin login failed: user=%r address=%s failures=%d locked_for=%.0fs",
            username[:64],
            address,
            failed.failures,
            failed.locked_for_s,
        )
        raise ApiError(401, "invalid_credentials", "wrong username or password")
    await throttle.succeeded(username, address)
    d.metrics.logins["succeeded"] += 1
    token = auth.issue(staff)
    response = JSONResponse({"token": token, "username": staff.name, "role": staff.role})
    auth.set_cookie(response, token)
    return response


async def logout(request: Request) -> JSONResponse:
    response = JSONResponse({"ok": True})
    deps(request).auth.clear_cookie(response)
    return response


@signed_in
async def session(request: Request) -> JSONResponse:
    return JSONResponse({"username": request.state.admin, "role": request.state.role})


@signed_in
async def me(request: Request) -> JSONResponse:
    """Who is signed in and what their role may do, for the dashboard to show and hide."""
    staff = request.state.staff
    return JSONResponse({"name": staff.name, "role": staff.role, "can": staff.rights})


async def _conversation_or_404(request: Request, raw: Any) -> dict[str, Any]:
    cid = body.uuid_value(raw, "conversation id", status=404)
    row = await deps(request).queries.conversation(cid)
    if row is None:
        raise ApiError(404, "not_found", f"no conversation {cid}")
    return dict(row)


@requires("act_on_calls")
async def monitor_token_endpoint(request: Request) -> JSONResponse:
    """A hidden, subscribe-only token for one call; the listen-in is recorded for audit."""
    data = await body.read_json(request)
    raw = body.string(data, "conversation_id", required=True, max_len=64)
    body.uuid_value(raw, "conversation_id")
    row = await _conversation_or_404(request, raw)
    if row["status"] == "ended":
        raise ApiError(409, "call_ended", "the call has ended; there is nothing to listen to")
    grant = await deps(request).calls.start_listen_in(row["room_name"], request.state.admin)
    return JSONResponse(dataclasses.asdict(grant))


@requires("act_on_calls")
async def listen_ended(request: Request) -> JSONResponse:
    data = await body.read_json(request)
    raw = body.string(data, "conversation_id", required=True, max_len=64)
    listen_id = body.string(data, "listen_id", required=True, max_len=64) or ""
    body.uuid_value(raw, "conversation_id")
    row = await _conversation_or_404(request, raw)
    await deps(request).calls.end_listen_in(row["room_name"], listen_id)
    return JSONResponse({"ok": True})


@requires("watch_calls")
async def get_conversation(request: Request) -> JSONResponse:
    return JSONResponse(await _conversation_or_404(request, request.path_params["id"]))


@requires("watch_calls")
async def transcript(request: Request) -> JSONResponse:
    row = await _conversation_or_404(request, request.path_params["id"])
    lines, interims = await deps(request).queries.transcript(uuid.UUID(row["conversation_id"]))
    return JSONResponse(
        {
            "conversation_id": row["conversation_id"],
            "lines": lines,
            "interims": interims,
            "position": row["position"],
        }
    )


@requires("replay_calls")
async def timeline(request: Request) -> JSONResponse:
    row = await _conversation_or_404(request, request.path_params["id"])
    at = body.time_param(request, "at")
    result = await asyncio.to_thread(replay, deps(request).app, row["conversation_id"], at)
    return JSONResponse(result.to_dict())


@requires("replay_calls")
async def insight(request: Request) -> JSONResponse:
    """The post-call insight: summary, customer sentiment and the QA scorecard."""
    row = await _conversation_or_404(request, request.path_params["id"])
    found = await deps(request).queries.insight(uuid.UUID(row["conversation_id"]))
    if found is None:  # the insight projection has not reached this call yet
        found = {"summary": None, "sentiment": None, "qa": []}
    return JSONResponse(found)


async def _completed_recording(request: Request) -> dict[str, Any]:
    """The call's completed recording (the one both recording routes serve): 404 for an
    unknown call or one without, 503 when object storage is not configured."""
    row = await _conversation_or_404(request, request.path_params["id"])
    if deps(request).recordings is None:
        raise ApiError(503, "storage_unavailable", "object storage is not configured")
    rec = await deps(request).queries.completed_recording(uuid.UUID(row["conversation_id"]))
    if rec is None:
        raise ApiError(404, "not_found", "this call has no completed recording")
    return dict(rec)


@requires("replay_calls")
async def recording(request: Request) -> JSONResponse:
    rec = await _completed_recording(request)
    store = deps(request).recordings
    assert store is not None  # checked by _completed_recording
    ttl_s = 300
    url = await asyncio.to_thread(
        store.presigned_url, rec["bucket"], rec["object_key"], timedelta(seconds=ttl_s)
    )
    return JSONResponse(
        {
            "url": url,
            "expires_in_s": ttl_s,
            "content_type": rec["content_type"],
            "size_bytes": rec["size_bytes"],
            "duration_s": rec["duration_s"],
        }
    )


@requires("replay_calls")
async def recording_audio(request: Request) -> Response:
    """The recording itself, streamed from object storage through this authenticated
    route, with range requests so that the player can seek."""
    rec = await _completed_recording(request)
    store = deps(request).recordings
    assert store is not None
    try:
        stored = await asyncio.to_thread(store.stat, rec["bucket"], rec["object_key"])
    except StorageUnavailable as e:
        raise ApiError(503, "storage_unavailable", f"the recording could not be read: {e}") from e
    if stored is None:
        raise ApiError(404, "not_found", "the recording is no longer stored")
    name = rec["object_key"].rsplit("/", 1)[-1]
    return await stream_object(
        request,
        store,
        rec["bucket"],
        rec["object_key"],
        stored,
        content_type=rec["content_type"] or stored.content_type or "application/octet-stream",
        filename=name,
    )
