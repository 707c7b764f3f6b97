"""Tickets on a branch with a working calendar get due times in working minutes
(API.md, "Working calendars"): from the next opening when created outside hours,
around the clock for CRITICAL, recomputed on a priority change with the paused working
time kept, and never touched when the calendar changes afterwards."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import TicketPriority
from app.services import calendar_admin, calendars, sla_clock, tickets
from tests.factories import make_ticket

SIX = ("mon", "tue", "wed", "thu", "fri", "sat")
# Tashkent (UTC+5), Mon-Sat 08:00-20:00: 03:00Z-15:00Z. Tue 24 Nov 2026 is a working day.


@pytest.fixture
def company(world):
    cal = calendar_admin.create_calendar({"name": "Company", "timezone": "Asia/Tashkent",
                                          "week": {d: [["08:00", "20:00"]] for d in SIX}}, world.dispatcher)
    calendar_admin.set_branch_calendar(world.branch, cal.id, world.dispatcher)
    db.session.commit()
    return cal


def test_normal_on_a_12_hour_calendar_is_two_working_days(world, company, freeze):
    t0 = freeze("2026-11-24T03:00:00Z")  # Tuesday 08:00 in Tashkent
    t = make_ticket(world, priority=TicketPriority.NORMAL)  # 1,440 / 2,880 minutes
    db.session.commit()
    assert t.response_due_at == t0 + timedelta(days=1, hours=12)  # Wednesday 20:00
    assert t.resolution_due_at == t0 + timedelta(days=3, hours=12)  # Friday 20:00
    # Amber after 75% of the working time: 1,080 working minutes = Wednesday 14:00.
    assert t.response_warn_at == t0 + timedelta(days=1, hours=6)
    assert t.resolution_warn_at == calendars.add_working_minutes(company, t0, 2160)


def test_a_ticket_created_on_sunday_counts_from_monday_morning(world, company, freeze):
    sunday = freeze("2026-11-29T07:00:00Z")  # Sunday noon
    t = make_ticket(world, priority=TicketPriority.HIGH)  # 240 / 1,440
    db.session.commit()
    monday_8 = sunday + timedelta(hours=20)
    assert t.response_due_at == monday_8 + timedelta(hours=4)
    assert t.resolution_due_at == monday_8 + timedelta(days=1, hours=12)


def test_a_ticket_created_after_closing_counts_from_the_next_opening(world, company, freeze):
    t0 = freeze("2026-11-24T16:30:00Z")  # Tuesday 21:30
    t = make_ticket(world, priority=TicketPriority.HIGH)
    db.session.commit()
    assert t.response_due_at == t0 + timedelta(hours=14, minutes=30)  # Wednesday 12:00


def test_critical_always_counts_around_the_clock(world, company, freeze):
    t0 = freeze("2026-11-29T07:00:00Z")  # Sunday
    t = make_ticket(world, priority=TicketPriority.CRITICAL)
    db.session.commit()
    assert (t.response_due_at, t.resolution_due_at) == (t0 + timedelta(minutes=60), t0 + timedelta(minutes=240))


def test_a_branch_without_a_calendar_counts_around_the_clock(world, company, freeze):
    t0 = freeze("2026-11-29T07:00:00Z")
    t = make_ticket(world, branch=world.branch2, priority=TicketPriority.NORMAL)
    db.session.commit()
    assert t.response_due_at == t0 + timedelta(minutes=1440)


def test_a_priority_change_recomputes_in_the_calendar_and_keeps_the_paused_time(world, company, freeze):
    t0 = freeze("2026-11-24T03:00:00Z")
    t = make_ticket(world, priority=TicketPriority.LOW)
    t.paused_minutes_total = 120  # the pauses service keeps it: two working hours already paused
    db.session.commit()
    freeze("2026-11-24T06:00:00Z")
    tickets.patch(t, {"priority": "NORMAL"}, world.dispatcher)
    db.session.commit()
    assert t.response_due_at == t0 + timedelta(days=1, hours=12)  # the response never moves by pauses
    # 2,880 + 120 working minutes from Tuesday 08:00: Friday 20:00 + 2 h = Saturday 10:00.
    assert t.resolution_due_at == t0 + timedelta(days=4, hours=2)
    tickets.patch(t, {"priority": "CRITICAL"}, world.dispatcher)
    db.session.commit()
    assert t.response_due_at == t0 + timedelta(minutes=60)
    assert t.resolution_due_at == t0 + timedelta(minutes=240 + 120)


def test_changing_the_calendar_leaves_existing_due_times_alone(world, company, freeze, api):
    freeze("2026-11-24T03:00:00Z")
    t = make_ticket(world, priority=TicketPriority.NORMAL)
    db.session.commit()
    promised = (t.response_due_at, t.resolution_due_at, t.response_warn_at, t.resolution_warn_at)
    r = api.as_(world.dispatcher).patch(f"/api/calendars/{company.id}",
                                        json={"week": {d: [["10:00", "12:00"]] for d in SIX}})
    assert r.status_code == 200
    r = api.as_(world.dispatcher).patch(f"/api/customer-branches/{world.branch.id}", json={"calendarId": None})
    assert r.status_code == 200
    db.session.expire_all()
    t = db.session.get(type(t), t.id)
    assert (t.response_due_at, t.resolution_due_at, t.response_warn_at, t.resolution_warn_at) == promised


def test_the_new_ticket_form_previews_the_branch_calendars_due_times(world, company, freeze):
    sunday = freeze("2026-11-29T07:00:00Z")
    response, _resolution = tickets.preview_due_times(world.subcategory.id, TicketPriority.HIGH, world.branch.id)
    assert response == sunday + timedelta(days=1)  # Monday 08:00 + 4 working hours
    response, _resolution = tickets.preview_due_times(world.subcategory.id, TicketPriority.HIGH)
    assert response == sunday + timedelta(hours=4)  # no branch chosen yet: around the clock


def test_the_api_creates_a_ticket_with_calendar_due_times(world, company, freeze, api):
    freeze("2026-11-24T03:00:00Z")
    r = api.as_(world.dispatcher).post("/api/tickets", json={
        "branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
        "description": "Warm", "priority": "NORMAL"})
    assert r.status_code == 201
    assert r.get_json()["responseDueAt"] == "2026-11-25T15:00:00Z"


def test_ticket_calendar_follows_the_branch_and_priority(world, company):
    t = make_ticket(world, priority=TicketPriority.NORMAL)
    assert sla_clock.ticket_calendar(t) is company
    t.priority = TicketPriority.CRITICAL
    assert sla_clock.ticket_calendar(t) is None


def test_describing_minutes_in_working_days(world, company, app):
    with app.test_request_context():
        assert calendars.describe_working_minutes(company, 1440) == "1,440 working minutes ≈ 2 working days here"
        assert calendars.describe_working_minutes(company, 1080) == "1,080 working minutes ≈ 1.5 working days here"
        assert calendars.describe_working_minutes(company, 720) == "720 working minutes ≈ 1 working day here"
        assert calendars.describe_working_minutes(None, 2880) == "2,880 minutes ≈ 2 days around the clock"


def test_describing_minutes_in_russian_and_uzbek(world, company, app):
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "ru"}):
        assert calendars.describe_working_minutes(company, 1440) == \
            "рабочих минут: 1\xa0440 ≈ 2 рабочих дня по этому календарю"
        assert calendars.describe_working_minutes(company, 3600) == \
            "рабочих минут: 3\xa0600 ≈ 5 рабочих дней по этому календарю"
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "uz"}):
        assert "2 ish kuni" in calendars.describe_working_minutes(company, 1440)
