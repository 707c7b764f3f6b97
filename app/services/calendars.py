"""Working time: the one home of "is this moment working time?" and of the due-time
arithmetic over a working calendar (API.md, "Working calendars"; docs/calendars.md).

`calendar` below is a `WorkingCalendar` or None; None means around the clock (a branch
without a calendar, and every CRITICAL ticket: `for_ticket`). All datetimes in and out
are timezone-aware UTC; the calendar's intervals are wall-clock times in its own IANA
timezone, so a working day across a DST change is as long as the clock on the wall says.

    add_working_minutes(calendar, start, minutes) -> the moment `minutes` of working
        time after `start` (a start outside working time begins at the next opening)
    add_working_minutes_each(calendar, start, [minutes, ...]) -> the same for several, one walk
    working_minutes_between(calendar, start, end) -> working minutes in [start, end)
    next_opening(calendar, at) -> `at` when it is working time, else the next opening
    is_working(calendar, at) -> bool
    validate_week(week), validate_timezone, validate_country, validate_holidays,
        require_working_time -> cleaned data or ValidationError (services/calendar_admin.py
        saves calendars with them)
    average_working_day_minutes(calendar) -> minutes of an average working day
    describe_working_minutes(calendar, minutes) -> "1,440 working minutes ≈ 2 working days here"

The arithmetic walks whole intervals (day by day, never minute by minute) and skips
holidays from a set built once per calendar version and year, so a 30-day SLA over 50
holidays is a few hundred steps at most.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _

from app.i18n import ngettext

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
                      "split it into two intervals on two days: 22:00 to midnight on the first day and 00:00–06:00 "
                      "on the next.",
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


# --- countries and holidays -----------------------------------------------------------

@lru_cache(maxsize=1)
def supported_countries() -> tuple[str, ...]:
    """The ISO 3166-1 alpha-2 codes the `holidays` library knows (the pages' country picker)."""
    import holidays

    return tuple(sorted(c for c in holidays.list_supported_countries() if len(c) == 2 and c.isalpha()))


def validate_country(code) -> str | None:
    """An ISO 3166-1 alpha-2 code the `holidays` library knows, upper-cased; None (or "")
    for none. 400 (field "country") otherwise."""
    if code is None or (isinstance(code, str) and not code.strip()):
        return None
    if not isinstance(code, str) or code.strip().upper() not in supported_countries():
        raise ValidationError(_("Unknown country: %(code)s. Use a two-letter ISO 3166 code such as UZ.",
                                code=str(code)[:20]), {"country": _("Unknown country.")})
    return code.strip().upper()


MAX_HOLIDAYS = 1000


def validate_holidays(dates) -> list[str]:
    """A sorted list of distinct ISO dates (YYYY-MM-DD); 400 (field "holidays") for
    anything else."""
    if dates is None:
        return []
    if not isinstance(dates, list):
        raise ValidationError(_("Holidays must be a list of dates."), {"holidays": _("Expected a list of dates.")})
    if len(dates) > MAX_HOLIDAYS:
        raise ValidationError(_("At most %(num)d holidays.", num=MAX_HOLIDAYS), {"holidays": _("Too many dates.")})
    out = set()
    for value in dates:
        try:
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            out.add(date.fromisoformat(value).isoformat())
        except ValueError:
            raise ValidationError(_("Not a date: %(value)s. Write holidays as YYYY-MM-DD.", value=str(value)[:40]),
                                  {"holidays": _("Write dates as YYYY-MM-DD.")})
    return sorted(out)


def require_working_time(week: dict) -> None:
    """A calendar must have some working time in its week (else no due time ever comes)."""
    if not any(week.get(day) for day in WEEKDAYS):
        raise ValidationError(_("Give at least one weekday some working hours."),
                              {"week": _("The week has no working time.")})


@lru_cache(maxsize=512)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())


# --- the compiled, immutable view of a calendar ---------------------------------------------

_UTC = timezone.utc
_ONE_DAY = timedelta(days=1)
_MINUTES = tuple(timedelta(minutes=m) for m in range(24 * 60 + 1))
# The walk gives up after this many days in a row without working time (a calendar
# whose week is empty is refused when saved; this bounds anything that slips through).
MAX_IDLE_DAYS = 3 * 366


class NoWorkingTime(ValidationError):
    """The calendar has no working time within MAX_IDLE_DAYS of a moment."""


@dataclass(frozen=True, eq=False)  # one per calendar version (`_compile`): hashed by identity
class _Compiled:
    zone: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...]  # by weekday (Monday 0): (start, end) minutes
    holidays: frozenset[date]
    country: str | None

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (self.country is not None and day in _country_holidays(self.country, day.year))

    def spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of a local day as UTC (start, end), in order."""
        return _day_spans(self, day)


def _key(calendar) -> tuple:
    week = calendar.week or {}
    return (calendar.id, calendar.version, calendar.timezone,
            tuple(tuple(tuple(i) for i in (week.get(d) or ())) for d in WEEKDAYS),
            tuple(calendar.holidays or ()), calendar.country or None)


def compiled(calendar) -> _Compiled:
    """The calendar as the arithmetic reads it, built once per (id, version, content)."""
    return _compile(_key(calendar))


@lru_cache(maxsize=256)
def _compile(key: tuple) -> _Compiled:
    _id, _version, zone, week, holidays, country = key
    return _Compiled(ZoneInfo(zone),
                     tuple(tuple((_minutes(a), _minutes(b)) for a, b in day) for day in week),
                     frozenset(date.fromisoformat(d) for d in holidays), country)


def _to_utc(zone: ZoneInfo, wall: datetime) -> datetime:
    """A wall-clock moment in `zone` as UTC. Ambiguous (the hour repeated when clocks go
    back): its first occurrence. Missing (the hour skipped when clocks go forward): the
    moment the clocks jumped, so an interval over the gap is as long as the wall says."""
    local = wall.replace(tzinfo=zone)
    utc = local.astimezone(_UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc
    # In the gap: fold=0 reads the wall with the offset before the jump (later in UTC),
    # fold=1 with the one after (earlier). The jump lies between; find it to the second.
    low, high = wall.replace(tzinfo=zone, fold=1).astimezone(_UTC), utc
    if low > high:
        low, high = high, low
    while (high - low) > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).replace(tzinfo=None) < wall:
            low = mid
        else:
            high = mid
    return high.replace(microsecond=0) if high.microsecond else high


@lru_cache(maxsize=8192)
def _day_spans(c: _Compiled, day: date) -> tuple[tuple[datetime, datetime], ...]:
    if c.is_holiday(day):
        return ()
    intervals = c.week[day.weekday()]
    if not intervals:
        return ()
    midnight = datetime.combine(day, time())
    offset = c.zone.utcoffset(midnight)
    if c.zone.utcoffset(midnight + _ONE_DAY) == offset:  # no clock change today: one offset for all
        start = (midnight - offset).replace(tzinfo=_UTC)
        return tuple((start + _MINUTES[a], start + _MINUTES[b]) for a, b in intervals)
    return tuple((_to_utc(c.zone, midnight + timedelta(minutes=a)), _to_utc(c.zone, midnight + timedelta(minutes=b)))
                 for a, b in intervals)


def _local_day(c: _Compiled, at: datetime) -> date:
    return at.astimezone(c.zone).date()


def _no_working_time(at: datetime):
    return NoWorkingTime(_("This working calendar has no working time within three years of %(date)s.",
                           date=at.date().isoformat()), {"calendarId": _("The calendar has no working time.")})


# --- the arithmetic ----------------------------------------------------------------------

def add_working_minutes(calendar, start: datetime, minutes: float) -> datetime:
    """The moment `minutes` of working time after `start`. A start outside working time
    counts from the next opening; the result may be the very end of an interval (a due
    time at closing). Zero (or fewer) minutes: `start` itself, nothing moves."""
    return add_working_minutes_each(calendar, start, (minutes,))[0]


def add_working_minutes_each(calendar, start: datetime, minutes) -> tuple[datetime, ...]:
    """`add_working_minutes` for several amounts from one start, in one walk (the SLA
    clock's two due times and two warning moments), in the order given."""
    if calendar is None:
        return tuple(start + timedelta(minutes=max(m, 0)) for m in minutes)
    out: list[datetime | None] = [start if m <= 0 else None for m in minutes]
    wanted = sorted((timedelta(minutes=m), k) for k, m in enumerate(minutes) if m > 0)
    if not wanted:
        return tuple(out)
    c = compiled(calendar)
    done, n = timedelta(), 0  # working time walked so far; targets reached
    day, idle = _local_day(c, start), 0
    while True:
        spans = c.spans(day)
        for a, b in spans:
            if b <= start:
                continue
            a = max(a, start)
            while wanted[n][0] - done <= b - a:
                out[wanted[n][1]] = a + (wanted[n][0] - done)
                n += 1
                if n == len(wanted):
                    return tuple(out)
            done += b - a
        idle = 0 if spans else idle + 1
        if idle > MAX_IDLE_DAYS:
            raise _no_working_time(start)
        day += _ONE_DAY


def working_minutes_between(calendar, start: datetime, end: datetime) -> float:
    """Working minutes in [start, end) (0 when end is not after start); the inverse of
    `add_working_minutes`: working_minutes_between(c, s, add_working_minutes(c, s, m)) == m."""
    if calendar is None:
        return max(0.0, (end - start).total_seconds() / 60)
    if end <= start:
        return 0.0
    c = compiled(calendar)
    total = timedelta()
    day, last = _local_day(c, start), _local_day(c, end)
    while day <= last:
        for a, b in c.spans(day):
            a, b = max(a, start), min(b, end)
            if b > a:
                total += b - a
        day += _ONE_DAY
    return total.total_seconds() / 60


def next_opening(calendar, at: datetime) -> datetime:
    """`at` when it is working time, else the start of the next working interval."""
    if calendar is None:
        return at
    c = compiled(calendar)
    day, idle = _local_day(c, at), 0
    while True:
        spans = c.spans(day)
        for a, b in spans:
            if b > at:
                return max(a, at)
        idle = 0 if spans else idle + 1
        if idle > MAX_IDLE_DAYS:
            raise _no_working_time(at)
        day += _ONE_DAY


def is_working(calendar, at: datetime) -> bool:
    """True when `at` lies inside a working interval (its start included, its end not)."""
    if calendar is None:
        return True
    c = compiled(calendar)
    return any(a <= at < b for a, b in c.spans(_local_day(c, at)))


def average_working_day_minutes(calendar) -> float:
    """Minutes of an average working day: the week's working minutes over the weekdays
    that have any (1,440 around the clock). Holidays and DST are left out: it is the
    yardstick people read minutes by, not a promise."""
    if calendar is None:
        return 1440.0
    days = [sum(b - a for a, b in day) for day in compiled(calendar).week]
    working = [m for m in days if m]
    return sum(working) / len(working) if working else 0.0


def working_day_note(calendar) -> str:
    """The yardstick behind "≈ N working days": "A working day here is 7 h 30 min on
    average (45 h of working time a week over 6 days); 1,440 minutes are 24 working hours."."""
    from app.services.pauses import working_time_words

    per_day = average_working_day_minutes(calendar)
    if calendar is None or not per_day:
        return ""
    days = [sum(b - a for a, b in day) for day in compiled(calendar).week]
    working = [m for m in days if m]
    return ngettext("A working day here is %(day)s on average (%(week)s of working time a week over %(num)d day).",
                    "A working day here is %(day)s on average (%(week)s of working time a week over %(num)d days).",
                    len(working), day=working_time_words(per_day), week=working_time_words(sum(working)))


def describe_working_minutes(calendar, minutes: int) -> str:
    """What `minutes` of SLA time mean in this calendar, in plain words: "1,440 working
    minutes ≈ 2 working days here" (around the clock: "1,440 minutes ≈ 1 day")."""
    from app.services.timefmt import quantity

    per_day = average_working_day_minutes(calendar)
    days = round(minutes / per_day, 1) if per_day else 0
    # Plural forms take whole numbers: a fraction reads like "2" in English and Russian
    # ("1.5 days", "1,5 дня").
    num = int(days) if days == int(days) else 2
    if calendar is None:
        return ngettext("%(minutes)s minutes ≈ %(days)s day around the clock",
                        "%(minutes)s minutes ≈ %(days)s days around the clock",
                        num, minutes=quantity(minutes), days=quantity(days))
    return ngettext("%(minutes)s working minutes ≈ %(days)s working day here",
                    "%(minutes)s working minutes ≈ %(days)s working days here",
                    num, minutes=quantity(minutes), days=quantity(days))
