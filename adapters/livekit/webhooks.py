"""LiveKit webhooks: verified with livekit-api, mapped to domain commands.

Each webhook's `id` becomes the commands' external id, so a redelivered webhook records
nothing new; its `created_at` is when the fact happened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.json_format import Parse
from livekit import api
from livekit.protocol import egress, models, webhook

from domain import commands as c
from domain.meta import EventMeta


class WebhookRejected(Exception):
    """The signature is missing, forged, expired, or does not match the body."""


@dataclass(frozen=True)
class MappedWebhook:
    event: str
    webhook_id: str
    commands: list[c.Command]


class WebhookMalformed(Exception):
    """Correctly signed, but not a webhook body we can read."""


class WebhookVerifier:
    """What livekit-api's WebhookReceiver does, with a bad signature (401) told apart
    from a signed body that does not parse (400)."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        self._tokens = api.TokenVerifier(api_key, api_secret)

    def verify(self, body: str, authorization: str | None) -> webhook.WebhookEvent:
        if not authorization:
            raise WebhookRejected("missing Authorization header")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            claims = self._tokens.verify(token)
        except Exception as e:  # jwt raises many kinds: expired, bad signature, garbage
            raise WebhookRejected(f"webhook signature rejected: {e}") from None
        if not claims.sha256:
            raise WebhookRejected("webhook token carries no body hash")
        expected = base64.b64decode(claims.sha256)
        if not hmac.compare_digest(hashlib.sha256(body.encode()).digest(), expected):
            raise WebhookRejected("webhook body does not match its signature")
        try:
            return Parse(body, webhook.WebhookEvent(), ignore_unknown_fields=True)
        except Exception as e:
            raise WebhookMalformed(f"not a LiveKit webhook: {e}") from None


def participant_kind(p: models.ParticipantInfo) -> str:
    if p.kind == models.ParticipantInfo.Kind.AGENT:
        return "agent"
    role = p.attributes.get("role") or _metadata_role(p.metadata)
    if role == "supervisor" or p.permission.hidden:
        return "supervisor"
    if role == "customer":
        return "customer"
    if p.kind == models.ParticipantInfo.Kind.EGRESS:
        return "other"
    return "other"


def _metadata_role(metadata: str) -> str | None:
    try:
        data = json.loads(metadata) if metadata else {}
    except ValueError:
        return None
    return data.get("role") if isinstance(data, dict) else None


def map_webhook(event: webhook.WebhookEvent, *, default_bucket: str) -> MappedWebhook:
    """The domain commands a webhook stands for (none for types we do not record)."""
    occurred = (
        datetime.fromtimestamp(event.created_at, UTC) if event.created_at else datetime.now(UTC)
    )
    meta = EventMeta(source="webhook", external_id=event.id or None, occurred_at=occurred)
    room = event.room.name or event.egress_info.room_name
    p, kind = event.participant, event.event
    commands: list[c.Command] = []
    if kind == "room_started":
        commands.append(c.StartCall(room_name=room, meta=meta, room_sid=event.room.sid))
    elif kind == "room_finished":
        commands.append(c.FinishRoom(room_name=room, meta=meta))
    elif kind == "participant_joined":
        commands.append(
            c.JoinParticipant(
                room_name=room,
                meta=meta,
                identity=p.identity,
                name=p.name,
                kind=participant_kind(p),
                hidden=bool(p.permission.hidden),
                sid=p.sid,
            )
        )
    elif kind in ("participant_left", "participant_connection_aborted"):
        commands.append(
            c.LeaveParticipant(
                room_name=room,
                meta=meta,
                identity=p.identity,
                sid=p.sid,
                aborted=kind == "participant_connection_aborted",
            )
        )
    elif kind == "track_published":
        commands.append(
            c.PublishTrack(
                room_name=room,
                meta=meta,
                identity=p.identity,
                track_sid=event.track.sid,
                kind="audio" if event.track.type == models.TrackType.AUDIO else "video",
                source=models.TrackSource.Name(event.track.source).lower(),
            )
        )
    elif kind == "track_unpublished":
        commands.append(
            c.UnpublishTrack(
                room_name=room, meta=meta, identity=p.identity, track_sid=event.track.sid
            )
        )
    elif kind.startswith("egress_"):
        commands.extend(_egress_commands(kind, event.egress_info, meta, default_bucket))
    return MappedWebhook(kind, event.id, commands)


def _egress_commands(
    kind: str, info: egress.EgressInfo, meta: EventMeta, default_bucket: str
) -> list[c.Command]:
    room, rid = info.room_name, info.egress_id
    status = egress.EgressStatus.Name(info.status).removeprefix("EGRESS_").lower()
    if kind == "egress_started":
        return [c.StartRecording(room_name=room, meta=meta, recording_id=rid, egress_id=rid)]
    if kind == "egress_updated":
        return [c.UpdateRecording(room_name=room, meta=meta, recording_id=rid, status=status)]
    if kind != "egress_ended":
        return []
    if info.status == egress.EgressStatus.EGRESS_COMPLETE and info.file_results:
        f = info.file_results[0]
        bucket, key = _location(f, default_bucket)
        return [
            c.CompleteRecording(
                room_name=room,
                meta=meta,
                recording_id=rid,
                bucket=bucket,
                object_key=key,
                size_bytes=int(f.size),
                duration_s=f.duration / 1e9,  # nanoseconds
                content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
            )
        ]
    reason = info.error or f"egress ended with status {status}"
    return [c.FailRecording(room_name=room, meta=meta, recording_id=rid, reason=reason)]


def _location(f: egress.FileInfo, default_bucket: str) -> tuple[str, str]:
    location: str = f.location
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        return bucket, key or f.filename
    return default_bucket, f.filename


def sign_webhook(body: str, api_key: str, api_secret: str, ttl_s: int = 300) -> str:
    """What livekit-server sends: a JWT carrying the body's sha256 (for tests and tools)."""
    from datetime import timedelta

    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return (
        api.AccessToken(api_key, api_secret)
        .with_sha256(digest)
        .with_ttl(timedelta(seconds=ttl_s))
        .to_jwt()
    )
