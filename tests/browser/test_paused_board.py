"""Paused tickets on the dispatcher's board and the pauses table of the analytics page,
in a real browser over the demo (its open pauses, one of each reason), at phone and
desktop sizes, with screenshots."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.browser.conftest import ARTIFACTS, login

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def demo(live, monkeypatch):
    from app import clock
    from app.demo import load_demo
    from app.extensions import db

    monkeypatch.setitem(live.app.config, "APP_TIMEZONE", "Asia/Tashkent")
    clock.set_now(NOW)
    with live.ctx():
        load_demo()
        db.session.commit()
    return "dispatcher@evercold.example"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width,height", [(390, 844), (1440, 900)])
def test_paused_cards_are_blue_with_reason_and_length(live, demo, page, screenshot, width, height):
    page.set_viewport_size({"width": width, "height": height})
    login(page, live.url, demo, "evercold")
    page.goto(f"{live.url}/dispatcher/tickets?q=&priority=")
    paused = page.locator("article.tcard.sla-paused")
    assert paused.count() >= 1
    badge = paused.first.locator(".sla.sla-paused")
    text = badge.inner_text()
    assert text.startswith("Paused · ") and text.count("·") == 2
    # Neither red nor amber: the slate blue of a paused clock.
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(52, 69, 106)"
    assert paused.first.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(91, 107, 140)"
    assert _no_horizontal_scroll(page)
    paused.first.scroll_into_view_if_needed()
    screenshot(page, f"board-paused-{width}x{height}")
    page.locator(".board-col-in_progress").screenshot(path=str(ARTIFACTS / f"board-paused-column-{width}.png"))


def test_the_pauses_table_on_the_analytics_page(live, demo, page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live.url, demo, "evercold")
    page.goto(f"{live.url}/dispatcher/analytics?preset=quarter#pauses")
    table = page.locator("#table-pauses-reason")
    assert table.locator("tbody tr").count() == 5  # every reason
    assert "csv" in table.locator("a.an-csv").get_attribute("href")
    page.locator(".an-switch a", has_text="By technician").click()
    page.wait_for_url("**pausesBy=technician**")
    assert page.locator("#table-pauses-technician tbody tr").count() >= 3
    assert _no_horizontal_scroll(page)
    page.locator("#pauses").screenshot(path=str(ARTIFACTS / "analytics-pauses-390.png"))
