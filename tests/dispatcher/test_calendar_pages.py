"""The dispatcher's working-calendar pages (issue 19, item 5): the list, the create and
edit form (week grid, holidays, country, timezone), errors next to the field with
nothing saved, the stale-version message, giving branches a calendar (from the calendar
and from the branch page), and the plain words about working minutes."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import CustomerBranch, WorkingCalendar
from app.services import calendar_admin

WEEK_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def week_form(**days) -> dict:
    """The grid's fields: days={"mon": [("08:00", "20:00")], ...}; a day not given is closed."""
    data = {}
    for day in WEEK_DAYS:
        intervals = days.get(day) or []
        if not intervals:
            data[f"{day}-closed"] = "y"
        for i, (start, end) in enumerate(intervals):
            data[f"{day}-{i}-start"], data[f"{day}-{i}-end"] = start, end
    return data


COMPANY = {d: [("08:00", "20:00")] for d in WEEK_DAYS[:6]}


def make_calendar(actor, name="Company week", **extra):
    data = {"name": name, "timezone": "Asia/Tashkent", "country": "UZ",
            "week": {d: [list(i) for i in COMPANY.get(d, [])] for d in WEEK_DAYS}, "holidays": []}
    data.update(extra)
    cal = calendar_admin.create_calendar(data, actor)
    db.session.commit()
    return cal


def test_the_list_is_empty_with_a_new_calendar_button_then_shows_each_calendar(world, as_dispatcher):
    html = as_dispatcher.get("/dispatcher/calendars").get_data(as_text=True)
    assert "No working calendars yet." in html and 'href="/dispatcher/calendars/new"' in html
    cal = make_calendar(world.dispatcher, holidays=["2026-12-08", "2026-12-31"])
    world.branch.calendar_id = cal.id
    db.session.commit()
    html = as_dispatcher.get("/dispatcher/calendars").get_data(as_text=True)
    row = html.split("Company week", 1)[1].split("</tr>", 1)[0]
    assert "Mon–Sat 08:00–20:00" in row and "Asia/Tashkent" in row
    assert "2 own dates" in row and "public holidays of Uzbekistan" in row and "FM-001" in row
    assert 'class="active">Calendars' in html or "active" in html.split('href="/dispatcher/calendars"', 1)[1][:40]


def test_a_calendar_is_created_from_the_grid_with_a_lunch_break_and_holidays(world, as_dispatcher):
    form = as_dispatcher.get("/dispatcher/calendars/new").get_data(as_text=True)
    # A new calendar starts as the company week in Tashkent with Uzbekistan's holidays.
    assert 'name="mon-0-start" value="08:00"' in form and 'name="sun-closed" value="y" data-closed checked' in form
    assert re.search(r'<option value="Asia/Tashkent" selected>Tashkent · UTC\+5</option>', form)
    assert '<option value="UZ" selected>Uzbekistan</option>' in form
    assert "Public holidays of Uzbekistan in 2026:" in form and "1 Jan" in form and "New Year" in form
    resp = as_dispatcher.post("/dispatcher/calendars/new", data={
        "name": "Office", "timezone": "Asia/Tashkent", "country": "UZ", "holidays": ["2026-12-31"],
        "newHoliday": "2026-12-08", "action": "save",
        **week_form(mon=[("08:00", "13:00"), ("14:00", "18:00")], tue=[("8:00", "00:00")])})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    cal = db.session.query(WorkingCalendar).filter_by(name="Office").one()
    assert cal.week["mon"] == [["08:00", "13:00"], ["14:00", "18:00"]]
    assert cal.week["tue"] == [["08:00", "24:00"]]  # an end of 00:00 is midnight
    assert cal.week["sun"] == [] and cal.holidays == ["2026-12-08", "2026-12-31"] and cal.country == "UZ"
    page = as_dispatcher.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Calendar Office saved." in page
    assert "Tue, 8 Dec 2026" in page and "Thu, 31 Dec 2026" in page  # sorted, with the weekday
    assert page.index("8 Dec 2026") < page.index("31 Dec 2026")


def test_a_night_shift_is_refused_next_to_its_day_and_nothing_is_saved(world, as_dispatcher):
    resp = as_dispatcher.post("/dispatcher/calendars/new", data={
        "name": "Nights", "timezone": "Asia/Tashkent", "country": "", "action": "save",
        **week_form(mon=[("08:00", "20:00")], fri=[("22:00", "06:00")])})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    day = html.split('id="week-fri"', 1)[1].split('id="week-sat"', 1)[0]
    assert "split it into two intervals" in day and 'id="week-fri-error"' in day
    assert 'value="22:00"' in day  # what was typed stays
    assert "Nothing was saved" in html
    assert db.session.query(WorkingCalendar).count() == 0


@pytest.mark.parametrize("fields,where,message", [
    ({"name": ""}, "name", "This field is required."),
    ({"timezone": "", "timezoneOther": "Mars/Olympus"}, "timezone", "Unknown timezone: Mars/Olympus."),
    ({"mon-1-start": "13:00", "mon-1-end": ""}, "week-mon", "Give each interval a start and an end time."),
    ({"mon-1-start": "12:00", "mon-1-end": "15:00"}, "week-mon", "must not overlap"),
])
def test_errors_are_shown_next_to_the_field_and_nothing_is_saved(world, as_dispatcher, fields, where, message):
    cal = make_calendar(world.dispatcher)
    data = {"name": "Company week", "timezone": "Asia/Tashkent", "country": "UZ", "version": str(cal.version),
            "action": "save", **week_form(**COMPANY)}
    data.update(fields)
    resp = as_dispatcher.post(f"/dispatcher/calendars/{cal.id}", data=data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    error = re.search(rf'id="{where}-error">([^<]*)<', html)
    assert error and message in error.group(1), html[:3000]
    db.session.expire_all()
    assert db.session.get(WorkingCalendar, cal.id).week["mon"] == [["08:00", "20:00"]]


def test_a_week_without_working_time_is_refused(world, as_dispatcher):
    resp = as_dispatcher.post("/dispatcher/calendars/new", data={
        "name": "Never", "timezone": "UTC", "action": "save", **week_form()})
    assert resp.status_code == 400
    assert 'id="week-error">Give at least one weekday some working hours.' in resp.get_data(as_text=True)
    assert db.session.query(WorkingCalendar).count() == 0


def test_a_stale_save_says_someone_else_saved_it_and_keeps_theirs(world, as_dispatcher, signed_in):
    cal = make_calendar(world.dispatcher)
    seen = cal.version
    other = signed_in(world.dispatcher2)
    base = {"name": "Company week", "timezone": "Asia/Tashkent", "country": "UZ", "action": "save"}
    assert other.post(f"/dispatcher/calendars/{cal.id}", data={
        **base, "version": str(seen), **week_form(**{**COMPANY, "sat": []})}).status_code == 302
    resp = as_dispatcher.post(f"/dispatcher/calendars/{cal.id}", data={
        **base, "version": str(seen), **week_form(**{**COMPANY, "sun": [("10:00", "16:00")]})})
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "Someone else saved this calendar while you were editing it, so nothing was saved." in html
    db.session.expire_all()
    week = db.session.get(WorkingCalendar, cal.id).week
    assert week["sat"] == [] and week["sun"] == []


def test_the_quick_buttons_work_without_javascript_and_save_nothing(world, as_dispatcher):
    base = {"name": "Shop", "timezone": "Asia/Tashkent", "country": "UZ",
            **week_form(mon=[("09:00", "13:00"), ("14:00", "19:00")], sat=[("10:00", "15:00")])}
    html = as_dispatcher.post("/dispatcher/calendars/new", data={**base, "action": "copy-weekdays"}).get_data(as_text=True)
    assert "Monday&#39;s hours copied to Tuesday–Friday. Not saved yet." in html or \
        "Monday's hours copied to Tuesday–Friday. Not saved yet." in html
    for day in ("tue", "wed", "thu", "fri"):
        assert f'name="{day}-1-start" value="14:00"' in html
    assert 'name="sat-0-start" value="10:00"' in html  # Saturday untouched
    html = as_dispatcher.post("/dispatcher/calendars/new", data={**base, "action": "copy-all"}).get_data(as_text=True)
    assert 'name="sat-1-end" value="19:00"' in html and 'name="sun-closed" value="y" data-closed checked' in html
    html = as_dispatcher.post("/dispatcher/calendars/new", data={
        **base, "holidays": ["2026-12-31"], "newHoliday": "2026-03-21", "action": "add-holiday"}).get_data(as_text=True)
    assert "Sat, 21 Mar 2026" in html and "Thu, 31 Dec 2026" in html and "Holiday added. Not saved yet." in html
    html = as_dispatcher.post("/dispatcher/calendars/new", data={
        **base, "holidays": ["2026-12-31", "2026-03-21"], "action": "remove-holiday:2026-12-31"}).get_data(as_text=True)
    assert "31 Dec 2026" not in html and "21 Mar 2026" in html
    assert db.session.query(WorkingCalendar).count() == 0


def test_branches_are_given_the_calendar_on_its_page_and_taken_back(world, as_dispatcher):
    cal = make_calendar(world.dispatcher)
    url = f"/dispatcher/calendars/{cal.id}"
    page = as_dispatcher.get(url).get_data(as_text=True)
    assert "FM-001 · Freshmart Central" in page and "now: around the clock" in page
    resp = as_dispatcher.post(url + "/branches", data={"branchId": [world.branch.id, world.other_branch.id]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert {b.branch_code for b in db.session.query(CustomerBranch).filter_by(calendar_id=cal.id)} == {"FM-001", "CL-001"}
    as_dispatcher.post(url + "/branches", data={"branchId": [world.branch.id]})
    db.session.expire_all()
    assert db.session.get(CustomerBranch, world.other_branch.id).calendar_id is None
    assert db.session.get(CustomerBranch, world.branch.id).calendar_id == cal.id


def test_the_branch_page_picks_a_calendar_with_around_the_clock_first(world, as_dispatcher):
    cal = make_calendar(world.dispatcher)
    url = f"/dispatcher/branches/{world.branch2.id}"
    html = as_dispatcher.get(url).get_data(as_text=True)
    select = html.split('name="calendarId"', 1)[1].split("</select>", 1)[0]
    assert select.index("Around the clock (no calendar)") < select.index("Company week")
    resp = as_dispatcher.post(url, data={"customerId": world.customer.id, "branchCode": "FM-002",
                                         "branchName": "Freshmart North", "isActive": "y", "calendarId": cal.id})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(CustomerBranch, world.branch2.id).calendar_id == cal.id
    assert f'<option selected value="{cal.id}">' in as_dispatcher.get(url).get_data(as_text=True)
    as_dispatcher.post(url, data={"customerId": world.customer.id, "branchCode": "FM-002",
                                  "branchName": "Freshmart North", "isActive": "y", "calendarId": ""})
    db.session.expire_all()
    assert db.session.get(CustomerBranch, world.branch2.id).calendar_id is None


def test_the_pages_say_what_the_minutes_mean(world, as_dispatcher):
    cal = make_calendar(world.dispatcher)  # 12 h a day: 1,440 working minutes are 2 working days
    page = as_dispatcher.get(f"/dispatcher/calendars/{cal.id}").get_data(as_text=True)
    assert "Normal response: 1,440 working minutes ≈ 2 working days here." in page
    # The yardstick behind "working days", in hours (a working day is not 24 hours).
    assert ("A working day here is 12 h on average (72 h of working time a week over 6 days). "
            "So 1,440 minutes are 24 working hours, not one calendar day.") in page
    critical = page.split(">Critical<", 1)[1].split("</tr>", 1)[0]
    assert "always around the clock" in critical
    html = as_dispatcher.get("/dispatcher/categories").get_data(as_text=True)
    assert ("Minutes count working time on branches with a working calendar (e.g. Company week: "
            "1,440 working minutes ≈ 2 working days here); critical tickets always count around the clock.") in html
    sub = as_dispatcher.get(f"/dispatcher/subcategories/{world.subcategory.id}").get_data(as_text=True)
    assert "critical tickets always count around the clock." in sub


def test_the_country_holidays_fragment_follows_the_picker(world, as_dispatcher):
    html = as_dispatcher.get("/dispatcher/calendars/country-holidays?country=KZ").get_data(as_text=True)
    assert "Public holidays of Kazakhstan in 2026:" in html
    html = as_dispatcher.get("/dispatcher/calendars/country-holidays?country=").get_data(as_text=True)
    assert "Only the dates listed above are holidays." in html
    assert "Public holidays" not in as_dispatcher.get("/dispatcher/calendars/country-holidays?country=ZZ").get_data(as_text=True)


@pytest.mark.parametrize("who", ["tech", "manager"])
def test_technicians_and_store_managers_may_not_open_or_save_calendars(world, signed_in, who):
    cal = make_calendar(world.dispatcher)
    client = signed_in(getattr(world, who))
    assert client.get("/dispatcher/calendars").status_code == 403
    assert client.get(f"/dispatcher/calendars/{cal.id}").status_code == 403
    assert client.post(f"/dispatcher/calendars/{cal.id}/branches", data={"branchId": world.branch.id}).status_code == 403
    db.session.expire_all()
    assert db.session.get(CustomerBranch, world.branch.id).calendar_id is None


def test_an_unknown_calendar_is_404(world, as_dispatcher):
    assert as_dispatcher.get("/dispatcher/calendars/nope").status_code == 404


def test_the_calendar_page_reads_in_russian_and_uzbek(world, signed_in):
    cal = make_calendar(world.dispatcher, holidays=["2026-12-08"])
    for lang, words in {
        "ru": ("Рабочие часы", "Выходной", "пн–сб 08:00–20:00", "Реакция, приоритет «Обычный» — рабочих минут: 1\xa0440 ≈ 2 рабочих дня по этому календарю.",
               "вт, 8 дек. 2026", "Государственные праздники, Узбекистан, 2026:"),
        "uz": ("Ish soatlari", "Dam olish kuni", "Yangi yil", "Dush–Shan 08:00–20:00"),
    }.items():
        world.dispatcher.locale = lang
        db.session.commit()
        client = signed_in(world.dispatcher)
        html = client.get(f"/dispatcher/calendars/{cal.id}").get_data(as_text=True)
        html += client.get("/dispatcher/calendars").get_data(as_text=True)
        for text in words:
            assert text in html, (lang, text)
    # Russian readers get the dates alone: the library has no Russian names for Uzbekistan's holidays.
    world.dispatcher.locale = "ru"
    db.session.commit()
    html = signed_in(world.dispatcher).get(f"/dispatcher/calendars/{cal.id}").get_data(as_text=True)
    assert "New Year" not in html and "Yangi yil" not in html
