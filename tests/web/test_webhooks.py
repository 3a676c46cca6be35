"""LiveKit webhooks: verified, recorded once, refused when forged, read models correct
whatever the delivery order."""

from __future__ import annotations

import json
import time
from contextlib import closing

import httpx

from adapters.livekit.webhooks import sign_webhook
from domain.ids import conversation_id_for_room
from tests.web.conftest import API_KEY, API_SECRET, WebServer, participant, room_event


def _count(web: WebServer, room: str) -> int:
    return len(web.app.store.select_log(conversation_id_for_room(room)))


def test_each_webhook_type_is_recorded_once(web: WebServer) -> None:
    room = "call-hooks"
    hooks = [
        room_event("room_started", room),
        room_event("participant_joined", room, participant=participant("customer-1")),
        room_event(
            "participant_joined", room, participant=participant("agent-1", kind="AGENT", role=None)
        ),
        room_event(
            "track_published",
            room,
            participant=participant("customer-1"),
            track={"sid": "TR_1", "type": "AUDIO", "source": "MICROPHONE"},
        ),
        room_event(
            "track_unpublished", room, participant=participant("customer-1"), track={"sid": "TR_1"}
        ),
        room_event("participant_left", room, participant=participant("customer-1")),
        room_event(
            "participant_connection_aborted",
            room,
            participant=participant("agent-1", kind="AGENT", role=None),
        ),
        room_event(
            "egress_started",
            room,
            egressInfo={"egressId": "EG_1", "roomName": room, "status": "EGRESS_ACTIVE"},
        ),
        room_event(
            "egress_updated",
            room,
            egressInfo={"egressId": "EG_1", "roomName": room, "status": "EGRESS_ACTIVE"},
        ),
        room_event("room_finished", room),
        room_event(
            "egress_ended",
            room,
            egressInfo={
                "egressId": "EG_1",
                "roomName": room,
                "status": "EGRESS_COMPLETE",
                "fileResults": [
                    {
                        "filename": "conversations/x/EG_1.ogg",
                        "size": "12345",
                        "duration": "61000000000",
                    }
                ],
            },
        ),
    ]
    for hook in hooks:
        r = web.webhook(hook)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "recorded", (hook["event"], r.json())
    recorded = _count(web, room)
    for hook in hooks:  # every one delivered again
        r = web.webhook(hook)
        assert r.json()["status"] == "duplicate"
    assert _count(web, room) == recorded
    web.wait_projected()
    with closing(web.admin()) as admin:
        row = admin.get(f"/api/conversations/{conversation_id_for_room(room)}").json()
    assert row["status"] == "ended"
    assert row["recording_status"] == "completed"
    assert row["participants"]["agent-1"]["kind"] == "agent"
    assert row["participants"]["agent-1"]["aborted"] is True
    assert row["participants"]["customer-1"]["present"] is False


def test_forged_expired_tampered_or_unsigned_webhooks_are_refused(web: WebServer) -> None:
    room = "call-forged"
    body = json.dumps(room_event("room_started", room))
    cases = {
        "forged": sign_webhook(body, API_KEY, "another-secret-another-secret-0000"),
        "expired": sign_webhook(body, API_KEY, API_SECRET, ttl_s=-120),
        "tampered": sign_webhook(body.replace(room, "call-other"), API_KEY, API_SECRET),
        "garbage": "not-a-jwt",
    }
    for name, token in cases.items():
        r = httpx.post(f"{web.url}/webhook/livekit", content=body, headers={"Authorization": token})
        assert r.status_code == 401, name
        assert r.json()["error"] == "invalid_signature"
    r = httpx.post(f"{web.url}/webhook/egress", content=body)
    assert r.status_code == 401
    assert _count(web, room) == 0


def test_a_replayed_old_webhook_is_refused(web: WebServer) -> None:
    """A webhook accepted while its token was valid is refused when replayed after it."""
    room = "call-replayed"
    body = json.dumps(room_event("room_started", room))
    # Expired 58 s ago: still inside the verifier's one-minute leeway, for two seconds.
    token = sign_webhook(body, API_KEY, API_SECRET, ttl_s=-58)
    first = httpx.post(f"{web.url}/webhook/livekit", content=body, headers={"Authorization": token})
    assert first.status_code == 200 and first.json()["status"] == "recorded"
    recorded = _count(web, room)
    time.sleep(3.5)
    replay = httpx.post(
        f"{web.url}/webhook/livekit", content=body, headers={"Authorization": token}
    )
    assert replay.status_code == 401
    assert _count(web, room) == recorded


def test_unknown_event_types_are_accepted_and_ignored(web: WebServer) -> None:
    r = web.webhook(room_event("ingress_started", "call-ingress"))
    assert r.status_code == 200
    assert r.json()["status"] == "ignored"


def test_out_of_order_and_late_webhooks_end_correct(web: WebServer) -> None:
    room = "call-disorder"
    now = int(time.time())
    left = room_event("participant_left", room, participant=participant("customer-9"))
    left["createdAt"] = str(now + 5)
    joined = room_event("participant_joined", room, participant=participant("customer-9"))
    joined["createdAt"] = str(now + 1)
    ended = room_event(
        "egress_ended",
        room,
        egressInfo={
            "egressId": "EG_9",
            "roomName": room,
            "status": "EGRESS_FAILED",
            "error": "encoder crashed",
        },
    )
    started = room_event(
        "egress_started",
        room,
        egressInfo={"egressId": "EG_9", "roomName": room, "status": "EGRESS_ACTIVE"},
    )
    finished = room_event("room_finished", room)
    finished["createdAt"] = str(now + 10)
    late_join = room_event("participant_joined", room, participant=participant("customer-late"))
    late_join["createdAt"] = str(now + 30)
    for hook in (left, joined, ended, started, finished, late_join):
        assert web.webhook(hook).status_code == 200
    web.wait_projected()
    with closing(web.admin()) as admin:
        row = admin.get(f"/api/conversations/{conversation_id_for_room(room)}").json()
    assert row["participants"]["customer-9"]["present"] is False
    assert "customer-late" not in row["participants"]
    assert row["recording_status"] == "failed"
    assert row["status"] == "ended"
