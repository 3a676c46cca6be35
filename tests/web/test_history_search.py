"""Call history filters and transcript search over HTTP: results, narrowing, paging, and
bad input refused with a JSON reason."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest

from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.web.conftest import WebServer, participant, room_event


def _call(
    web: WebServer, room: str, lines: list[tuple[str, str, float]], *, book: bool, end: bool
) -> str:
    web.webhook(room_event("room_started", room))
    web.webhook(room_event("participant_joined", room, participant=participant("customer-" + room)))
    agent = EventMeta(source="agent")
    for speaker, text, confidence in lines:
        web.app.record(
            c.RecordFinalTranscript(
                room_name=room, meta=agent, speaker=speaker, text=text, confidence=confidence
            )
        )
    if book:
        web.app.record(
            c.BookTestDrive(
                room_name=room,
                meta=agent,
                booking_id="b-" + room,
                customer_name="Ann",
                phone="5550100",
                preferred_time="Friday 3pm",
            )
        )
    if end:
        web.app.record(c.EndCall(room_name=room, meta=agent, reason="customer_left"))
    return str(conversation_id_for_room(room))


def _ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {i["conversation_id"] for i in response.json()["items"]}


def test_history_filters_search_and_paging(web: WebServer) -> None:
    booked = _call(
        web,
        "hist-booked",
        [("customer", "I want to discuss a trade-in for my Civic", 0.95)],
        book=True,
        end=True,
    )
    abandoned = _call(
        web, "hist-abandoned", [("customer", "hello is anyone there", 0.41)], book=False, end=True
    )
    live = _call(
        web, "hist-live", [("customer", "what about a trade-in value", 0.8)], book=False, end=False
    )
    web.wait_projected()
    with closing(web.admin()) as admin:
        everything = _ids(admin.get("/api/conversations"))
        assert {booked, abandoned, live} <= everything
        assert _ids(admin.get("/api/conversations", params={"status": "ended"})) >= {
            booked,
            abandoned,
        }
        assert live not in _ids(admin.get("/api/conversations", params={"status": "ended"}))
        assert _ids(admin.get("/api/conversations", params={"outcome": "booking"})) == {booked}
        assert _ids(admin.get("/api/conversations", params={"outcome": "abandoned"})) == {abandoned}
        assert _ids(admin.get("/api/conversations", params={"max_confidence": "0.5"})) == {
            abandoned
        }
        assert (
            _ids(admin.get("/api/conversations", params={"from": "2999-01-01T00:00:00Z"})) == set()
        )
        item = next(
            i
            for i in admin.get("/api/conversations", params={"outcome": "booking"}).json()["items"]
        )
        assert item["outcomes"] == ["booking"] and item["lowest_confidence"] == 0.95

        # paging: one at a time, every call once, in a stable order
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params = {"limit": "1", "sort": "-opened_at"}
            if cursor:
                params["cursor"] = cursor
            page = admin.get("/api/conversations", params=params).json()
            seen += [i["conversation_id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) and set(seen) == everything

        hits = admin.get("/api/search", params={"q": "trade-in"}).json()
        assert {h["conversation_id"] for h in hits["items"]} == {booked, live}
        hit = next(h for h in hits["items"] if h["conversation_id"] == booked)
        assert hit["room_name"] == "hist-booked" and hit["speaker"] == "customer"
        assert "<mark>" in hit["snippet"] and hit["offset_s"] >= 0
        first = admin.get("/api/search", params={"q": "trade-in", "limit": "1"}).json()
        second = admin.get(
            "/api/search", params={"q": "trade-in", "limit": "1", "cursor": first["next_cursor"]}
        ).json()
        assert len(first["items"]) == len(second["items"]) == 1
        assert first["items"][0]["position"] > second["items"][0]["position"]
        assert second["next_cursor"] is None
        # words that are not there, and query syntax, are just words
        assert admin.get("/api/search", params={"q": "zeppelin"}).json()["items"] == []
        for odd in ["'; DROP TABLE search_lines_g1; --", "a & | ! ( ) :* <->", '"unbalanced', "-"]:
            r = admin.get("/api/search", params={"q": odd})
            assert r.status_code == 200, (odd, r.text)
        assert len(admin.get("/api/search", params={"q": "trade-in"}).json()["items"]) == 2


def test_bad_input_is_refused_with_a_reason(web: WebServer) -> None:
    bad_history = [
        {"colour": "red"},
        {"outcome": "won"},
        {"from": "yesterday"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"from": "2026-01-02", "to": "2026-01-01"},
        {"max_confidence": "nan"},
        {"min_duration_s": "-1"},
        {"silence": "maybe"},
        {"recording": "lost"},
        {"sort": "conversation_id; DROP TABLE x"},
    ]
    bad_search = [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "a\x00b"},
        {"q": "civic", "cursor": "not-a-cursor"},
        {"q": "civic", "cursor": "WzFd" + "x"},
        {"q": "civic", "limit": "0"},
        {"q": "civic", "where": "1=1"},
    ]
    with closing(web.admin()) as admin:
        for params in bad_history:
            r = admin.get("/api/conversations", params=params)
            assert r.status_code == 400, (params, r.text)
            assert r.json()["reason"], params
        for params in bad_search:
            r = admin.get("/api/search", params=params)
            assert r.status_code == 400, (params, r.text)
            assert r.json()["reason"], params
        # the old contract stays: a bad status or cursor is a 422
        assert admin.get("/api/conversations", params={"status": "x"}).status_code == 422
        assert admin.get("/api/conversations", params={"cursor": "!!"}).status_code == 422
    assert httpx.get(f"{web.url}/api/search", params={"q": "civic"}).status_code == 401


def test_search_looks_further_back_until_a_page_is_full(
    web: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections import history_queries

    room = "hist-windows"
    texts = [f"civic number {i}" if i % 3 == 0 else f"accord number {i}" for i in range(12)]
    _call(web, room, [("customer", t, 0.9) for t in texts], book=False, end=True)
    web.wait_projected()

    def pages(windows: tuple[int | None, ...]) -> list[list[str]]:
        monkeypatch.setattr(history_queries, "SEARCH_WINDOWS", windows)
        out, cursor = [], None
        with closing(web.admin()) as admin:
            while True:
                params = {"q": "civic", "limit": "2", **({"cursor": cursor} if cursor else {})}
                body = admin.get("/api/search", params=params).json()
                out.append([h["snippet"] for h in body["items"]])
                cursor = body["next_cursor"]
                if not cursor:
                    return out

    whole = pages((None,))
    assert [len(p) for p in whole] == [2, 2]
    assert pages((1, 3, None)) == whole  # tiny windows: widened until each page is full
