"""The timeline page's insight card in Chromium: a finished call's summary, the customer's
sentiment and the QA scorecard with each rule's verdict and reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.test_insight_read_model import _scripted
from tests.web.conftest import ADMIN_PASSWORD, WebServer
from tests.web.test_browser import _sign_in, browser, page, shot

__all__ = ["browser", "page"]  # the fixtures, shared with the other browser tests

pytestmark = pytest.mark.browser


def test_the_timeline_shows_the_calls_insight(web: WebServer, page: Page) -> None:
    commands = _scripted("call-insight-page")
    web.app.record_many(commands)
    web.wait_projected()
    _sign_in(page, web, "admin", ADMIN_PASSWORD)
    page.goto(f"{web.url}/admin/conversations/{commands[0].conversation_id}/timeline")
    card = page.get_by_test_id("insight-card")
    expect(card.get_by_test_id("insight-summary-text")).to_contain_text("2003 Honda Accord")
    expect(card.get_by_test_id("insight-summary-text")).to_contain_text(
        "Next step: Test drive with [name] Friday 3pm."
    )
    # the mean of "I love the Accord, great car" (0.85) and "this is terrible" (-0.48)
    expect(card.get_by_test_id("insight-sentiment")).to_have_text("positive (0.19)")
    rules = card.get_by_test_id("insight-qa-rule")
    expect(rules).to_have_count(6)
    silence = card.locator('[data-testid="insight-qa-rule"][data-rule="no_long_silence"]')
    expect(silence).to_have_attribute("data-passed", "false")
    expect(silence).to_contain_text("a silence lasted 30.0 s (over 10 s)")
    greeted = card.locator('[data-testid="insight-qa-rule"][data-rule="greeted"]')
    expect(greeted).to_have_attribute("data-passed", "true")
    card.scroll_into_view_if_needed()
    shot(page, "20-timeline-insight")
