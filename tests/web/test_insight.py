"""`GET /api/conversations/{id}/insight` over HTTP: the summary, the customer's sentiment
and the QA scorecard of a finished call; bad ids and missing rights get a JSON 4xx."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest

from tests.test_insight_read_model import _scripted
from tests.web.conftest import WebServer

ROOM = "call-insight-web"


def test_a_finished_calls_insight(web: WebServer) -> None:
    commands = _scripted(ROOM)
    web.app.record_many(commands)
    web.wait_projected()
    cid = commands[0].conversation_id
    with closing(web.admin()) as admin:
        r = admin.get(f"/api/conversations/{cid}/insight")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"summary", "sentiment", "qa"}
    summary = body["summary"]
    assert summary["outcome"] == ["booking", "vehicle_found", "escalated"]
    assert summary["bookings"] == [
        {
            "booking_id": "td-1",
            "customer_name": "[name]",  # redacted, like all the read side shows
            "preferred_time": "Friday 3pm",
            "vin": "1HGCM82633A004352",
        }
    ]
    assert summary["next_step"] == "Test drive with [name] Friday 3pm"
    sentiment = body["sentiment"]
    assert [t["label"] for t in sentiment["turns"]] == ["positive", "negative"]
    assert [t["offset_s"] for t in sentiment["turns"]] == [3.0, 55.0]
    assert sentiment["score"] == round(sum(t["score"] for t in sentiment["turns"]) / 2, 4)
    assert [(q["rule"], q["passed"]) for q in body["qa"]] == [
        ("greeted", True),
        ("vin_validated_before_quoted", True),
        ("booking_read_back", True),
        ("no_long_silence", False),
        ("turn_latency_p95", True),
        ("escalation_answered", True),
    ]
    assert all(isinstance(q["reason"], str) and q["reason"] for q in body["qa"])


def test_a_live_call_has_no_scorecard_yet(web: WebServer) -> None:
    commands = _scripted(ROOM + "-live")[:-1]  # not ended
    web.app.record_many(commands)
    web.wait_projected()
    with closing(web.admin()) as admin:
        body = admin.get(f"/api/conversations/{commands[0].conversation_id}/insight").json()
    assert body["qa"] == [] and body["summary"]["outcome"] == [
        "booking",
        "vehicle_found",
        "escalated",
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "00000000-0000-0000-0000-000000000000",  # no such call
        "not-a-uuid",
        "1%27%3B%20DROP%20TABLE%20insight_calls%3B--",  # '; DROP TABLE insight_calls;--
        "%E2%98%83" * 40,
        "call-insight-web",  # a room name is not an id here, as on the other call routes
    ],
)
def test_unknown_or_malformed_ids_get_404_json(web: WebServer, raw: str) -> None:
    with closing(web.admin()) as admin:
        r = admin.get(f"/api/conversations/{raw}/insight")
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "not_found" and r.json()["reason"]


def test_signed_out_is_refused(web: WebServer) -> None:
    r = httpx.get(f"{web.url}/api/conversations/00000000-0000-0000-0000-000000000000/insight")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
