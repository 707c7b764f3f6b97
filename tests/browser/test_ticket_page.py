"""The one ticket page (/tickets/<id>) in real Chromium: the technician on a 390 px phone
(big Accept / On site / Complete buttons that work), the dispatcher on a 1440 px
desktop (side panel of controls), screenshots under artifacts/screenshots/, and
axe-core finds no serious or critical accessibility violation on either.

axe-core runs through tests/browser/axe.py (vendored, injected into a context that
bypasses the page's CSP)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import axe_violations
from tests.browser.conftest import login
from tests.browser.test_technician import MOBILE_UA, NEAR_BRANCH, accepted_ticket, assert_fits_the_phone, new_ticket

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
BIG_TAP = 48  # px: a gloved thumb


@pytest.fixture
def context_for(browser):
    contexts = []

    def _open(viewport, **options):
        context = browser.new_context(viewport=viewport, bypass_csp=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield _open
    for context in contexts:
        context.close()


def test_the_technician_accepts_arrives_and_completes_from_the_page_on_a_phone(live, live_world, context_for,
                                                                                   screenshot):
    ticket_id = new_ticket(live, live_world)
    page = context_for(PHONE, has_touch=True, is_mobile=True, user_agent=MOBILE_UA,
                       geolocation=NEAR_BRANCH, permissions=["geolocation"])
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tickets/{ticket_id}")
    accept = page.get_by_role("button", name="Accept")
    decline = page.locator("summary", has_text="Decline")
    for target in (accept, decline):
        box = target.bounding_box()
        assert box["height"] >= BIG_TAP and box["width"] >= 150, box
    assert page.locator("aside[aria-label='Dispatcher actions']").count() == 0
    assert_fits_the_phone(page)
    screenshot(page, "ticket-page-technician-assigned-390x844")
    assert axe_violations(page) == []

    accept.tap()
    expect(page.locator(".flash")).to_contain_text("Accepted")
    on_site = page.get_by_role("button", name="I'm on site")
    assert on_site.bounding_box()["height"] >= BIG_TAP
    on_site.tap()
    expect(page.locator(".flash")).to_contain_text("Arrival recorded")
    expect(page.locator(".tp-timeline")).to_contain_text("Arrived on site")
    complete = page.get_by_role("link", name="Complete job")
    assert complete.bounding_box()["height"] >= BIG_TAP
    assert_fits_the_phone(page)
    screenshot(page, "ticket-page-technician-on-site-390x844")
    assert axe_violations(page) == []
    complete.tap()
    page.wait_for_url(f"**/tech/tickets/{ticket_id}/complete")


def test_the_dispatcher_page_on_a_desktop(live, live_world, context_for, screenshot):
    ticket_id = accepted_ticket(live, live_world)
    page = context_for(DESKTOP)
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/tickets/{ticket_id}")
    aside = page.locator("aside[aria-label='Dispatcher actions']")
    main = page.locator(".tp-col")
    a, m = aside.bounding_box(), main.bounding_box()
    assert a["x"] > m["x"] + m["width"] - 1, "the controls sit beside the ticket on a wide screen"
    assert page.get_by_role("button", name="Accept").count() == 0
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "ticket-page-dispatcher-1440x900")
    assert axe_violations(page) == []


def test_the_store_manager_follows_the_ticket_and_adds_a_note_and_a_photo_on_a_phone(live, live_world, context_for,
                                                                                    screenshot, tmp_path):
    from tests.factories import jpeg_bytes

    ticket_id = accepted_ticket(live, live_world)
    page = context_for(PHONE, has_touch=True, is_mobile=True, user_agent=MOBILE_UA)
    login(page, live.url, live_world.emails["manager"])
    page.goto(f"{live.url}/tickets/{ticket_id}")
    expect(page.locator(".tp-clocks")).to_contain_text("Must be fixed by")
    expect(page.locator(".tp-timeline")).to_contain_text("Accepted by the technician")

    page.fill("#store-note", "The alarm went off again at 14:00")
    add_note = page.get_by_role("button", name="Add note")
    assert add_note.bounding_box()["height"] >= BIG_TAP
    add_note.tap()
    # The confirmation is beside the form the page comes back scrolled to, on screen.
    expect(page.locator("#store-added")).to_contain_text("Your note was added to the timeline")
    expect(page.locator("#store-added")).to_be_in_viewport()
    expect(page.locator(".tp-timeline")).to_contain_text("Store note: The alarm went off again at 14:00")

    photo = tmp_path / "leak.jpg"
    photo.write_bytes(jpeg_bytes(color=(200, 30, 30)))
    # A big phone photo is shrunk on the phone before it goes up, and shown first.
    from PIL import Image

    Image.new("RGB", (4000, 3000), (200, 30, 30)).save(photo, "JPEG", quality=95)
    page.set_input_files("#store-photo", str(photo))
    expect(page.locator("#store-photo-preview")).to_be_visible()
    expect(page.locator("#store-photo-status")).to_contain_text("Photo ready")
    size = page.evaluate("document.getElementById('store-photo').files[0]")
    width = page.evaluate("createImageBitmap(document.getElementById('store-photo').files[0]).then(b => b.width)")
    assert width == 2048, (width, size)
    page.fill("#store-caption", "Water under the fridge")
    page.get_by_role("button", name="Add photo").tap()
    expect(page.locator("#store-added")).to_contain_text("Your photo was added")
    expect(page.locator("#store-added")).to_be_in_viewport()
    expect(page.locator("#photos img[alt*='Water under the fridge']")).to_be_visible()
    # Its caption shows under the thumbnail and in the viewer.
    expect(page.locator("#photos .tp-photo-caption")).to_have_text("Water under the fridge")
    page.locator("#photos a.photo-link").last.tap()
    expect(page.locator("#photo-viewer-caption")).to_have_text("Water under the fridge")
    page.get_by_role("button", name="Close").tap()
    assert_fits_the_phone(page)
    screenshot(page, "ticket-page-store-manager-added-390x844")
    assert axe_violations(page) == []
