"""How people see times and money (docs/time-and-money.md). Storage and the API stay in
UTC and plain decimals; everything a person reads goes through here:

- times in APP_TIMEZONE, one 24-hour style ("7 Dec 14:25"; the year only when it is not
  this year), with the zone ("7 Dec 14:25 UTC+5") where a time could be read in another
  zone: due times, the timeline, the PDF, Telegram and SMS;
- amounts with the currency (CURRENCY, ISO 4217) through Babel: "$1,234.50", "UZS 1,234.50".

Babel formats for the reader's language (app/i18n.py: the user's, the browser's, or
DEFAULT_LOCALE).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.numbers import (
    UnknownCurrencyError,
    format_compact_currency,
    format_currency,
    get_currency_name,
    validate_currency,
)
from flask import current_app, has_app_context
from app.i18n import gettext as _, ngettext

from app import clock

# One pattern per kind of time a page shows (CLDR patterns: HH is 00-23).
PATTERNS = {
    "datetime": "d MMM HH:mm",  # this year's; another year's adds the year
    "full": "d MMM y HH:mm",  # always with the year (documents: the PDF)
    "date": "d MMM y",
    "day": "d MMM",
    "time": "HH:mm",
    "seconds": "HH:mm:ss",
    "sortable": "y-MM-dd HH:mm",  # CSV cells: sorts as text, read by spreadsheets
}
# strftime formats older templates pass, read as the style they meant.
_LEGACY = {
    "%d %b %Y %H:%M": "datetime",
    "%d %b %H:%M": "datetime",
    "%H:%M": "time",
    "%H:%M:%S": "seconds",
    "%d %b %Y": "date",
    "%d %b": "day",
    "%Y-%m-%d %H:%M": "sortable",
}
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


def locale() -> str:
    """The reader's language (app/i18n.py): Babel formats dates, numbers and money for it."""
    if not has_app_context():
        return "en"
    from app import i18n

    return i18n.current()


def app_zone() -> ZoneInfo:
    name = current_app.config.get("APP_TIMEZONE", "UTC") if has_app_context() else "UTC"
    return _zone(name)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.astimezone(app_zone())


def zone_label(dt: datetime | None = None) -> str:
    """The zone as a UTC offset at `dt` (now by default): "UTC", "UTC+5", "UTC-4",
    "UTC+5:30". An offset reads the same in every language and is never ambiguous, unlike
    abbreviations ("+05", "IST")."""
    offset = (dt or clock.now()).astimezone(app_zone()).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_str(dt: datetime | None, style: str = "datetime", zone: bool = False) -> str:
    """`dt` in APP_TIMEZONE in one of PATTERNS' styles ("7 Dec 14:25"), with the zone
    label after it when `zone` ("7 Dec 14:25 UTC+5"); "—" for no time."""
    if dt is None:
        return "—"
    style = _LEGACY.get(style, style)
    local = dt.astimezone(app_zone())
    pattern = PATTERNS.get(style)
    if pattern is None:  # an unknown strftime format: still local, still 24-hour if asked
        text = local.strftime(style)
    else:
        if style == "datetime" and local.year != clock.now().astimezone(app_zone()).year:
            pattern = PATTERNS["full"]
        text = _formatted(local.replace(tzinfo=None), pattern, locale())
    return f"{text} {zone_label(dt)}" if zone else text


@lru_cache(maxsize=8192)
def _formatted(wall: datetime, pattern: str, language: str) -> str:
    """Babel's text for a wall-clock time (PATTERNS carry no zone): a pure function of
    its arguments, and the busiest pages (the board: ~200 times a page) show the same
    tickets' times on every request, so each text is worked out once."""
    return format_datetime(wall.replace(tzinfo=timezone.utc), pattern, tzinfo=timezone.utc, locale=language)


def zoned(dt: datetime | None, style: str = "datetime") -> str:
    """A time that could be read in another zone (due times, the timeline): with its zone."""
    return local_str(dt, style, zone=True)


def iso_utc(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def currency() -> str:
    return (current_app.config.get("CURRENCY") if has_app_context() else None) or "USD"


def money(value: Decimal | float | int | None) -> str:
    """An amount as every page, PDF and message shows it: with the currency ("$1,234.50",
    "UZS 1,234.50"); "—" for none."""
    if value is None:
        return "—"
    return _spaced(format_currency(Decimal(str(value)), currency(), locale=locale()))


def quantity(value: Decimal | float | int | None) -> str:
    """A quantity or a number of hours as the reader writes numbers ("1.5", ru "1,5"),
    without trailing zeros; "—" for none."""
    if value is None:
        return "—"
    from babel.numbers import format_decimal

    return format_decimal(Decimal(str(value)).normalize(), "#,##0.###", locale=locale())


def short_money(value: Decimal | float | int) -> str:
    """An axis label: "$12K"."""
    return _spaced(format_compact_currency(Decimal(str(value)), currency(), locale=locale(), fraction_digits=1))


def _spaced(text: str) -> str:
    """A currency shown by its code keeps a (no-break) space from the digits, as CLDR's
    currency spacing asks and Babel does not do: "UZS 150,000.00", not "UZS150,000.00"."""
    code = currency()
    text = re.sub(rf"^(-?){code}(?=\d)", lambda m: f"{m.group(1)}{code}\xa0", text)
    return re.sub(rf"(?<=\d){code}$", lambda m: f"\xa0{code}", text)


def money_header(label: str) -> str:
    """A column of amounts names its currency once: "Total (USD)"."""
    return f"{label} ({currency()})"


def check_settings(config) -> None:
    """Refuse to start with a CURRENCY that is not an ISO 4217 code, or an APP_TIMEZONE
    that is not an IANA zone: a clear message now, not wrong amounts later."""
    code = str(config.get("CURRENCY") or "USD").strip().upper()
    try:
        if not _CURRENCY_CODE.match(code):
            raise UnknownCurrencyError(code)
        validate_currency(code, locale="en")
    except UnknownCurrencyError:
        raise ValueError(f"CURRENCY={config.get('CURRENCY')!r} is not an ISO 4217 currency code "
                         "(three letters, e.g. USD, EUR, UZS).") from None
    config["CURRENCY"] = code
    name = str(config.get("APP_TIMEZONE") or "UTC")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"APP_TIMEZONE={name!r} is not a time zone name (e.g. UTC, Asia/Tashkent).") from None
    code = str(config.get("DEFAULT_LOCALE") or "en").strip().lower()
    if code not in ("en", "ru", "uz"):  # app.i18n.LOCALES
        raise ValueError(f"DEFAULT_LOCALE={config.get('DEFAULT_LOCALE')!r} is not one of the app's "
                         "languages (en, ru, uz).")
    config["DEFAULT_LOCALE"] = code


def currency_name() -> str:
    """"US Dollar": where a form says what its amounts are in."""
    return get_currency_name(currency(), locale=locale())


def span(seconds: float, *, compact: bool = False) -> str:
    """How long, at a glance (countdowns, ages): "45 min", "3 h 05 min", "2 d 4 h";
    `compact` for the board's chips: "45s", "12m", "3h 05m", "2d 4h" (each in the reader's
    language: "3 ч 05 мин", "3ч 05м"; abbreviated units do not decline). The one Python
    home of this rule; static/js/board.js ticks the same between polls."""
    seconds = int(abs(seconds))
    if compact and seconds < 60:
        return _("%(seconds)ds", seconds=seconds)
    minutes = seconds // 60
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if compact:
        if minutes < 60:
            return _("%(minutes)dm", minutes=minutes)
        if days == 0:
            return _("%(hours)dh %(minutes)02dm", hours=hours, minutes=mins)
        return _("%(days)dd %(hours)dh", days=days, hours=hours)
    if minutes < 60:
        return _("%(minutes)d min", minutes=minutes)
    if days == 0:
        return _("%(hours)d h %(minutes)02d min", hours=hours, minutes=mins)
    return _("%(days)d d %(hours)d h", days=days, hours=hours)


def duration(minutes: int | float | None) -> str:
    """A length of time set in minutes, exactly, in words: "45 min", "1 h 30 min",
    "24 h" -> "1 day", "1 day 12 h", "2 days" (SLA settings are whole minutes); the day
    in the language's plural ("1 день", "2 дня", "5 дней")."""
    if minutes is None:
        return "—"
    m = int(round(minutes))
    days, rest = divmod(m, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        if hours and mins:
            return ngettext("%(num)d day %(hours)d h %(minutes)d min", "%(num)d days %(hours)d h %(minutes)d min",
                            days, hours=hours, minutes=mins)
        if hours:
            return ngettext("%(num)d day %(hours)d h", "%(num)d days %(hours)d h", days, hours=hours)
        if mins:
            return ngettext("%(num)d day %(minutes)d min", "%(num)d days %(minutes)d min", days, minutes=mins)
        return ngettext("%(num)d day", "%(num)d days", days)
    if hours and mins:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=mins)
    if hours:
        return _("%(hours)d h", hours=hours)
    return _("%(minutes)d min", minutes=mins)


def _relative(seconds: float, now: Callable[[], str], minutes: Callable[[int], str],
              hours: Callable[[int], str], days: Callable[[int], str]) -> str:
    """The one rule of `ago` and `until`: under a minute is "now", then whole minutes,
    whole hours, whole days (a negative span counts as none); the words are the caller's
    (whole sentences, so each language orders them its own way)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return now()
    if seconds < 3600:
        return minutes(seconds // 60)
    if seconds < 86400:
        return hours(seconds // 3600)
    return days(seconds // 86400)


def ago(seconds: float) -> str:
    """How long ago, in the reader's language: "just now", "5 min ago", "3 h ago",
    "2 days ago" ("2 дня назад", "5 дней назад")."""
    return _relative(seconds, lambda: _("just now"),
                     lambda n: _("%(minutes)d min ago", minutes=n),
                     lambda n: _("%(hours)d h ago", hours=n),
                     lambda n: ngettext("%(num)d day ago", "%(num)d days ago", n))


def until(seconds: float) -> str:
    """How long until, in the reader's language: "in 5 min", "in 3 h", "in 2 days"
    ("через 2 дня"); "now" when it is due."""
    return _relative(seconds, lambda: _("now"),
                     lambda n: _("in %(minutes)d min", minutes=n),
                     lambda n: _("in %(hours)d h", hours=n),
                     lambda n: ngettext("in %(num)d day", "in %(num)d days", n))
