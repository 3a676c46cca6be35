"""`POST /webhook/livekit`: signed LiveKit webhooks become domain commands, once."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.livekit.webhooks import (
    WebhookMalformed,
    WebhookRejected,
    map_webhook,
    participant_kind,
)
from adapters.storage import DEFAULT_BUCKET
from apps.web.dependencies import deps
from apps.web.errors import ApiError
from domain.errors import DomainError

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 256 * 1024


async def livekit_webhook(request: Request) -> JSONResponse:
    d = deps(request)
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_WEBHOOK_BYTES:
            d.metrics.webhooks["too_large"] += 1
            raise ApiError(413, "too_large", "webhook body is too large")
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        d.metrics.webhooks["bad_request"] += 1
        raise ApiError(400, "bad_request", "webhook body is not UTF-8") from None
    verifier = d.webhook_verifier
    try:
        event = verifier.verify(text, request.headers.get("authorization"))
    except WebhookRejected as e:
        d.metrics.webhooks["invalid_signature"] += 1
        raise ApiError(401, "invalid_signature", str(e)) from None
    except WebhookMalformed as e:
        d.metrics.webhooks["bad_request"] += 1
        raise ApiError(400, "bad_request", str(e)) from None
    try:
        bucket = d.settings.s3.bucket if d.settings.s3 else DEFAULT_BUCKET
        mapped = map_webhook(event, default_bucket=bucket)
    except DomainError as e:  # e.g. a room name we cannot record
        d.metrics.webhooks["rejected"] += 1
        return JSONResponse({"status": "rejected", "event": event.event, "reason": e.message})
    if not mapped.commands:
        d.metrics.webhooks["ignored"] += 1
        log.info("webhook %s (%s) is not recorded", event.event, event.id)
        return JSONResponse({"status": "ignored", "event": event.event})
    app = d.app
    outcomes = await app.record_many_async(mapped.commands)
    if event.event == "participant_left" and participant_kind(event.participant) == "agent":
        await d.supervision.close_room_if_agent_lost(event.room.name)
    statuses = {o.status for o in outcomes}
    status = "recorded" if "recorded" in statuses else outcomes[0].status
    d.metrics.webhooks[status] += 1
    reply: dict[str, object] = {"status": status, "event": event.event}
    errors = [o.error.message for o in outcomes if o.error is not None]
    if errors:
        # Refused by the domain (e.g. a late start): retrying would not help, so 200.
        log.info("webhook %s refused: %s", event.event, "; ".join(errors))
        reply["reason"] = "; ".join(errors)
    return JSONResponse(reply)
