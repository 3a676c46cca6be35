"""The analytics page and the call-history filters in a real browser (Debian's Chromium
driven by Playwright): the charts and the totals show what the calls did, and each filter
narrows the history list. Screenshots go to the test artifacts folder."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.web import test_browser
from tests.web.conftest import ADMIN_PASSWORD, WebServer
from tests.web.test_browser import shot

pytestmark = pytest.mark.browser
browser = test_browser.browser  # the same Chromium fixtures
page = test_browser.page


def _call(
    web: WebServer,
    room: str,
    at: datetime,
    *,
    text: str,
    confidence: float,
    book: bool,
    takeover: bool,
    latency_s: float,
    duration_s: float,
) -> str:
    step = iter(range(1, 100))

    def m(source: str = "agent") -> EventMeta:
        return EventMeta(source=source, occurred_at=at + timedelta(seconds=next(step)))

    commands: list[c.Command] = [
        c.RequestCall(room_name=room, meta=m("api"), participant_identity="cust-" + room),
        c.RecordFinalTranscript(
            room_name=room, meta=m(), speaker="customer", text=text, confidence=confidence
        ),
        c.MeasureTurn(room_name=room, meta=m(), speech_id="s1", end_to_end_s=latency_s),
    ]
    if book:
        commands.append(
            c.BookTestDrive(
                room_name=room,
                meta=m(),
                booking_id="b-" + room,
                customer_name="Ann",
                phone="5550100",
                preferred_time="Friday",
            )
        )
    if takeover:
        commands.append(
            c.TakeOver(room_name=room, meta=m(), supervisor="admin", participant_identity="s1")
        )
    commands.append(c.EndCall(room_name=room, meta=m(), reason="done", duration_s=duration_s))
    web.app.record_many(commands)
    return str(conversation_id_for_room(room))


def _sign_in(page: Page, web: WebServer, next_path: str) -> None:
    page.goto(f"{web.url}/admin/login?next={next_path}")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{web.url}{next_path}")


def test_the_analytics_page_charts_the_calls_with_their_totals(web: WebServer, page: Page) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    _call(web, "an-1", yesterday + timedelta(hours=9), text="this is great thanks", confidence=0.9,
          book=True, takeover=False, latency_s=1.0, duration_s=100)  # fmt: skip
    _call(web, "an-2", yesterday + timedelta(hours=15), text="terrible awful service", confidence=0.5,
          book=False, takeover=True, latency_s=3.0, duration_s=300)  # fmt: skip
    _call(web, "an-3", today + timedelta(minutes=5), text="do you have a red civic", confidence=0.7,
          book=True, takeover=False, latency_s=2.0, duration_s=200)  # fmt: skip
    web.wait_projected()

    _sign_in(page, web, "/admin")
    page.get_by_test_id("analytics-link").click()
    expect(page).to_have_url(re.compile(re.escape(f"{web.url}/admin/analytics")))
    expect(page.locator("body[data-loaded=true]")).to_have_count(1)
    totals = {
        "calls": "3",
        "containment": "67 %",  # the taken-over call was not contained
        "handle_avg_s": "200 s",
        "bookings_per_call": "0.67",
        "latency_p50_ms": "2000 ms",
        "stt_confidence": "0.70",
    }
    for figure, text in totals.items():
        expect(page.get_by_test_id(f"total-{figure}")).to_have_text(text)
    calls_chart = page.get_by_test_id("chart-calls")
    expect(calls_chart).to_have_attribute("data-total", "3")
    expect(calls_chart).to_have_attribute("data-points", "30")  # one bar per day shown
    # Chart.js drew on the canvas: it is not blank.
    painted = calls_chart.evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)"
    )
    assert painted
    shot(page, "09-analytics")

    # Yesterday only, per hour: two calls, two non-empty hours, and a CSV of the same range.
    day = yesterday.date().isoformat()
    page.get_by_test_id("analytics-from").fill(day)
    page.get_by_test_id("analytics-to").fill(day)
    page.get_by_test_id("analytics-bucket").select_option("hour")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("total-calls")).to_have_text("2")
    expect(page.get_by_test_id("chart-calls")).to_have_attribute("data-points", "24")
    expect(page.get_by_test_id("total-containment")).to_have_text("50 %")
    href = page.get_by_test_id("analytics-csv").get_attribute("href")
    assert href is not None and "bucket=hour" in href
    csv = page.request.get(f"{web.url}{href}")
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text().splitlines()
    assert len(rows) == 1 + 24 + 1 and rows[-1].startswith("total,2,")
    shot(page, "10-analytics-hourly")


def test_history_filters_narrow_the_list(web: WebServer, page: Page) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    booked = _call(web, "hist-b", now, text="I want a test drive", confidence=0.95, book=True,
                   takeover=False, latency_s=1.0, duration_s=400)  # fmt: skip
    taken = _call(web, "hist-t", now, text="let me talk to a person", confidence=0.3, book=False,
                  takeover=True, latency_s=1.0, duration_s=60)  # fmt: skip
    web.wait_projected()
    _sign_in(page, web, "/admin")
    items = page.get_by_test_id("history-item")
    history = page.get_by_test_id("history-filters")

    def only(cid: str) -> None:
        """The list shows that call alone (waiting for the list to be redrawn)."""
        expect(items.locator(f'a[href*="{cid}"]')).to_have_count(1)
        expect(items).to_have_count(1)

    expect(items).to_have_count(2)
    history.locator("select[name=outcome]").select_option("booking")
    history.get_by_role("button", name="Apply").click()
    only(booked)
    history.locator("select[name=outcome]").select_option("escalated")
    history.get_by_role("button", name="Apply").click()
    only(taken)
    history.locator("select[name=outcome]").select_option("")
    history.locator("input[name=min_duration_s]").fill("300")
    history.get_by_role("button", name="Apply").click()
    only(booked)
    history.locator("input[name=min_duration_s]").fill("")
    history.locator("input[name=max_confidence]").fill("0.5")
    history.get_by_role("button", name="Apply").click()
    only(taken)
    shot(page, "11-history-filtered")
