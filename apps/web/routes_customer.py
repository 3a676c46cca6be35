"""The customer's endpoints: a token to call in, and VIN lookups."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.call_center import GroupCommitCallCenter
from adapters.inventory import Inventory
from adapters.livekit.tokens import customer_token
from adapters.vin import InvalidVin, decode_vin, validate_vin
from apps.web import body
from apps.web.errors import ApiError
from domain import commands as c
from domain.ids import ROOM_NAME_PATTERN
from domain.meta import EventMeta

NAME_PATTERN = re.compile(r"[\w .,'()-]{1,64}")


async def get_token(request: Request) -> JSONResponse:
    """A short-lived token for one room (a new `call-<uuid>` unless one is named)."""
    state = request.app.state
    client = request.client.host if request.client else "unknown"
    allowed, wait = state.limiter.allow(client)
    if not allowed:
        raise ApiError(429, "rate_limited", f"too many token requests; retry in {wait:.0f}s")
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
    app: GroupCommitCallCenter = state.app
    await app.record_async(
        c.RequestCall(
            room_name=room,
            meta=EventMeta(source="api", correlation_id=identity),
            participant_identity=identity,
            participant_name=name,
        )
    )
    state.metrics.commands["recorded"] += 1
    return JSONResponse(
        {
            "token": customer_token(state.settings.livekit, room, identity, name),
            "room_name": room,
            "participant_identity": identity,
            "livekit_url": state.settings.livekit.url,
        }
    )


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
