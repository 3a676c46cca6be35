"""Attacks on a live call, through the real stack (livekit-server, the agent worker, the
web app): another caller who knows the room name gets no token for it, an altered token is
refused by livekit-server, a token for one room admits to that room only, and the caller
alone gets back into the call with the reconnect ticket, where the agent still answers."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest
from livekit import api, rtc

from apps.stack.secrets_store import local_secrets
from apps.stack.stack import LocalStack
from domain.ids import conversation_id_for_room
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.livekit_client import join, publish_wav, wait_for

pytestmark = pytest.mark.e2e


def _with_room(token: str, room: str) -> str:
    """The token with its room claim changed and its signature kept: what an attacker
    without the API secret can make of a token they hold."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["video"]["room"] = room
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _agent(room: rtc.Room) -> rtc.RemoteParticipant | None:
    return next(
        (
            p
            for p in room.remote_participants.values()
            if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
        ),
        None,
    )


async def _participants(stack: LocalStack, room: str) -> set[str]:
    secrets = local_secrets(stack.options.data_dir)
    lk = api.LiveKitAPI(
        stack.livekit_url.replace("ws://", "http://"),
        secrets["livekit_api_key"],
        secrets["livekit_api_secret"],
    )
    try:
        res = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
        return {p.identity for p in res.participants}
    finally:
        await lk.aclose()


async def _scenario(stack: LocalStack, wav: Path) -> None:
    web = stack.web_url
    grant = httpx.post(f"{web}/api/get-token", json={"participant_name": "Ann"}, timeout=20)
    assert grant.status_code == 200, grant.text
    ann_grant = grant.json()
    room, ann_id = ann_grant["room_name"], ann_grant["participant_identity"]
    ann, _ = await join(ann_grant["livekit_url"], ann_grant["token"])
    await wait_for(lambda: _agent(ann) is not None, 90, "the agent to join Ann's call")
    agent_id = _agent(ann).identity  # type: ignore[union-attr]

    # Eve knows the room name (the caller's page shows it) and asks for a token to it.
    eve = httpx.post(
        f"{web}/api/get-token", json={"room_name": room, "participant_name": "Eve"}, timeout=20
    )
    assert eve.status_code == 409 and eve.json()["error"] == "room_unavailable"
    assert "token" not in eve.json()

    # Eve's own token admits her to her own new room, never to Ann's.
    own = httpx.post(f"{web}/api/get-token", json={"participant_name": "Eve"}, timeout=20).json()
    assert own["room_name"] != room
    eve_room, _ = await join(own["livekit_url"], own["token"])
    assert eve_room.name == own["room_name"]
    # ...and the same token with its room claim altered is refused by livekit-server.
    with pytest.raises(rtc.ConnectError):
        await rtc.Room().connect(own["livekit_url"], _with_room(own["token"], room))
    await eve_room.disconnect()
    assert await _participants(stack, room) == {ann_id, agent_id}
    assert own["participant_identity"] not in {p.identity for p in ann.remote_participants.values()}

    # Ann comes back from another connection with her ticket: LiveKit replaces the old one,
    # and the agent, still in the call, answers what she says.
    back = httpx.post(
        f"{web}/api/reconnect-token",
        json={"reconnect_ticket": ann_grant["reconnect_ticket"]},
        timeout=20,
    )
    assert back.status_code == 200, back.text
    assert back.json()["room_name"] == room and back.json()["participant_identity"] == ann_id
    ann2, heard2 = await join(back.json()["livekit_url"], back.json()["token"])
    await wait_for(
        lambda: ann.connection_state != rtc.ConnectionState.CONN_CONNECTED,
        20,
        "the old connection to be replaced",
    )
    await wait_for(lambda: _agent(ann2) is not None, 20, "the agent in the rejoined call")
    await publish_wav(ann2, wav)
    await wait_for(
        lambda: heard2.audible_frames.get(agent_id, 0) > 50,
        60,
        "the agent's answer after rejoining",
    )
    await ann2.disconnect()

    log = [type(e).__name__ for _, e in stack.runtime.app.log_of(conversation_id_for_room(room))]
    assert log.count("CallRequested") == 1
    assert log.count("CallRequestRefused") == 1
    assert log.count("CallerReconnected") == 1
    with httpx.Client(base_url=web, timeout=20) as admin:
        admin.post("/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        cid = conversation_id_for_room(room)
        await wait_for(
            lambda: any(
                # the name is personal data: redacted on the read side, sealed in the log
                e["type"] == "CallRequestRefused" and e["data"]["participant_name"] == "[name]"
                for e in admin.get(f"/api/conversations/{cid}/timeline").json()["entries"]
            ),
            20,
            "the refusal in the call's timeline",
        )


def test_nobody_but_the_caller_gets_into_a_live_call(stack: LocalStack, speech_wav: Path) -> None:
    asyncio.run(_scenario(stack, speech_wav))
