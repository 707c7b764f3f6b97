"""Date ranges (local dates in APP_TIMEZONE), weeks and months as buckets, and the page filters.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import (
    String,
    bindparam,
    case,
    literal,
    type_coerce,
)

from app.models import (
    CustomerBranch,
    ServiceTicket,
    TicketPriority,
)
from app.models.types import UTCDateTime
from app import clock
from app.services.errors import ValidationError
from babel.dates import format_date
from flask_babel import gettext as _, lazy_gettext as _l

from app.services.timefmt import app_zone, locale as _locale


def _day(d: date, pattern: str) -> str:
    """A date as the reader's language writes it ("07 Dec 2026", "07 дек. 2026")."""
    return format_date(d, pattern, locale=_locale())


UTC = timezone.utc
MAX_RANGE_DAYS = 1100  # about three years: 157 weeks, 37 months
REPEAT_WINDOW_DAYS = 30
PRESETS = (("week", _l("This week")), ("30d", _l("Last 30 days")), ("quarter", _l("This quarter")), ("custom", _l("Custom")))
PRIORITY_ORDER = [p.value for p in TicketPriority]
SLA_DIMENSIONS = ("overall", "priority", "category", "subcategory", "branch", "customer", "technician", "week")
COST_DIMENSIONS = ("overall", "branch", "customer", "category", "subcategory", "technician", "month")
SLA_API_GROUPS = ("priority", "category", "branch", "technician")
COST_API_GROUPS = ("branch", "month", "technician", "category", "equipment")
# Asked for by name only (the API's groupBy=equipment), not part of the page's cost report.
COST_EXTRA_DIMENSIONS = ("equipment",)


def parse_group_by(value: str | None, allowed: tuple[str, ...]) -> str:
    """The API's groupBy: one of `allowed`, the first when absent."""
    if not value:
        return allowed[0]
    if value not in allowed:
        raise ValidationError(_("Unknown groupBy"), {"groupBy": _("Use one of: %(values)s.", values=", ".join(allowed))})
    return value


# --- ranges, filters and buckets -------------------------------------------------------

@dataclass(frozen=True)
class DateRange:
    """[start, end) in UTC; first_day/last_day are the local dates it covers."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    preset: str = "custom"

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return _day(self.first_day, "dd MMM y")
        return f"{_day(self.first_day, 'dd MMM y')} – {_day(self.last_day, 'dd MMM y')}"


@dataclass(frozen=True)
class Filters:
    customer_id: str | None = None
    branch_id: str | None = None
    category_id: str | None = None
    priority: TicketPriority | None = None

    def as_args(self) -> dict:
        out = {"customer": self.customer_id, "branch": self.branch_id, "category": self.category_id,
               "priority": self.priority.value if self.priority else None}
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    start: datetime  # UTC instant of the local boundary


def local_today() -> date:
    return clock.now().astimezone(app_zone()).date()


def local_midnight(day: date, zone: ZoneInfo | None = None) -> datetime:
    """The UTC instant at which local `day` begins."""
    return datetime.combine(day, time(0), tzinfo=zone or app_zone()).astimezone(UTC)


def preset_days(preset: str, today: date) -> tuple[date, date]:
    """(first, last) local dates of a preset, ending today."""
    if preset == "week":
        return today - timedelta(days=today.weekday()), today
    if preset == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    return today - timedelta(days=29), today


def date_range(first: date, last: date, preset: str = "custom") -> DateRange:
    """Local dates, both inclusive, as a UTC half-open range."""
    if last < first:
        raise ValidationError(_("The end date is before the start date"), {"to": _("Must be on or after the start date.")})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError(_("The range is too long"), {"to": _("At most %(num)d days.", num=MAX_RANGE_DAYS)})
    zone = app_zone()
    return DateRange(local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone), first, last, preset)


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(_("%(name)s is not a date", name=name), {name: _("Use YYYY-MM-DD.")})


def _parse_bound(value: str, name: str) -> date | datetime:
    value = value.strip()
    if len(value) == 10:
        return _parse_date(value, name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(_("%(name)s is not a date or time", name=name), {name: _("Use YYYY-MM-DD or an ISO-8601 time.")})
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=app_zone())
    return parsed.astimezone(UTC)


def api_range(raw_from: str | None, raw_to: str | None) -> DateRange:
    """`from`/`to` of the API: local dates (inclusive) or ISO times; default the last 30 days."""
    zone = app_zone()
    to = _parse_bound(raw_to, "to") if raw_to else local_today()
    if raw_from:
        frm = _parse_bound(raw_from, "from")
    else:
        frm = (to.astimezone(zone).date() if isinstance(to, datetime) else to) - timedelta(days=29)
    if isinstance(frm, date) and not isinstance(frm, datetime) and isinstance(to, date) and not isinstance(to, datetime):
        return date_range(frm, to)
    start = frm if isinstance(frm, datetime) else local_midnight(frm, zone)
    end = to + timedelta(microseconds=1) if isinstance(to, datetime) else local_midnight(to + timedelta(days=1), zone)
    if end <= start:
        raise ValidationError(_("The end is before the start"), {"to": _("Must be after the start.")})
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ValidationError(_("The range is too long"), {"to": _("At most %(num)d days.", num=MAX_RANGE_DAYS)})
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return DateRange(start, end, first, last)


def week_buckets(rng: DateRange) -> list[Bucket]:
    """Monday-to-Sunday local weeks touching the range (key: the Monday, YYYY-MM-DD)."""
    zone = app_zone()
    day = rng.start.astimezone(zone).date()
    day -= timedelta(days=day.weekday())
    out = []
    while True:
        start = local_midnight(day, zone)
        if start >= rng.end:
            break
        out.append(Bucket(day.isoformat(), _day(day, "dd MMM"), start))
        day += timedelta(days=7)
    return out


def month_buckets(rng: DateRange) -> list[Bucket]:
    """Local calendar months touching the range (key YYYY-MM)."""
    zone = app_zone()
    first = rng.start.astimezone(zone).date().replace(day=1)
    out = []
    while True:
        start = local_midnight(first, zone)
        if start >= rng.end:
            break
        out.append(Bucket(first.strftime("%Y-%m"), _day(first, "LLL y"), start))
        first = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return out


def bucket_case(col, n: int, prefix: str):
    """The bucket key of a timestamp known to lie in the range: a balanced CASE over the
    UTC boundaries (parameters `{prefix}b{i}`, keys `{prefix}k{i}`), about log2(n)
    comparisons per row, portable SQL."""

    def build(lo: int, hi: int):
        if hi - lo == 1:
            return bindparam(f"{prefix}k{lo}", type_=String)
        mid = (lo + hi) // 2
        return case((col < bindparam(f"{prefix}b{mid}", type_=UTCDateTime()), build(lo, mid)), else_=build(mid, hi))

    if n == 0:
        return literal("", String)
    return build(0, n)


def bucket_params(buckets: list[Bucket], prefix: str) -> dict:
    params = {f"{prefix}k{i}": b.key for i, b in enumerate(buckets)}
    params.update({f"{prefix}b{i}": b.start for i, b in enumerate(buckets)})
    return params


FILTER_KEYS = ("customer", "branch", "category", "priority")


def _filter_keys(filters: Filters) -> tuple[str, ...]:
    values = filters_params(filters)
    return tuple(k for k in FILTER_KEYS if f"f_{k}" in values)


def filters_params(filters: Filters) -> dict:
    out = {"f_customer": filters.customer_id, "f_branch": filters.branch_id, "f_category": filters.category_id,
           "f_priority": filters.priority.value if filters.priority else None}
    return {k: v for k, v in out.items() if v}


def _filter_conditions(keys: tuple[str, ...], T=ServiceTicket, B=CustomerBranch) -> list:
    """The filters in use as conditions on parameters `f_<name>`."""
    columns = {"customer": B.customer_id, "branch": T.branch_id, "category": T.category_id, "priority": T.priority}
    return [(columns[k] if k != "priority" else type_coerce(T.priority, String)) == bindparam(f"f_{k}", type_=String)
            for k in keys]


def _tickets_from(need_branch: bool):
    """FROM service_tickets, joined to its branch only when a customer is asked for."""
    T, B = ServiceTicket.__table__, CustomerBranch.__table__
    return T.join(B, B.c.id == T.c.branch_id) if need_branch else T


def _ticket_conditions(filters: Filters, T=ServiceTicket, B=CustomerBranch) -> list:
    conds = []
    if filters.customer_id:
        conds.append(B.customer_id == filters.customer_id)
    if filters.branch_id:
        conds.append(T.branch_id == filters.branch_id)
    if filters.category_id:
        conds.append(T.category_id == filters.category_id)
    if filters.priority:
        conds.append(T.priority == filters.priority)
    return conds


def _as_utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
