"""Times and money in a real browser whose own zone is not the app's: a phone in New York
working for a company in Tashkent sees Tashkent times (server- and browser-written), one
24-hour style, and amounts with their currency."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import login
from tests.browser.test_technician import MOBILE_UA, NEAR_BRANCH, PHONE, accepted_ticket
from tests.browser.test_ticket_page import axe_violations

NOW = datetime(2026, 12, 7, 9, 25, tzinfo=timezone.utc)  # 14:25 in Tashkent, 04:25 in New York
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def tashkent(live):
    """The live app in Asia/Tashkent with its clock at NOW (the server thread shares it)."""
    from app import clock

    old = live.app.config["APP_TIMEZONE"]
    live.app.config["APP_TIMEZONE"] = "Asia/Tashkent"
    clock.set_now(NOW)
    yield
    clock.set_now(None)
    live.app.config["APP_TIMEZONE"] = old


@pytest.fixture
def new_york(browser):
    """new_york(viewport, **options) -> a page in a browser context set to New York time."""
    contexts = []

    def _open(viewport, **options):
        context = browser.new_context(viewport=viewport, timezone_id="America/New_York", bypass_csp=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield _open
    for context in contexts:
        context.close()


def test_a_phone_in_new_york_shows_tashkent_times_and_the_offices_rate(live, live_world, tashkent, new_york,
                                                                        screenshot):
    from app.extensions import db
    from app.models import ServiceTicket, Technician

    ticket_id = accepted_ticket(live, live_world)
    with live.ctx():
        db.session.get(Technician, live_world.ids["primary"]).labor_rate = Decimal("60.00")
        db.session.commit()
        due = db.session.get(ServiceTicket, ticket_id).resolution_due_at
    due_text = due.astimezone(ZoneInfo("Asia/Tashkent")).strftime("%-d %b %H:%M") + " UTC+5"

    page = new_york(PHONE, has_touch=True, is_mobile=True, user_agent=MOBILE_UA,
                    permissions=["geolocation"], geolocation=NEAR_BRANCH)
    page.clock.install(time=NOW)
    assert page.evaluate("new Date().getHours()") == 4  # the phone's own clock says 04:25
    login(page, live.url, live_world.emails["tech"])
    page.locator("[data-geo-state=sent]").wait_for()
    # Written by the browser, in the app's zone and 24-hour style: not the phone's 4:25 AM.
    assert page.locator("[data-geo-time]").inner_text() == "14:25 UTC+5"
    card = page.locator(f"#ticket-{ticket_id}")
    assert f"due {due_text}" in card.inner_text()
    screenshot(page, "time-tech-queue-new-york-phone")

    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    assert page.locator("#labor-rate").inner_text() == "$60.00"
    assert page.locator("input[name=laborCostPerHour]").count() == 0
    page.fill("input[name=laborHours]", "2")
    page.locator("[data-total]").filter(has_text="$120.00").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "money-complete-rate-phone")


def test_the_dispatcher_sets_a_rate_and_reads_places_and_sla_times_in_words(live, live_world, tashkent, new_york,
                                                                             screenshot):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_york(viewport)
        login(page, live.url, live_world.emails["dispatcher"])
        page.goto(f"{live.url}/dispatcher/technicians/{live_world.ids['primary']}")
        rate = page.get_by_label("Labour rate per hour (USD)")
        assert rate.get_attribute("placeholder") == "45.00"
        assert axe_violations(page) == []
        screenshot(page, f"words-technician-form-{name}")

        page.goto(f"{live.url}/dispatcher/categories")
        row = page.locator("tr", has_text="Cold Chambers").first
        assert "1 day" in row.inner_text() and "1440" not in row.inner_text()
        assert axe_violations(page) == []
        screenshot(page, f"words-categories-{name}")

        page.goto(f"{live.url}/dispatcher/branches")
        link = page.get_by_role("link", name="Open in map (FM-001)")
        assert link.get_attribute("href") == "https://maps.google.com/?q=41.311100,69.279700"
        assert "41.311, 69.280" in page.locator("tr", has_text="FM-001").inner_text()
        assert axe_violations(page) == []
        screenshot(page, f"words-branches-{name}")

    page.goto(f"{live.url}/dispatcher/technicians/{live_world.ids['primary']}")
    page.get_by_label("Labour rate per hour (USD)").fill("60")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    from app.extensions import db
    from app.models import Technician

    with live.ctx():
        assert db.session.get(Technician, live_world.ids["primary"]).labor_rate == Decimal("60.00")
