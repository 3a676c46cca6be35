"""Who gets a token for a call, over HTTP: a named room that already has a call is refused
(409, recorded on the call as a security event); the caller alone reconnects, with the
signed ticket given with the first token."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest
from livekit import api

from adapters.tickets import CallerTicket, InvalidTicket, ReconnectTickets
from domain.ids import conversation_id_for_room
from tests.web.conftest import API_KEY, API_SECRET, WebServer, room_event


def kinds(web: WebServer, room: str) -> list[str]:
    return [type(e).__name__ for _, e in web.app.log_of(conversation_id_for_room(room))]


def test_a_second_caller_cannot_take_a_named_room(web: WebServer) -> None:
    first = httpx.post(f"{web.url}/api/get-token", json={"room_name": "call-named-2"})
    assert first.status_code == 200
    room = first.json()["room_name"]
    eve = httpx.post(
        f"{web.url}/api/get-token", json={"room_name": room, "participant_name": "Eve"}
    )
    assert eve.status_code == 409
    assert eve.json()["error"] == "room_unavailable"
    assert "reconnect ticket" in eve.json()["reason"] and "token" not in eve.json()
    assert kinds(web, room) == ["Opened", "CallRequested", "CallRequestRefused"]
    web.wait_projected()
    cid = conversation_id_for_room(room)
    with closing(web.admin()) as admin:
        entries = admin.get(f"/api/conversations/{cid}/timeline").json()["entries"]
    refused = [e for e in entries if e["type"] == "CallRequestRefused"]
    assert len(refused) == 1
    # Personal data, redacted on the read side (a reveal shows it; the log holds it sealed)
    assert refused[0]["data"]["participant_name"] == "[name]"
    assert refused[0]["data"]["client_address"] == "[ip]"
    logged = [e for _, e in web.app.events_of(cid) if type(e).__name__ == "CallRequestRefused"]
    assert (logged[0].participant_name, logged[0].client_address) == ("Eve", "127.0.0.1")
    assert refused[0]["source"] == "api"


def test_the_caller_reconnects_with_the_ticket_and_only_to_their_call(web: WebServer) -> None:
    grant = httpx.post(f"{web.url}/api/get-token", json={"participant_name": "Ann"}).json()
    room, identity = grant["room_name"], grant["participant_identity"]
    back = httpx.post(
        f"{web.url}/api/reconnect-token", json={"reconnect_ticket": grant["reconnect_ticket"]}
    )
    assert back.status_code == 200, back.text
    again = back.json()
    assert (again["room_name"], again["participant_identity"]) == (room, identity)
    assert ReconnectTickets(web.settings.session_secret, ttl_s=60).verify(
        again["reconnect_ticket"]
    ) == CallerTicket(room, identity, "Ann")
    claims = api.TokenVerifier(API_KEY, API_SECRET).verify(again["token"])
    assert claims.video.room == room and claims.identity == identity
    assert claims.video.room_join and not claims.video.hidden
    assert kinds(web, room) == ["Opened", "CallRequested", "CallerReconnected"]

    # A ticket this server did not sign, one altered in transit, and one for another room
    # signed with another secret: all refused, nothing recorded.
    other = ReconnectTickets("another-secret", ttl_s=60).issue(
        CallerTicket("call-other-room", identity, "Ann")
    )
    altered = grant["reconnect_ticket"][:-3] + (
        "AAA" if grant["reconnect_ticket"][-3:] != "AAA" else "BBB"
    )
    head = web.app.store.max_notification_id()
    for ticket in (other, altered, "not-a-ticket"):
        r = httpx.post(f"{web.url}/api/reconnect-token", json={"reconnect_ticket": ticket})
        assert r.status_code == 401, ticket
        assert r.json()["error"] == "invalid_ticket"
    missing = httpx.post(f"{web.url}/api/reconnect-token", json={})
    assert missing.status_code == 422 and missing.json()["field"] == "reconnect_ticket"
    assert web.app.store.max_notification_id() == head

    # Once the call has ended, the ticket is worth nothing.
    assert web.webhook(room_event("room_finished", room)).status_code == 200
    ended = httpx.post(
        f"{web.url}/api/reconnect-token", json={"reconnect_ticket": again["reconnect_ticket"]}
    )
    assert ended.status_code == 409 and ended.json()["error"] == "call_ended"
    assert "CallerReconnected" not in kinds(web, room)[3:]


def test_an_expired_ticket_is_refused() -> None:
    tickets = ReconnectTickets("secret", ttl_s=-1)
    raw = tickets.issue(CallerTicket("call-x", "customer-1", "Ann"))
    with pytest.raises(InvalidTicket, match="expired"):
        tickets.verify(raw)
