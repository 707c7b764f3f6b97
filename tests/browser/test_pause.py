"""Pausing the repair clock from the ticket page in real Chromium: the technician on a
390 px phone taps "Pause work", one reason chip, confirms, reads the paused banner and
taps "Resume work"; the dispatcher's 1440 px page shows the same controls. Screenshots
under artifacts/screenshots/; axe finds no serious or critical violation."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.axe import axe_violations
from tests.browser.conftest import login
from tests.browser.test_technician import MOBILE_UA, accepted_ticket, assert_fits_the_phone
from tests.browser.test_ticket_page import BIG_TAP, DESKTOP, PHONE, context_for  # noqa: F401 (fixture)


def test_the_technician_pauses_and_resumes_on_a_phone(live, live_world, context_for, screenshot):
    ticket_id = accepted_ticket(live, live_world)
    page = context_for(PHONE, has_touch=True, is_mobile=True, user_agent=MOBILE_UA)
    page.clock.install()  # the page's clock, to move past the double-tap guard instead of waiting
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tickets/{ticket_id}")

    open_pause = page.locator("summary", has_text="Pause work")
    assert open_pause.bounding_box()["height"] >= BIG_TAP
    open_pause.tap()
    chips = page.locator(".tp-chip")
    expect(chips).to_have_count(5)
    for i in range(5):
        box = chips.nth(i).bounding_box()
        assert box["height"] >= BIG_TAP and box["width"] >= 150, box
    chips.filter(has_text="Waiting for parts").tap()  # one tap chooses
    expect(page.locator("input[value=WAITING_PARTS]")).to_be_checked()
    page.fill("#pause-note", "Compressor ordered, arrives Monday")
    assert_fits_the_phone(page)
    screenshot(page, "ticket-pause-reasons-390x844")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Pause the repair clock").tap()
    expect(page.locator(".flash")).to_contain_text("Work paused: Waiting for parts")
    banner = page.locator(".tp-paused")
    expect(banner).to_contain_text("Paused · Waiting for parts · just now")
    expect(banner).to_contain_text("Compressor ordered, arrives Monday")
    expect(page.locator(".tp-clock.tp-sla-paused")).to_contain_text("Resolution: paused")
    expect(page.locator(".tp-timeline")).to_contain_text("Paused: Waiting for parts — Compressor ordered")
    resume = page.get_by_role("button", name="Resume work")
    assert resume.bounding_box()["height"] >= BIG_TAP
    assert_fits_the_phone(page)
    screenshot(page, "ticket-paused-390x844")
    assert axe_violations(page) == []

    page.clock.fast_forward(1000)  # past the guard against a double tap's second tap (data-settle="load")
    resume.tap()
    expect(page.locator(".flash")).to_contain_text("Work resumed")
    expect(page.locator(".tp-timeline")).to_contain_text("Resumed after")
    expect(page.locator(".tp-paused")).to_have_count(0)

    page.goto(f"{live.url}/tech/dashboard")
    expect(page.locator(f"#ticket-{ticket_id} .sla-paused")).to_have_count(0)


def test_the_dispatcher_pauses_on_a_desktop(live, live_world, context_for, screenshot):
    ticket_id = accepted_ticket(live, live_world)
    page = context_for(DESKTOP)
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/tickets/{ticket_id}")
    page.locator("summary", has_text="Pause work").click()
    page.locator(".tp-chip", has_text="Other reason").click()
    page.get_by_role("button", name="Pause the repair clock").click()
    expect(page.locator("#pause-note-error")).to_contain_text("Say why the work is paused.")
    page.fill("#pause-note", "Store closed for inventory until Friday")
    page.get_by_role("button", name="Pause the repair clock").click()
    expect(page.locator(".tp-paused")).to_contain_text("Paused · Other reason")
    screenshot(page, "ticket-paused-dispatcher-1440x900")
    assert axe_violations(page) == []

    # The technician's queue card: "Paused", not red.
    tech = context_for(PHONE, has_touch=True, is_mobile=True, user_agent=MOBILE_UA)
    login(tech, live.url, live_world.emails["tech"])
    tech.goto(f"{live.url}/tech/dashboard")
    card = tech.locator(f"#ticket-{ticket_id}")
    expect(card.locator(".sla-paused")).to_contain_text("Paused · Other reason")
    assert "tcard-paused" in card.get_attribute("class")
    screenshot(tech, "tech-queue-paused-390x844")
