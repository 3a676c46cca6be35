"""The customer's endpoints: a token to call in, the way back into a dropped call, and VIN
lookups. Each parses, calls a use case (`apps/usecases/`), and answers."""

from __future__ import annotations

import dataclasses
import logging
import math
import re

from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.tickets import InvalidTicket
from apps.web import body
from apps.web.dependencies import deps
from apps.web.errors import ApiError
from domain.errors import CallAlreadyEnded, RoomUnavailable
from domain.ids import ROOM_NAME_PATTERN

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[\w .,'()-]{1,64}")


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _rate_limit(request: Request) -> None:
    allowed, wait = deps(request).token_limiter.allow(_client_address(request))
    if not allowed:
        wait_s = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"too many token requests; retry in {wait_s}s",
            headers={"Retry-After": str(wait_s)},
        )


async def get_token(request: Request) -> JSONResponse:
    """A short-lived token for a new call: a new `call-<uuid>` room, or a named room that has
    no call yet. A room that already has one is refused (409) and the attempt recorded."""
    _rate_limit(request)
    data = await body.read_json(request, allow_empty=True)
    room = body.string(
        data,
        "room_name",
        max_len=128,
        pattern=ROOM_NAME_PATTERN,
        hint="letters, digits, '_', '-', '.', ':' (1-128), starting with a letter or digit",
    )
    name = (
        body.string(
            data,
            "participant_name",
            max_len=64,
            pattern=NAME_PATTERN,
            hint="letters, digits, spaces and . , ' ( ) -",
        )
        or "Customer"
    )
    d = deps(request)
    address = _client_address(request)
    try:
        grant = await d.calls.request_call(room, name, address)
    except RoomUnavailable:
        log.warning("token refused: room %s already has a call (address=%s)", room, address)
        d.metrics.commands["refused"] += 1
        raise
    d.metrics.commands["recorded"] += 1
    return JSONResponse(dataclasses.asdict(grant))


async def reconnect_token(request: Request) -> JSONResponse:
    """A fresh token back into the caller's own call, for the holder of its reconnect
    ticket; the answer carries a new ticket."""
    _rate_limit(request)
    data = await body.read_json(request)
    ticket = body.string(data, "reconnect_ticket", required=True, max_len=1024) or ""
    try:
        grant = await deps(request).calls.reconnect(ticket)
    except InvalidTicket as e:
        log.warning("reconnect refused: %s (address=%s)", e.reason, _client_address(request))
        raise ApiError(401, "invalid_ticket", e.reason) from None
    except CallAlreadyEnded:
        raise ApiError(409, "call_ended", "this call has ended; start a new call") from None
    return JSONResponse(dataclasses.asdict(grant))


async def lookup_vehicle(request: Request) -> JSONResponse:
    """Check and decode a VIN and find it on the lot: the agent's lookup, over HTTP."""
    data = await body.read_json(request)
    said = body.string(data, "vin", required=True, max_len=200) or ""
    lookup = deps(request).dealership.lookup_vehicle(said)
    if not lookup.check_digit_valid:
        raise ApiError(
            422,
            "invalid_vin",
            lookup.result["message"],
            field="vin",
            vin_error=lookup.result["error"],
        )
    return JSONResponse(lookup.result)
