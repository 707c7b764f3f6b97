"""Working time: the one home of "is this moment working time?" and of the due-time
arithmetic over a working calendar (API.md, "Working calendars"; docs/calendars.md).

`calendar` below is a `WorkingCalendar` or None; None means around the clock (a branch
without a calendar, and every CRITICAL ticket: `for_ticket`). All datetimes in and out
are timezone-aware UTC; the calendar's intervals are wall-clock times in its own IANA
timezone, so a working day across a DST change is as long as the clock on the wall says.

    add_working_minutes(calendar, start, minutes) -> the moment `minutes` of working
        time after `start` (a start outside working time begins at the next opening)
    working_minutes_between(calendar, start, end) -> working minutes in [start, end)
    next_opening(calendar, at) -> `at` when it is working time, else the next opening
    is_working(calendar, at) -> bool
    validate_week(week) / validate_calendar(...) -> cleaned data or ValidationError
    average_working_day_minutes(calendar) -> minutes of an average working day
        ("1,440 working minutes ≈ 2 working days here")

The arithmetic walks whole intervals (day by day, never minute by minute) and skips
holidays from a set built once per calendar version and year, so a 30-day SLA over 50
holidays is a few hundred steps at most.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _

from app.models import WEEKDAYS, TicketPriority
from app.services.errors import ValidationError

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def validate_week(week) -> dict[str, list[list[str]]]:
    """The week as stored: every weekday present (missing days: no working time), each
    day's intervals sorted. 400 (ValidationError, field "week") when a time is not HH:MM
    between 00:00 and 24:00, 24:00 starts an interval, an interval does not end after it
    starts (a night shift: "split it into two intervals on two days"), or two intervals
    of a day overlap."""
    if not isinstance(week, dict):
        raise ValidationError(_("The week must list working hours by weekday."), {"week": _("Required.")})
    unknown = sorted(set(week) - set(WEEKDAYS))
    if unknown:
        raise ValidationError(_("Unknown weekday: %(day)s.", day=unknown[0]), {"week": _("Unknown weekday.")})
    cleaned: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        intervals = week.get(day) or []
        if not isinstance(intervals, list):
            raise ValidationError(_("Working hours must be a list of intervals."), {"week": day})
        spans = []
        for interval in intervals:
            if (not isinstance(interval, (list, tuple)) or len(interval) != 2
                    or not all(isinstance(t, str) and _TIME.match(t) for t in interval)):
                raise ValidationError(
                    _("Times must be written as HH:MM, from 00:00 to 24:00."), {"week": day})
            start, end = interval
            if start == "24:00":
                raise ValidationError(_("24:00 can only end an interval."), {"week": day})
            if _minutes(end) <= _minutes(start):
                raise ValidationError(
                    _("An interval must end after it starts (%(start)s–%(end)s). For a night shift, "
                      "split it into two intervals on two days, e.g. 22:00–24:00 and 00:00–06:00.",
                      start=start, end=end), {"week": day})
            spans.append((_minutes(start), _minutes(end), [start, end]))
        spans.sort()
        for (s1, e1, a), (s2, e2, b) in zip(spans, spans[1:]):
            if s2 < e1:
                raise ValidationError(
                    _("Working intervals of one day must not overlap (%(a)s and %(b)s).",
                      a="–".join(a), b="–".join(b)), {"week": day})
        cleaned[day] = [span[2] for span in spans]
    return cleaned


def validate_timezone(name) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(_("Choose a timezone."), {"timezone": _("Required.")})
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown timezone: %(name)s.", name=name), {"timezone": _("Unknown timezone.")})
    return name


def for_ticket(branch_calendar, priority: TicketPriority):
    """The calendar a ticket's SLA counts in: none (around the clock) for CRITICAL,
    else its branch's (None when the branch has none)."""
    return None if priority == TicketPriority.CRITICAL else branch_calendar


# --- the arithmetic (issue 19: implemented with its table tests) -------------------------

def add_working_minutes(calendar, start: datetime, minutes: float) -> datetime:
    if calendar is None:
        return start + timedelta(minutes=minutes)
    raise NotImplementedError  # pragma: no cover - filled in by the calendar arithmetic


def working_minutes_between(calendar, start: datetime, end: datetime) -> float:
    if calendar is None:
        return max(0.0, (end - start).total_seconds() / 60)
    raise NotImplementedError  # pragma: no cover


def next_opening(calendar, at: datetime) -> datetime:
    if calendar is None:
        return at
    raise NotImplementedError  # pragma: no cover


def is_working(calendar, at: datetime) -> bool:
    if calendar is None:
        return True
    raise NotImplementedError  # pragma: no cover


def average_working_day_minutes(calendar) -> float:
    """Minutes of an average working day of the week (the days with working time)."""
    raise NotImplementedError  # pragma: no cover


def describe_working_minutes(calendar, minutes: int) -> str:
    """"1,440 working minutes ≈ 2 working days here" (translated), for the pages."""
    raise NotImplementedError  # pragma: no cover


def validate_country(code) -> str | None:
    """An ISO 3166-1 alpha-2 code the `holidays` library knows, upper-cased; None for none."""
    raise NotImplementedError  # pragma: no cover


def validate_holidays(dates) -> list[str]:
    """A sorted list of distinct ISO dates (YYYY-MM-DD)."""
    raise NotImplementedError  # pragma: no cover


def supported_countries() -> list[str]:
    """The alpha-2 codes the `holidays` library knows (for the pages' country picker)."""
    raise NotImplementedError  # pragma: no cover
