"""The timeline page's "Personal data" card in Chromium: redacted by default, revealed to
the admin who gives a reason (recorded), then erased for good."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from domain import events as ev
from domain.ids import conversation_id_for_room
from tests.web.conftest import ADMIN_PASSWORD, WebServer
from tests.web.test_browser import _sign_in, browser, page, shot
from tests.web.test_reveal import ROOM, _call

__all__ = ["browser", "page"]  # the fixtures, shared with the other browser tests

pytestmark = pytest.mark.browser


def test_reveal_then_erase_from_the_timeline(web: WebServer, page: Page) -> None:
    _call(web.app, ROOM)
    web.wait_projected()
    cid = conversation_id_for_room(ROOM)
    _sign_in(page, web, "admin", ADMIN_PASSWORD)
    page.goto(f"{web.url}/admin/conversations/{cid}/timeline")
    entries = page.get_by_test_id("entries-body")
    expect(entries).to_contain_text("call me on [phone]")
    expect(entries).not_to_contain_text("555 0188")
    expect(page.get_by_test_id("redacted-note")).to_be_visible()

    # A reason is required; then the page shows the call as said, and says until when.
    page.get_by_test_id("reveal-button").click()
    expect(page.get_by_test_id("reveal-status")).to_contain_text("Say why")
    page.get_by_test_id("reveal-reason").fill("dispute over the quoted price")
    page.get_by_test_id("reveal-button").click()
    expect(page.get_by_test_id("revealed-banner")).to_contain_text("revealed to you until")
    expect(entries).to_contain_text("415 555 0188")
    page.get_by_test_id("privacy-card").scroll_into_view_if_needed()
    shot(page, "21-timeline-revealed")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("erase-reason").fill("the caller asked to be forgotten")
    page.get_by_test_id("erase-button").click()
    expect(entries).to_contain_text("[erased]")
    expect(entries).not_to_contain_text("555 0188")
    expect(page.get_by_test_id("revealed-banner")).to_have_count(0)
    shot(page, "22-timeline-erased")
    kinds = [type(e).__name__ for _, e in web.app.events_of(cid)]
    assert kinds[-3:] == ["PersonalDataRevealed", "ErasureRequested", "ErasureCompleted"]
    assert isinstance(web.app.events_of(cid)[-1][1], ev.ErasureCompleted)
