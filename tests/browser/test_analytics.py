"""The analytics page in a real browser: a quarter of demo work (played through the
services by `flask demo`), at desktop and phone sizes, with screenshots."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.browser.conftest import login

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def demo(live, monkeypatch):
    """The demo data set ending at NOW, in Tashkent time; the clock stays at NOW."""
    from app.demo import load_demo
    from app.extensions import db
    from app import clock

    monkeypatch.setitem(live.app.config, "APP_TIMEZONE", "Asia/Tashkent")
    clock.set_now(NOW)
    with live.ctx():
        load_demo()
        db.session.commit()
    return "dispatcher@evercold.example"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_analytics_on_a_desktop_shows_charts_tables_and_follows_filters(live, demo, page, screenshot):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live.url, demo, "evercold")
    page.goto(f"{live.url}/dispatcher/analytics?preset=quarter")
    assert page.locator("h1").inner_text() == "Analytics"
    assert page.locator("svg.an-svg circle.an-response").count() > 0  # weekly compliance
    assert page.locator("svg.an-svg rect.an-parts").count() > 0  # cost per month
    assert page.locator(".an-rank li").count() > 0  # branch ranking
    assert page.locator("a.an-csv").count() >= 16
    assert _no_horizontal_scroll(page)
    screenshot(page, "analytics-dashboard-1440x900")

    # A filter applies at once and lands in the URL (htmx pushes it).
    page.select_option("select[name=priority]", "CRITICAL")
    page.wait_for_url("**priority=CRITICAL**")
    page.wait_for_load_state("networkidle")
    assert "Priority: Critical" in page.locator(".an-range").inner_text()
    csv_href = page.locator("#table-sla-branch a.an-csv").get_attribute("href")
    assert "csv" in csv_href and "priority=CRITICAL" in csv_href

    # Reloading the pushed URL shows the same filtered page.
    page.reload()
    assert page.locator("select[name=priority]").input_value() == "CRITICAL"


def test_analytics_on_a_phone_fits_the_screen(live, demo, page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live.url, demo, "evercold")
    page.goto(f"{live.url}/dispatcher/analytics?preset=quarter")
    assert _no_horizontal_scroll(page)
    assert page.locator("svg.an-svg").first.is_visible()
    screenshot(page, "analytics-dashboard-390x844")


def test_custom_period_with_the_end_before_the_start_explains_itself(live, demo, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live.url, demo, "evercold")
    page.goto(f"{live.url}/dispatcher/analytics")
    page.select_option("select[name=preset]", "custom")
    page.fill("input[name=from]", "2026-11-10")
    page.fill("input[name=to]", "2026-11-01")
    page.click("button:has-text('Apply')")
    page.wait_for_selector(".field-error")
    assert "on or after the start" in page.locator(".field-error").inner_text()
    assert page.locator("input[name=from]").input_value() == "2026-11-10"
