"""Working-time arithmetic (services/calendars.py) as tables: weekends, holidays
(explicit and the country's), DST both ways in zones that have it, starts outside
working hours, a lunch break, `24:00`, long SLAs over many holidays, and minutes
between as the inverse of adding. Plain objects, no database: the arithmetic reads
only the calendar's fields."""
from datetime import date, datetime, timedelta, timezone

import pytest

from app.models import WorkingCalendar
from app.services import calendars as C

UTC = timezone.utc
SIX = ("mon", "tue", "wed", "thu", "fri", "sat")


def cal(week, tz="Asia/Tashkent", holidays=(), country=None, name="c"):
    return WorkingCalendar(id=f"test-{name}", version=1, name=name, timezone=tz, week=week,
                           holidays=list(holidays), country=country)


def z(text):  # "2026-11-24 05:00" (UTC)
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Tashkent is UTC+5 all year: 08:00 local = 03:00Z, 20:00 local = 15:00Z.
# November 2026: Mon 23, Tue 24, Wed 25, Thu 26, Fri 27, Sat 28, Sun 29, Mon 30.
COMPANY = cal({d: [["08:00", "20:00"]] for d in SIX}, name="company")
WITH_HOLIDAY = cal({d: [["08:00", "20:00"]] for d in SIX}, holidays=["2026-11-25"], name="holiday")
UZ = cal({d: [["08:00", "20:00"]] for d in SIX}, country="UZ", name="uz")
LUNCH = cal({d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in SIX[:5]}, name="lunch")
NIGHT = cal({"fri": [["18:00", "24:00"]], "sat": [["00:00", "06:00"]]}, name="night")
BERLIN = cal({d: [["08:00", "20:00"]] for d in SIX + ("sun",)}, tz="Europe/Berlin", name="berlin")
BERLIN_NIGHT = cal({"sun": [["00:00", "06:00"]]}, tz="Europe/Berlin", name="berlin-night")
NEW_YORK = cal({d: [["00:00", "24:00"]] for d in SIX + ("sun",)}, tz="America/New_York", name="ny")

ADD = [
    # (why, calendar, start UTC, minutes, due UTC)
    ("inside working hours", COMPANY, "2026-11-24 05:00", 60, "2026-11-24 06:00"),
    ("over closing: the rest next morning", COMPANY, "2026-11-24 14:00", 120, "2026-11-25 04:00"),
    ("ends exactly at closing", COMPANY, "2026-11-24 03:00", 720, "2026-11-24 15:00"),
    ("NORMAL 1,440 = two 12-hour days", COMPANY, "2026-11-24 03:00", 1440, "2026-11-25 15:00"),
    ("created before opening", COMPANY, "2026-11-24 01:00", 60, "2026-11-24 04:00"),
    ("created after closing", COMPANY, "2026-11-24 16:00", 60, "2026-11-25 04:00"),
    ("Saturday evening: Sunday is skipped", COMPANY, "2026-11-28 14:00", 120, "2026-11-30 04:00"),
    ("created on Sunday", COMPANY, "2026-11-29 07:00", 60, "2026-11-30 04:00"),
    ("an explicit holiday is skipped", WITH_HOLIDAY, "2026-11-24 14:00", 120, "2026-11-26 04:00"),
    ("created on a holiday", WITH_HOLIDAY, "2026-11-25 05:00", 30, "2026-11-26 03:30"),
    ("the country's holiday (UZ, 8 December)", UZ, "2026-12-07 14:00", 120, "2026-12-09 04:00"),
    ("lunch break is skipped", LUNCH, "2026-11-24 07:30", 60, "2026-11-24 09:30"),  # 12:30 -> 14:30 local
    ("created during lunch", LUNCH, "2026-11-24 08:20", 10, "2026-11-24 09:10"),  # 13:20 -> 14:10
    ("24:00 runs on into 00:00", NIGHT, "2026-11-27 18:00", 120, "2026-11-27 20:00"),  # Fri 23:00 -> Sat 01:00
    ("DST spring (Berlin): the morning after is CEST", BERLIN, "2026-03-28 18:00", 120, "2026-03-29 07:00"),
    ("DST autumn (Berlin): the morning after is CET", BERLIN, "2026-10-24 17:00", 120, "2026-10-25 08:00"),
    ("New York: a 23-hour day in March", NEW_YORK, "2026-03-08 05:00", 1440, "2026-03-09 05:00"),
    ("zero minutes: nothing moves", COMPANY, "2026-11-29 07:00", 0, "2026-11-29 07:00"),
]


@pytest.mark.parametrize("why,calendar,start,minutes,due", ADD, ids=[a[0] for a in ADD])
def test_add_working_minutes(why, calendar, start, minutes, due):
    assert C.add_working_minutes(calendar, z(start), minutes) == z(due)


@pytest.mark.parametrize("why,calendar,start,minutes,due", ADD, ids=[a[0] for a in ADD])
def test_minutes_between_is_the_inverse_of_adding(why, calendar, start, minutes, due):
    assert C.working_minutes_between(calendar, z(start), z(due)) == minutes


BETWEEN = [
    ("a working day", COMPANY, "2026-11-24 00:00", "2026-11-25 00:00", 720),
    ("a week: six days", COMPANY, "2026-11-23 00:00", "2026-11-30 00:00", 6 * 720),
    ("a week with a holiday", WITH_HOLIDAY, "2026-11-23 00:00", "2026-11-30 00:00", 5 * 720),
    ("end before start", COMPANY, "2026-11-25 00:00", "2026-11-24 00:00", 0),
    ("Berlin 00:00-06:00 on the spring-forward Sunday: 5 hours", BERLIN_NIGHT, "2026-03-28 00:00",
     "2026-03-30 00:00", 300),
    ("Berlin 00:00-06:00 on the fall-back Sunday: 7 hours", BERLIN_NIGHT, "2026-10-24 00:00",
     "2026-10-27 00:00", 420),
    ("lunch: 8 hours a day", LUNCH, "2026-11-24 00:00", "2026-11-25 00:00", 480),
    ("Friday 18:00-24:00 and Saturday 00:00-06:00", NIGHT, "2026-11-27 00:00", "2026-11-29 00:00", 720),
    ("around the clock (no calendar)", None, "2026-11-24 00:00", "2026-11-25 00:00", 1440),
]


@pytest.mark.parametrize("why,calendar,start,end,minutes", BETWEEN, ids=[b[0] for b in BETWEEN])
def test_working_minutes_between(why, calendar, start, end, minutes):
    assert C.working_minutes_between(calendar, z(start), z(end)) == minutes


OPENING = [
    # (why, calendar, at UTC, working?, next opening UTC)
    ("inside hours", COMPANY, "2026-11-24 05:00", True, "2026-11-24 05:00"),
    ("at opening", COMPANY, "2026-11-24 03:00", True, "2026-11-24 03:00"),
    ("at closing: closed", COMPANY, "2026-11-24 15:00", False, "2026-11-25 03:00"),
    ("Sunday", COMPANY, "2026-11-29 07:00", False, "2026-11-30 03:00"),
    ("a holiday", WITH_HOLIDAY, "2026-11-25 05:00", False, "2026-11-26 03:00"),
    ("lunch", LUNCH, "2026-11-24 08:30", False, "2026-11-24 09:00"),
    ("Friday 23:59 before a 24:00 end", NIGHT, "2026-11-27 18:59", True, "2026-11-27 18:59"),
    ("Saturday 00:00 after it", NIGHT, "2026-11-27 19:00", True, "2026-11-27 19:00"),
    ("the country's holiday", UZ, "2026-12-08 05:00", False, "2026-12-09 03:00"),
    ("Berlin Sunday 01:00 on the spring-forward day", BERLIN_NIGHT, "2026-03-29 00:30", True, "2026-03-29 00:30"),
]


@pytest.mark.parametrize("why,calendar,at,working,opening", OPENING, ids=[o[0] for o in OPENING])
def test_is_working_and_next_opening(why, calendar, at, working, opening):
    assert C.is_working(calendar, z(at)) is working
    assert C.next_opening(calendar, z(at)) == z(opening)


def test_no_calendar_is_around_the_clock():
    at = z("2026-11-29 03:17")
    assert C.is_working(None, at) and C.next_opening(None, at) == at
    assert C.add_working_minutes(None, at, 90) == at + timedelta(minutes=90)


def test_a_30_day_sla_over_50_holidays_is_exact():
    start = date(2026, 1, 5)
    holidays = [(start + timedelta(days=3 * i + 1)).isoformat() for i in range(50)]
    calendar = cal({d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in SIX[:5]}, tz="Europe/Berlin",
                   holidays=holidays, country="DE", name="long")
    t0 = z("2026-01-05 07:13")
    due = C.add_working_minutes(calendar, t0, 30 * 1440)
    assert C.working_minutes_between(calendar, t0, due) == 30 * 1440
    # 43,200 minutes of 8-hour days = 90 working days: well beyond 90 calendar days.
    assert due - t0 > timedelta(days=120)
    assert C.is_working(calendar, due - timedelta(seconds=1))
    assert due.astimezone(C.compiled(calendar).zone).date().isoformat() not in holidays


def test_random_starts_and_minutes_round_trip():
    import random

    rng = random.Random(19)
    for calendar in (COMPANY, LUNCH, NIGHT, BERLIN, BERLIN_NIGHT, UZ):
        for _ in range(200):
            start = z("2026-01-01 00:00") + timedelta(minutes=rng.randrange(365 * 1440))
            minutes = rng.choice([1, 30, 59.5, 240, 1440, 2880, 10080])
            due = C.add_working_minutes(calendar, start, minutes)
            assert abs(C.working_minutes_between(calendar, start, due) - minutes) < 1e-6, (calendar.name, start)
            assert C.next_opening(calendar, start) <= due


def test_a_week_without_working_time_raises_instead_of_looping():
    with pytest.raises(C.NoWorkingTime):
        C.add_working_minutes(cal({}, name="empty"), z("2026-11-24 05:00"), 60)
    with pytest.raises(C.NoWorkingTime):
        C.next_opening(cal({}, name="empty"), z("2026-11-24 05:00"))


def test_a_calendar_edited_in_place_is_read_afresh():
    calendar = cal({d: [["08:00", "20:00"]] for d in SIX}, name="edited")
    assert C.is_working(calendar, z("2026-11-29 07:00")) is False  # Sunday
    calendar.week = {**calendar.week, "sun": [["10:00", "14:00"]]}
    assert C.is_working(calendar, z("2026-11-29 07:00")) is True


def test_the_average_working_day():
    assert C.average_working_day_minutes(COMPANY) == 720
    assert C.average_working_day_minutes(LUNCH) == 480
    assert C.average_working_day_minutes(NIGHT) == 360
    assert C.average_working_day_minutes(None) == 1440


def test_several_amounts_in_one_walk_agree_with_one_at_a_time():
    start = z("2026-11-28 14:00")
    amounts = (2880, 0, 60, 1080.5, 43200, 60)
    for calendar in (COMPANY, UZ, LUNCH, BERLIN, None):
        assert C.add_working_minutes_each(calendar, start, amounts) == tuple(
            C.add_working_minutes(calendar, start, m) for m in amounts)
