"""What the calendar pages show (the dispatcher's /dispatcher/calendars): the list with
each calendar's week in a few words, the country picker in the reader's language, a
country's public holidays of a year, the branches and how many working days an SLA's
minutes are on a calendar. Reads only: saving goes through services/calendars.py, and
what working time *is* stays there too (this module only words it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_lib
from babel import Locale
from babel.dates import format_date, get_day_names
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.i18n import gettext as _, lazy_gettext as _l
from app.models import SLA_DEFAULTS, WEEKDAYS, Customer, CustomerBranch, TicketPriority, WorkingCalendar
from app.services import calendars
from app.services.timefmt import locale as reader_locale

# The zones the picker offers (the company works in Uzbekistan; its neighbours next),
# named by their city in the reader's language; any other IANA zone can be typed.
COMMON_ZONES = {
    "Asia/Tashkent": _l("Tashkent"), "Asia/Almaty": _l("Almaty"), "Asia/Bishkek": _l("Bishkek"),
    "Asia/Dushanbe": _l("Dushanbe"), "Asia/Ashgabat": _l("Ashgabat"), "Europe/Moscow": _l("Moscow"),
    "Asia/Dubai": _l("Dubai"), "Europe/Istanbul": _l("Istanbul"), "Europe/London": _l("London"),
    "UTC": _l("UTC, no daylight saving"),
}


def day_names(width: str = "abbreviated") -> dict[str, str]:
    """{"mon": "Mon", ...} in the reader's language."""
    names = get_day_names(width, locale=reader_locale())
    return {day: str(names[i]) for i, day in enumerate(WEEKDAYS)}


def week_summary(week: dict | None) -> str:
    """The week in a few words: "Mon–Sat 08:00–20:00", days with the same hours in a
    row joined ("Mon–Fri 08:00–13:00, 14:00–18:00; Sat 09:00–14:00")."""
    week = week or {}
    names = day_names()
    runs: list[list] = []  # [first day, last day, intervals]
    for day in WEEKDAYS:
        intervals = [tuple(i) for i in week.get(day) or []]
        if runs and runs[-1][2] == intervals and intervals and WEEKDAYS.index(runs[-1][1]) == WEEKDAYS.index(day) - 1:
            runs[-1][1] = day
        elif intervals:
            runs.append([day, day, intervals])
    if not runs:
        return _("No working hours")
    parts = []
    for first, last, intervals in runs:
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        hours = ", ".join(f"{s}–{e}" for s, e in intervals)
        parts.append(f"{days} {hours}")
    return "; ".join(parts)


@lru_cache(maxsize=8)
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    territories = Locale.parse(language).territories
    # Babel's names; the library's aliases without one (UK for GB) are left out.
    codes = {code for code in calendars.supported_countries() if code in territories}
    named = sorted(((code, territories.get(code, code)) for code in codes), key=lambda p: p[1].casefold())
    return tuple(p for p in named if p[0] == "UZ") + tuple(p for p in named if p[0] != "UZ")


def country_choices() -> tuple[tuple[str, str], ...]:
    """(code, name) of every country the `holidays` library knows, named in the reader's
    language, Uzbekistan first."""
    return _countries(reader_locale())


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return Locale.parse(reader_locale()).territories.get(code, code)


def zone_choices() -> list[tuple[str, str]]:
    """(zone, "Tashkent · UTC+5") for the picker, Tashkent first; the offset is now's."""
    now = clock.now()
    out = []
    for zone, city in COMMON_ZONES.items():
        minutes = int(now.astimezone(ZoneInfo(zone)).utcoffset().total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(minutes), 60)
        offset = "UTC" if minutes == 0 else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
        out.append((zone, str(city) if zone == "UTC" else f"{city} · {offset}"))
    return out


@dataclass(frozen=True)
class Holiday:
    day: date
    text: str  # "Tue, 8 Dec 2026"
    name: str = ""


def _holiday_language(country_code: str) -> str | None:
    """The library's language for the reader's, or None when it has the country's
    holiday names only in other languages (the page then shows the dates alone)."""
    try:
        supported = holiday_lib.country_holidays(country_code).supported_languages
    except NotImplementedError:
        return None
    lang = reader_locale()
    return next((option for option in supported if option == lang or option.split("_")[0] == lang), None)


def country_holidays(country_code: str | None, year: int | None = None) -> list[Holiday]:
    """The country's public holidays of `year` (default: this year) as the library
    names them, in the reader's language where it can."""
    if not country_code:
        return []
    year = year or clock.now().year
    language = _holiday_language(country_code)
    try:
        found = holiday_lib.country_holidays(country_code, years=year, language=language)
    except NotImplementedError:
        return []
    lang = reader_locale()
    return [Holiday(d, format_date(d, "d MMM", locale=lang), name if language else "")
            for d, name in sorted(found.items())]


def holiday_list(dates) -> list[Holiday]:
    """A calendar's own holidays, sorted, with their weekday ("Tue, 8 Dec 2026")."""
    lang = reader_locale()
    days = sorted({date.fromisoformat(d) if isinstance(d, str) else d for d in dates or []})
    return [Holiday(d, format_date(d, "EEE, d MMM y", locale=lang)) for d in days]


# --- working minutes in plain words (services/calendars.describe_working_minutes) -------

@dataclass(frozen=True)
class PriorityRow:
    priority: TicketPriority
    response: int
    resolution: int
    response_words: str  # "1,440 working minutes ≈ 2 working days here"; "" for CRITICAL
    resolution_words: str


def sla_table(calendar) -> list[PriorityRow]:
    """The default SLA minutes per priority and what they come to on this calendar."""
    rows = []
    for p in TicketPriority:
        key = p.value.lower()
        response, resolution = SLA_DEFAULTS[f"sla_response_{key}"], SLA_DEFAULTS[f"sla_resolution_{key}"]
        counted = calendars.for_ticket(calendar, p)
        rows.append(PriorityRow(p, response, resolution,
                                calendars.describe_working_minutes(counted, response) if counted else "",
                                calendars.describe_working_minutes(counted, resolution) if counted else ""))
    return rows


def example_calendar():
    """The calendar most branches use (the category page's example), or None."""
    row = db.session.execute(
        select(WorkingCalendar, func.count(CustomerBranch.id).label("n"))
        .outerjoin(CustomerBranch, CustomerBranch.calendar_id == WorkingCalendar.id)
        .group_by(WorkingCalendar.id).order_by(func.count(CustomerBranch.id).desc(), WorkingCalendar.name).limit(1)
    ).first()
    return row[0] if row else None


def minutes_note(calendar=None) -> str:
    """The category page's sentence about what its minutes mean."""
    calendar = calendar if calendar is not None else example_calendar()
    if calendar is None or not calendars.average_working_day_minutes(calendar):
        return _("Minutes count working time on branches with a working calendar; "
                 "critical tickets always count around the clock.")
    return _("Minutes count working time on branches with a working calendar (e.g. %(calendar)s: "
             "%(example)s); critical tickets always count around the clock.", calendar=calendar.name,
             example=calendars.describe_working_minutes(calendar, SLA_DEFAULTS["sla_response_normal"]))


# --- lists ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarRow:
    calendar: WorkingCalendar
    summary: str
    holidays: int
    country: str
    branches: list[str]  # branch codes


def calendar_rows() -> list[CalendarRow]:
    """Every calendar with its week in words and the branches using it (two queries)."""
    cals = db.session.execute(select(WorkingCalendar).order_by(WorkingCalendar.name)).scalars().all()
    using: dict[str, list[str]] = {}
    for cal_id, code in db.session.execute(
            select(CustomerBranch.calendar_id, CustomerBranch.branch_code)
            .where(CustomerBranch.calendar_id.is_not(None)).order_by(CustomerBranch.branch_code)):
        using.setdefault(cal_id, []).append(code)
    return [CalendarRow(c, week_summary(c.week), len(c.holidays or []), country_name(c.country), using.get(c.id, []))
            for c in cals]


def calendar_options() -> list[tuple[str, str]]:
    """(id, name) of every calendar: the branch page's select."""
    return [(c.id, c.name) for c in db.session.execute(
        select(WorkingCalendar).order_by(WorkingCalendar.name)).scalars()]


def branches_for_assignment():
    """Every branch with its customer's name, grouped by customer, and the names of the
    calendars they use now."""
    rows = db.session.execute(
        select(CustomerBranch, Customer.name, WorkingCalendar.name)
        .join(Customer, Customer.id == CustomerBranch.customer_id)
        .outerjoin(WorkingCalendar, WorkingCalendar.id == CustomerBranch.calendar_id)
        .order_by(Customer.name, CustomerBranch.branch_code)).all()
    return [(branch, customer, calendar_name) for branch, customer, calendar_name in rows]

