"""The bell and /notifications in real headless Chromium: the unread count in the
header refreshes by itself (htmx polling, driven by Playwright's clock — no sleeps),
marking read updates it at once; the profile page at phone and desktop widths."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def unassigned_tickets(live, world, n: int, start: int = 0) -> None:
    """n tickets on a branch with no technician: both dispatchers hear of each."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import CustomerBranch, User
    from tests.factories import make_branch, make_ticket

    with live.ctx():
        branch = db.session.execute(
            select(CustomerBranch).where(CustomerBranch.branch_code == "FM-009")).scalar_one_or_none()
        if branch is None:
            from app.models import Customer

            customer = db.session.get(Customer, world.ids["customer"])
            branch = make_branch(customer, "FM-009", "Freshmart Lonely & Co")
        admin = db.session.get(User, world.ids["admin"])
        sub_world = type("W", (), {"subcategory": _cold_chambers(), "dispatcher": admin, "branch": branch})
        for i in range(start, start + n):
            make_ticket(sub_world, by=admin, description=f"Display fridge #{i} at 9°C, door seal <torn> & icing")
        db.session.commit()


def _cold_chambers():
    from sqlalchemy import select

    from app.extensions import db
    from app.models import IssueSubcategory

    return db.session.execute(select(IssueSubcategory).where(IssueSubcategory.name == "Cold Chambers")).scalar_one()


def test_bell_counts_unread_and_notifications_page_marks_read(live, live_world, page, screenshot):
    unassigned_tickets(live, live_world, 3)
    page.clock.install()
    page.set_viewport_size(PHONE)
    login(page, live.url, live_world.emails["dispatcher"])

    count = page.locator("#bell .bell-count")
    expect(count).to_have_text("3")
    expect(page.locator("#bell")).to_contain_text("3 unread")

    # A new notification shows up on the bell by itself within the 30 s poll.
    unassigned_tickets(live, live_world, 1, start=3)
    page.clock.run_for(31_000)
    expect(count).to_have_text("4")

    page.click("#bell")
    expect(page).to_have_url(f"{live.url}/notifications")
    expect(page.locator(".notif.is-unread")).to_have_count(4)
    expect(page.locator("#unread-summary")).to_have_text("4 unread")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "notif-notifications-390x844")

    page.locator(".notif.is-unread").first.get_by_role("button", name="Mark read").click()
    expect(page.locator(".notif.is-unread")).to_have_count(3)
    expect(page.locator("#unread-summary")).to_have_text("3 unread")
    expect(count).to_have_text("3")  # the bell heard notificationsChanged

    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".notif.is-unread")).to_have_count(0)
    expect(page.locator("#unread-summary")).to_have_text("All read")
    expect(count).to_have_count(0)

    page.set_viewport_size(DESKTOP)
    page.reload()
    expect(page.locator(".notif")).to_have_count(4)
    screenshot(page, "notif-notifications-1440x900")

    page.get_by_role("link", name="Unread").click()
    expect(page.get_by_text("You are all caught up.")).to_be_visible()


def test_profile_page_at_phone_and_desktop_widths(live, live_world, page, screenshot):
    live.app.config["TELEGRAM_BOT_TOKEN"] = "1:x"
    live.app.config["TELEGRAM_BOT_USERNAME"] = "EvercoldDeskBot"
    try:
        page.set_viewport_size(PHONE)
        login(page, live.url, live_world.emails["tech"])
        page.click("a.profile-link")
        expect(page).to_have_url(f"{live.url}/profile")
        page.fill("input[name=phone]", "+998 90 555 44 33")
        page.check("input[name=notify_sms]")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_have_text("Your notification settings are saved.")
        expect(page.locator("input[name=phone]")).to_have_value("+998 90 555 44 33")

        page.get_by_role("button", name="Link Telegram").click()
        link = page.get_by_role("link", name="Open Telegram")
        expect(link).to_have_attribute("href", __import__("re").compile(r"^https://t\.me/EvercoldDeskBot\?start=[\w-]{20,}$"))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "notif-profile-390x844")

        page.set_viewport_size(DESKTOP)
        page.reload()
        screenshot(page, "notif-profile-1440x900")
    finally:
        live.app.config["TELEGRAM_BOT_TOKEN"] = ""
        live.app.config["TELEGRAM_BOT_USERNAME"] = ""
