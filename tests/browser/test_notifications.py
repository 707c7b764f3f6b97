"""The bell and /notifications in real headless Chromium: the unread count in the
header refreshes by itself (htmx polling, driven by Playwright's clock — no sleeps),
marking read updates it at once; the profile page at phone and desktop widths."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_ticket_page import axe_violations

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe-core is injected as a script: the test's browser lets it past the CSP."""
    return {**browser_context_args, "bypass_csp": True}


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

    page.locator(".inbox-group.has-unread").first.get_by_role("button", name=re.compile("^Mark read")).click()
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


def _store_manager_inbox(live, world, tickets: int = 14) -> list[str]:
    """A store manager's month: `tickets` reports of theirs, each with its confirmation
    and two "ready for your approval" (the first sent back), ~3 items a ticket, spread
    over the last days; the newest two tickets unread, the rest read. Ticket numbers."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from app import clock
    from app.extensions import db
    from app.models import Notification, User
    from app.services import notifications
    from tests.factories import make_ticket

    numbers = []
    with live.ctx():
        manager = db.session.get(User, world.ids["manager"])
        sub_world = type("W", (), {"subcategory": _cold_chambers(), "dispatcher": manager,
                                   "branch": manager.branches[0]})
        now = clock.now()
        for i in range(tickets):
            ticket = make_ticket(sub_world, by=manager, description=f"Display fridge #{i} at 9°C")
            notifications.notify("ticket_completed", ticket, None)
            notifications.notify("ticket_completed", ticket, None)
            db.session.flush()
            rows = db.session.execute(select(Notification).where(
                Notification.ticket_id == ticket.id, Notification.user_id == manager.id)).scalars().all()
            for j, row in enumerate(sorted(rows, key=lambda r: (r.kind != "ticket_created", r.id))):
                row.created_at = now - timedelta(hours=(tickets - i) * 7, minutes=30 - j * 10)
            numbers.append(ticket.ticket_number)
        db.session.execute(update(Notification).where(Notification.user_id == manager.id,
                                                      Notification.ticket_id.notin_([])).values(read_at=now))
        db.session.commit()
        newest = db.session.execute(select(Notification.ticket_id).where(Notification.user_id == manager.id)
                                    .order_by(Notification.created_at.desc())).scalars().all()
        keep_unread = list(dict.fromkeys(newest))[:2]
        db.session.execute(update(Notification).where(Notification.user_id == manager.id,
                                                      Notification.ticket_id.in_(keep_unread)).values(read_at=None))
        db.session.commit()
    return numbers


def test_a_store_managers_inbox_of_40_items_is_short_on_a_phone(live, live_world, page, screenshot):
    numbers = _store_manager_inbox(live, live_world)
    page.set_viewport_size(PHONE)
    login(page, live.url, live_world.emails["manager"])
    page.goto(f"{live.url}/notifications")

    groups = page.locator(".inbox-group")
    expect(groups).to_have_count(14)
    # Grouped by ticket, the latest first; each group says how many items it holds.
    expect(groups.first.locator(".inbox-ticket")).to_contain_text(numbers[-1])
    expect(groups.first.locator(".inbox-count")).to_have_text("3 new")
    expect(groups.nth(5).locator(".inbox-count")).to_have_text("3 updates")
    expect(page.locator(".notif.is-unread")).to_have_count(6)
    # One line per item with a relative time, the exact local time on hover / for readers.
    first = page.locator(".notif").first
    assert first.bounding_box()["height"] <= 48
    expect(first.locator("time")).to_have_attribute("title", re.compile(r"^\d{1,2} \w{3}( \d{4})? \d\d:\d\d UTC$"))
    expect(first.locator("time")).to_have_text(re.compile(r"ago$"))
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, height  # each group names its branch, subject and status (issue 15 walk)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations(page) == []
    screenshot(page, "notif-inbox-manager-390x844")

    # The earlier items of a ticket unfold in place.
    group = groups.nth(5)
    group.locator("summary").click()
    expect(group.locator(".notif")).to_have_count(3)
    expect(group).to_contain_text("received: assigned to Timur Primary, who must respond by")

    # A group's "Mark read" reads its items at once and the bell follows.
    groups.first.get_by_role("button", name=re.compile("^Mark read")).click()
    expect(page.locator(".notif.is-unread")).to_have_count(3)
    expect(page.locator("#bell .bell-count")).to_have_text("3")

    page.set_viewport_size(DESKTOP)
    page.reload()
    assert axe_violations(page) == []
    screenshot(page, "notif-inbox-manager-1440x900")


def test_a_technician_taken_off_a_ticket_sees_the_old_item_marked(live, live_world, page, screenshot):
    from app.extensions import db
    from app.models import User
    from app.services import tickets
    from tests.factories import make_ticket

    with live.ctx():
        manager = db.session.get(User, live_world.ids["manager"])
        dispatcher = db.session.get(User, live_world.ids["dispatcher"])
        sub_world = type("W", (), {"subcategory": _cold_chambers(), "dispatcher": manager,
                                   "branch": manager.branches[0]})
        ticket = make_ticket(sub_world, by=manager)
        db.session.commit()
        tickets.assign(ticket, live_world.ids["secondary"], dispatcher)
        db.session.commit()
        number = ticket.ticket_number

    page.set_viewport_size(PHONE)
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/notifications")
    group = page.locator(".inbox-group").first
    expect(group.locator(".inbox-ticket")).to_contain_text(number)
    expect(group.locator(".notif.is-unread")).to_have_text(re.compile("Given to someone else"))
    group.locator("summary").click()
    stale = group.locator(".notif.is-stale")
    # Only that they were taken off: no struck "Assigned to you" beside it.
    expect(stale.locator(".notif-text")).to_have_text("Taken off this ticket")
    assert axe_violations(page) == []
    screenshot(page, "notif-taken-off-390x844")

    stale.get_by_role("button").click()
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.get_by_role("button", name="Accept")).to_have_count(0)


def test_each_inbox_group_shows_its_branch_and_status_in_full_on_a_phone(live, live_world, page, screenshot):
    """Issue 15 walk: at 390 px the subject was cut ("Temper…") and the branch never
    showed. The number and branch share a line, the subject has its own, and the
    group's "Mark read" says so in words."""
    unassigned_tickets(live, live_world, 2)
    page.set_viewport_size(PHONE)
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/notifications")

    group = page.locator(".inbox-group").first
    branch = group.locator(".inbox-branch")
    expect(branch).to_have_text("Freshmart Lonely & Co")
    expect(branch).to_be_in_viewport(ratio=1)
    clipped = branch.evaluate("e => e.scrollWidth > e.clientWidth || e.getBoundingClientRect().right > innerWidth")
    assert not clipped
    expect(group.locator(".inbox-subject")).to_have_text("Cold Chambers")
    expect(group.locator(".inbox-status")).to_have_text("Waiting for a technician")
    expect(group.get_by_role("button", name=re.compile("^Mark read"))).to_have_text(re.compile("Mark read"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations(page) == []
    screenshot(page, "notif-inbox-branch-390x844")
