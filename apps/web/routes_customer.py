"""The customer's endpoints: a token to call in, and VIN lookups."""

from __future__ import annotations

import logging
import math
import re
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.inventory import Inventory
from adapters.livekit.tokens import customer_token
from adapters.vin import InvalidVin, decode_vin, validate_vin
from apps.web import body
from apps.web.errors import ApiError
from apps.web.tickets import CallerTicket, InvalidTicket, ReconnectTickets
from domain import commands as c
from domain.application import CallCenter
from domain.errors import CallAlreadyEnded, RoomUnavailable
from domain.ids import ROOM_NAME_PATTERN
from domain.meta import EventMeta

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[\w .,'()-]{1,64}")


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _rate_limit(request: Request) -> None:
    allowed, wait = request.app.state.limiter.allow(_client_address(request))
    if not allowed:
        wait_s = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"too many token requests; retry in {wait_s}s",
            headers={"Retry-After": str(wait_s)},
        )


def _grant(request: Request, caller: CallerTicket) -> JSONResponse:
    state = request.app.state
    tickets: ReconnectTickets = state.tickets
    return JSONResponse(
        {
            "token": customer_token(
                state.settings.livekit, caller.room_name, caller.identity, caller.name
            ),
            "room_name": caller.room_name,
            "participant_identity": caller.identity,
            "livekit_url": state.settings.livekit.url,
            "reconnect_ticket": tickets.issue(caller),
        }
    )


async def get_token(request: Request) -> JSONResponse:
    """A short-lived token for a new call: a new `call-<uuid>` room, or a named room that has
    no call yet. A room that already has one is refused (409) and the attempt recorded."""
    _rate_limit(request)
    data = await body.read_json(request, allow_empty=True)
    room = (
        body.string(
            data,
            "room_name",
            max_len=128,
            pattern=ROOM_NAME_PATTERN,
            hint="letters, digits, '_', '-', '.', ':' (1-128), starting with a letter or digit",
        )
        or f"call-{uuid.uuid4()}"
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
    identity = f"customer-{uuid.uuid4().hex[:12]}"
    state = request.app.state
    app: CallCenter = state.app
    try:
        await app.record_async(
            c.RequestCall(
                room_name=room,
                meta=EventMeta(source="api", correlation_id=identity),
                participant_identity=identity,
                participant_name=name,
            )
        )
    except RoomUnavailable:
        address = _client_address(request)
        log.warning("token refused: room %s already has a call (address=%s)", room, address)
        await app.record_async(
            c.RefuseCallRequest(
                room_name=room,
                meta=EventMeta(source="api", correlation_id=identity),
                participant_name=name,
                client_address=address,
                reason="room_unavailable",
            )
        )
        state.metrics.commands["refused"] += 1
        raise
    state.metrics.commands["recorded"] += 1
    return _grant(request, CallerTicket(room, identity, name))


async def reconnect_token(request: Request) -> JSONResponse:
    """A fresh token back into the caller's own call, for the holder of its reconnect
    ticket; the answer carries a new ticket."""
    _rate_limit(request)
    data = await body.read_json(request)
    raw = body.string(data, "reconnect_ticket", required=True, max_len=1024) or ""
    state = request.app.state
    try:
        caller = state.tickets.verify(raw)
    except InvalidTicket as e:
        log.warning("reconnect refused: %s (address=%s)", e.reason, _client_address(request))
        raise ApiError(401, "invalid_ticket", e.reason) from None
    try:
        await state.app.record_async(
            c.ReconnectCaller(
                room_name=caller.room_name,
                meta=EventMeta(source="api", correlation_id=caller.identity),
                participant_identity=caller.identity,
            )
        )
    except CallAlreadyEnded:
        raise ApiError(409, "call_ended", "this call has ended; start a new call") from None
    return _grant(request, caller)


async def lookup_vehicle(request: Request) -> JSONResponse:
    """Decode a VIN and find it in the dealership's inventory."""
    data = await body.read_json(request)
    said = body.string(data, "vin", required=True, max_len=200)
    assert said is not None
    try:
        vin = validate_vin(said)
    except InvalidVin as e:
        raise ApiError(422, "invalid_vin", e.message, field="vin", vin_error=e.reason) from None
    inventory: Inventory = request.app.state.inventory
    vehicle = inventory.by_vin(vin)
    return JSONResponse(
        {
            "vin": vin,
            "decoded": decode_vin(vin).to_dict(),
            "inventory": vehicle.to_dict() if vehicle else None,
        }
    )
