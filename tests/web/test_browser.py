"""The admin UI in a real browser (Debian's Chromium driven by Playwright): log in, see a
call appear when webhooks and agent events arrive, watch its transcript stream, reload,
and scrub the auditor's timeline. Screenshots go to the test artifacts folder."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.web.conftest import ADMIN_PASSWORD, WebServer, participant, room_event

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DIST = Path(__file__).resolve().parents[2] / "apps" / "web" / "static" / "dist"
ARTIFACTS = Path(os.environ.get("CALLCENTER_TEST_ARTIFACTS", "test-artifacts"))

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/setup.sh"
    assert (DIST / "admin.js").exists(), (
        "front-end bundle missing: run scripts/setup.sh (npm ci && npm run build)"
    )
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield p
    context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, csp


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def say(web: WebServer, room: str, speaker: str, text: str) -> None:
    web.app.record(
        c.RecordFinalTranscript(
            room_name=room,
            meta=EventMeta(source="agent"),
            speaker=speaker,
            text=text,
            confidence=0.9,
        )
    )


def test_dashboard_live_call_transcript_reload_and_timeline(web: WebServer, page: Page) -> None:
    page.goto(f"{web.url}/admin")
    expect(page).to_have_url(f"{web.url}/admin/login?next=/admin")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill("wrong")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("wrong username or password")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{web.url}/admin")
    expect(page.get_by_test_id("stream-status")).to_contain_text("ive", timeout=10_000)
    shot(page, "01-dashboard-empty")

    room = "call-browser"
    cid = str(conversation_id_for_room(room))
    web.webhook(room_event("room_started", room))
    web.webhook(room_event("participant_joined", room, participant=participant("customer-b1")))
    row = page.locator(f'[data-testid="call-row"][data-conversation-id="{cid}"]')
    expect(row).to_be_visible(timeout=15_000)
    shot(page, "02-call-appears")

    row.click()
    expect(page.get_by_test_id("detail-body")).to_be_visible()
    # the agent reports the join LiveKit's webhook reported: one fact, one line, two sources
    web.app.record(
        c.JoinParticipant(
            room_name=room, meta=EventMeta(source="agent"), identity="customer-b1", kind="customer"
        )
    )
    joins = page.get_by_test_id("feed-participant")
    expect(joins.first).to_have_attribute("data-sources", "webhook + agent", timeout=10_000)
    expect(joins).to_have_count(1)
    say(web, room, "customer", "Hi, is the blue Civic still available")
    web.app.record(
        c.RecordAgentReply(
            room_name=room,
            meta=EventMeta(source="agent"),
            text="Welcome to CME Auto Sales! Yes, it is on the lot.",
        )
    )
    web.app.record(
        c.RecordInterimTranscript(
            room_name=room, meta=EventMeta(source="agent"), speaker="customer", text="can I book a"
        )
    )
    lines = page.get_by_test_id("transcript-line")
    expect(lines).to_have_count(2, timeout=15_000)
    expect(lines.nth(0)).to_contain_text("is the blue Civic still available")
    expect(lines.nth(1)).to_contain_text("Welcome to CME Auto Sales")
    expect(page.get_by_test_id("interim-line")).to_contain_text("can I book a", timeout=10_000)
    # the header's counters follow the stream, not only new conversation rows
    expect(page.get_by_test_id("detail-counts")).to_contain_text("1 finals · 1 replies")
    web.app.record(c.DetectSilence(room_name=room, meta=EventMeta(source="agent"), silent_for_s=31))
    expect(page.get_by_test_id("feed-silence")).to_be_visible(timeout=10_000)
    shot(page, "03-live-transcript")

    page.reload()
    page.locator(f'[data-testid="call-row"][data-conversation-id="{cid}"]').click()
    lines = page.get_by_test_id("transcript-line")
    expect(lines).to_have_count(2, timeout=15_000)
    expect(lines.nth(0)).to_contain_text("is the blue Civic still available")
    expect(page.get_by_test_id("detail-counts")).to_contain_text("1 finals · 1 replies")
    expect(page.get_by_test_id("feed-participant")).to_have_count(1)  # from the history too
    shot(page, "04-after-reload")

    time.sleep(0.3)
    say(web, room, "customer", "Saturday at ten works for me")
    web.webhook(room_event("room_finished", room))
    expect(page.get_by_test_id("transcript-line")).to_have_count(3, timeout=15_000)
    expect(page.get_by_test_id("detail-counts")).to_contain_text("2 finals · 1 replies")

    page.get_by_test_id("timeline-link").click()
    expect(page).to_have_url(f"{web.url}/admin/conversations/{cid}/timeline")
    markers = page.get_by_test_id("timeline-marker")
    expect(markers.first).to_be_visible(timeout=10_000)
    assert markers.count() >= 8
    scrubber = page.get_by_test_id("timeline-scrubber")
    expect(scrubber).to_be_enabled()
    scrubber.evaluate(
        "(el) => { el.value = el.max; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    expect(page.get_by_test_id("state-status")).to_have_attribute(
        "data-status", "ended", timeout=10_000
    )
    expect(page.get_by_test_id("state-line")).to_have_count(3, timeout=10_000)
    shot(page, "05-timeline-end")
    scrubber.evaluate(
        "(el) => { el.value = el.min; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    expect(page.get_by_test_id("state-line")).to_have_count(0, timeout=10_000)
    expect(page.get_by_test_id("state-status")).not_to_have_attribute(
        "data-status", "ended", timeout=10_000
    )
    shot(page, "06-timeline-start")


def _sign_in(page: Page, web: WebServer, name: str, password: str) -> None:
    page.goto(f"{web.url}/admin/login?next=/admin")
    page.get_by_test_id("login-username").fill(name)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{web.url}/admin")


def test_the_dashboard_shows_who_is_signed_in_and_hides_what_the_role_may_not_do(
    web: WebServer, page: Page
) -> None:
    password = "a long enough password"
    with closing(web.admin()) as admin:
        for name, role in (("aud", "auditor"), ("ana", "analyst")):
            body = {"name": name, "role": role, "password": password}
            assert admin.post("/api/admin/users", json=body).status_code == 201
    room = "call-roles"
    cid = str(conversation_id_for_room(room))
    web.webhook(room_event("room_started", room))
    web.webhook(room_event("participant_joined", room, participant=participant("customer-r1")))

    _sign_in(page, web, "aud", password)
    expect(page.get_by_test_id("admin-user")).to_have_text("aud (auditor)")
    page.locator(f'[data-testid="call-row"][data-conversation-id="{cid}"]').click(timeout=15_000)
    expect(page.get_by_test_id("detail-body")).to_be_visible()
    expect(page.get_by_test_id("timeline-link")).to_be_visible()
    expect(page.get_by_test_id("listen-button")).to_be_hidden()  # auditors do not act on calls
    shot(page, "07-auditor-dashboard")
    page.get_by_test_id("logout-button").click()
    expect(page).to_have_url(f"{web.url}/admin/login")

    page.goto(f"{web.url}/admin/login?next=/admin")
    page.get_by_test_id("login-username").fill("ana")
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    # an analyst may not watch calls: the dashboard sends them to the analytics page
    expect(page).to_have_url(re.compile(re.escape(f"{web.url}/admin/analytics")))
    expect(page.get_by_test_id("admin-user")).to_have_text("ana (analyst)")
    expect(page.locator("body[data-loaded=true]")).to_have_count(1)
    expect(page.get_by_test_id("call-row")).to_have_count(0)
    shot(page, "08-analyst-dashboard")
