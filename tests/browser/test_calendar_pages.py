"""The working-calendar form in real Chromium on a phone (390 px) and a desktop (1440 px):
fill the week grid with a lunch break, copy Monday with the quick buttons (in the page,
no round trip), close Sunday, add a holiday, pick the country, save, and give a branch
the calendar. Screenshots: artifacts/screenshots/calendar-*.png."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

SIZES = {"390": {"width": 390, "height": 844}, "1440": {"width": 1440, "height": 900}}


@pytest.mark.parametrize("size", list(SIZES))
def test_the_week_grid_is_quick_to_fill_and_saves(live, live_world, page, screenshot, size):
    page.set_viewport_size(SIZES[size])
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/dispatcher/calendars")
    expect(page.locator(".empty-state")).to_contain_text("No working calendars yet.")
    page.click("text=New calendar")
    page.fill("#name", "Company week")
    # Monday: 08:00-13:00 and, behind "+ Add interval", 14:00-18:00.
    monday = page.locator("[data-day=mon]")
    expect(monday.locator("[data-slot='1']")).to_be_hidden()
    page.fill("#mon-0-start", "08:00")
    page.fill("#mon-0-end", "13:00")
    monday.locator("[data-add-slot]").click()
    expect(monday.locator("[data-slot='1']")).to_be_visible()
    page.fill("#mon-1-start", "14:00")
    page.fill("#mon-1-end", "18:00")
    url_before = page.url
    page.click("button[data-copy=weekdays]")
    assert page.url == url_before  # copied in the page
    expect(page.locator("#fri-1-start")).to_have_value("14:00")
    expect(page.locator("#sat-1-start")).to_have_value("")  # Saturday is not a weekday here
    # Saturday stays open with its own hours; Sunday is closed.
    expect(page.locator("#sun-0-start")).to_be_hidden()
    page.fill("#newHoliday", "2026-12-31")
    screenshot(page, f"calendar-new-{size}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
    page.click("button[value=add-holiday]")
    expect(page.locator(".holiday-list")).to_contain_text("Thu, 31 Dec 2026")
    expect(page.locator("#fri-1-end")).to_have_value("18:00")  # the round trip kept the grid
    page.click("form[data-calendar-form] .form-actions button[value=save]")
    expect(page.locator(".flash")).to_contain_text("Calendar Company week saved.")
    expect(page.locator("body")).to_contain_text("Normal response: 1,440 working minutes")
    # Give a branch the calendar.
    page.locator("label.branch-pick", has_text="FM-001").locator("input").check()
    page.click("text=Save branches")
    expect(page.locator(".flash")).to_contain_text("Branches of Company week saved.")
    screenshot(page, f"calendar-edit-{size}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
    page.goto(f"{live.url}/dispatcher/calendars")
    row = page.locator("tr", has_text="Company week")
    expect(row).to_contain_text("Mon–Fri 08:00–13:00, 14:00–18:00; Sat 08:00–20:00")
    expect(row).to_contain_text("FM-001")
    screenshot(page, f"calendar-list-{size}")

    from app.extensions import db
    from app.models import WorkingCalendar

    with live.ctx():
        cal = db.session.query(WorkingCalendar).one()
        assert cal.week["wed"] == [["08:00", "13:00"], ["14:00", "18:00"]] and cal.week["sun"] == []
        assert cal.holidays == ["2026-12-31"] and cal.country == "UZ"


def test_a_night_shift_shows_its_message_at_the_day_on_a_phone(live, live_world, page, screenshot):
    page.set_viewport_size(SIZES["390"])
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/dispatcher/calendars/new")
    page.fill("#name", "Night")
    page.fill("#fri-0-start", "22:00")
    page.fill("#fri-0-end", "06:00")
    page.click("form[data-calendar-form] .form-actions button[value=save]")
    expect(page.locator("#week-fri-error")).to_contain_text("split it into two intervals")
    expect(page.locator("#fri-0-start")).to_be_focused()
    screenshot(page, "calendar-error-390")
    # Another country: its public holidays come up under the picker (htmx), nothing saved.
    page.select_option("#country", "KZ")
    expect(page.locator("#country-holidays")).to_contain_text("Public holidays of Kazakhstan in")
    # "Another timezone" shows the box to type it in.
    expect(page.locator("#timezoneOther")).to_be_hidden()
    page.select_option("#timezone", "")
    expect(page.locator("#timezoneOther")).to_be_visible()
