"""Analytics for the operations manager: SLA compliance, technician performance, cost.

Every figure is computed by aggregate SQL, the same statements on SQLite and
PostgreSQL; Python only reshapes the few hundred grouped rows that come back.

Definitions (the page explains them in words too):

* **Range.** `from`/`to` are local dates (APP_TIMEZONE), both inclusive, turned into
  the UTC instants of local midnight (DST-correct, via zoneinfo). SLA figures are over
  tickets *created* in the range; cost over approved completions whose ticket was
  *closed* in the range; technician activity over events and decisions in the range.
* **Response** is measured once the technician first responded, or once its due time
  passed while the ticket was still waiting (open, or closed after it was due).
  Met = `first_response_at <= response_due_at`. A ticket still open and not yet due,
  or closed unanswered before it was due, is not measured.
* **Resolution** is measured once the ticket was closed by approving a completion, or
  the due time passed while it was unresolved (open, closed without completion after
  it was due, or waiting for approval of work submitted late). Met = the finally
  approved completion was submitted by `resolution_due_at` (the ticket's
  `completed_at`, which a rejection clears). Work submitted on time and still
  awaiting approval is not measured yet: the decision settles it.
* **Times** (response, resolution, arrival on site) are whole minutes from creation
  (rounded down). Medians and 90th percentiles interpolate between the two nearest
  ranks like PostgreSQL's percentile_cont, read off per-minute histograms with running
  sums (window functions both databases have), so no sort of the tickets is needed.
* **Weeks** start on Monday 00:00 local, **months** on the 1st 00:00 local. Bucket
  boundaries are computed in Python from the zone's rules and applied in SQL as a
  balanced CASE over UTC instants, so a DST change or a month boundary falls exactly
  where the wall clock says.
* **Repeat fault**: a ticket created within 30 days after another ticket of the same
  branch and subcategory was closed with approved work.
* **At risk**: open (NEW, ASSIGNED, IN_PROGRESS) tickets whose unanswered response or
  whose resolution has used up SLA_WARNING_FRACTION of its window, or is overdue.

Speed (bench/analytics_bench.py, a million tickets): each report reads its rows once
into materialized narrow facts and groups them with hash aggregates only (sorting a
year of text keys costs more than everything else together); statements are built once
per shape and cached, values are parameters; on PostgreSQL the page's five big queries
run side by side (ANALYTICS_THREADS) with JIT off and a roomier work_mem.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from app.extensions import db
from app.models import (
    ApprovalStatus,
    Customer,
    CustomerBranch,
    IssueCategory,
    IssueSubcategory,
    ServiceCompletion,
    ServiceTicket,
    Technician,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from app.models.types import UTCDateTime
from app.services import clock, sla_clock
from app.services.errors import ValidationError
from app.services.timefmt import app_zone

UTC = timezone.utc
MAX_RANGE_DAYS = 1100  # about three years: 157 weeks, 37 months
REPEAT_WINDOW_DAYS = 30
PRESETS = (("week", "This week"), ("30d", "Last 30 days"), ("quarter", "This quarter"), ("custom", "Custom"))
PRIORITY_ORDER = [p.value for p in TicketPriority]
SLA_DIMENSIONS = ("overall", "priority", "category", "subcategory", "branch", "customer", "technician", "week")
COST_DIMENSIONS = ("overall", "branch", "customer", "category", "subcategory", "technician", "month")
SLA_API_GROUPS = ("priority", "category", "branch", "technician")
COST_API_GROUPS = ("branch", "month", "technician", "category")


def parse_group_by(value: str | None, allowed: tuple[str, ...]) -> str:
    """The API's groupBy: one of `allowed`, the first when absent."""
    if not value:
        return allowed[0]
    if value not in allowed:
        raise ValidationError("Unknown groupBy", {"groupBy": "Use one of: " + ", ".join(allowed) + "."})
    return value


# --- portable SQL pieces --------------------------------------------------------------

class epoch_seconds(FunctionElement):
    """Seconds since 1970 of a naive-UTC timestamp column, as a float, on both databases."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element, compiler, **kw):
    # date_part is double precision; EXTRACT is numeric since PostgreSQL 14, and slower.
    return "date_part('epoch', %s)" % compiler.process(element.clauses, **kw)


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


class days_before(FunctionElement):
    """A timestamp column minus a whole number of days, comparable with the column
    (SQLite keeps the stored '.ffffff' so string comparison stays exact)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "days_before"


@compiles(days_before, "postgresql")
def _days_before_pg(element, compiler, **kw):
    col, days = list(element.clauses)
    return "(%s - make_interval(days => %s))" % (compiler.process(col, **kw), compiler.process(days, **kw))


@compiles(days_before, "sqlite")
def _days_before_sqlite(element, compiler, **kw):
    col, days = list(element.clauses)
    c = compiler.process(col, **kw)
    return "(strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, '-' || %s || ' days') || substr(%s, 20))" % (
        c, compiler.process(days, **kw), c)


class json_text(FunctionElement):
    """json_text(body, "field"): a top-level field of a JSON document kept as text, as
    text (NULL if absent). The field name is code, never input; it rides along as a
    literal column so that it is part of the statement's cache key."""

    type = String()
    inherit_cache = True
    name = "json_text"

    def __init__(self, body, key: str):
        if not key.isidentifier():
            raise ValueError(key)
        super().__init__(body, literal_column(key))


def _json_parts(element, compiler, **kw):
    body, key = list(element.clauses)
    return compiler.process(body, **kw), key.name


@compiles(json_text, "postgresql")
def _json_text_pg(element, compiler, **kw):
    return "(CAST(%s AS JSON) ->> '%s')" % _json_parts(element, compiler, **kw)


@compiles(json_text, "sqlite")
def _json_text_sqlite(element, compiler, **kw):
    return "json_extract(%s, '$.%s')" % _json_parts(element, compiler, **kw)


class whole_minutes(FunctionElement):
    """Whole minutes (rounded down) from `earlier` to `later`; NULL when either is NULL.

    A hair (1e-5 min, 0.6 ms) is added before rounding down: SQLite's julianday() carries
    ~50 microseconds of floating-point error, and an exact 60 minutes must not become 59."""

    type = Integer()
    inherit_cache = True
    name = "whole_minutes"


@compiles(whole_minutes, "postgresql")
def _whole_minutes_pg(element, compiler, **kw):
    later, earlier = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST(floor(date_part('epoch', %s - %s) / 60.0 + 1e-5) AS INTEGER)" % (later, earlier)


@compiles(whole_minutes, "sqlite")
def _whole_minutes_sqlite(element, compiler, **kw):
    later, earlier = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST((julianday(%s) - julianday(%s)) * 1440.0 + 1e-5 AS INTEGER)" % (later, earlier)


class cents(FunctionElement):
    """A NUMERIC(.., 2) amount as whole hundredths, an integer (exact: the amount has two
    decimals; SQLite keeps NUMERIC as a float, hence the rounding)."""

    type = BigInteger()
    inherit_cache = True
    name = "cents"


@compiles(cents)
def _cents(element, compiler, **kw):
    return "CAST(ROUND(%s * 100) AS BIGINT)" % compiler.process(element.clauses, **kw)


class slot_of(FunctionElement):
    """The number of the `days`-long slot, counted from 1970, that a timestamp falls in.
    (`days` is written into the SQL, so GROUP BY can repeat the very same expression.)"""

    type = BigInteger()
    inherit_cache = True
    name = "slot_of"

    def __init__(self, ts, days: int):
        super().__init__(ts, literal_column(str(int(days))))


@compiles(slot_of, "postgresql")
def _slot_pg(element, compiler, **kw):
    ts, days = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST(floor(date_part('epoch', %s) / (86400.0 * %s)) AS BIGINT)" % (ts, days)


@compiles(slot_of, "sqlite")
def _slot_sqlite(element, compiler, **kw):
    ts, days = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST((julianday(%s) - 2440587.5) / %s AS INTEGER)" % (ts, days)


def _at(value: datetime):
    """A timestamp parameter stored the way the columns are (naive UTC)."""
    return literal(value, UTCDateTime())


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
            return self.first_day.strftime("%d %b %Y")
        return f"{self.first_day.strftime('%d %b %Y')} – {self.last_day.strftime('%d %b %Y')}"


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
        raise ValidationError("The end date is before the start date", {"to": "Must be on or after the start date."})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError("The range is too long", {"to": f"At most {MAX_RANGE_DAYS} days."})
    zone = app_zone()
    return DateRange(local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone), first, last, preset)


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{name} is not a date", {name: "Use YYYY-MM-DD."})


def _parse_bound(value: str, name: str) -> date | datetime:
    value = value.strip()
    if len(value) == 10:
        return _parse_date(value, name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name} is not a date or time", {name: "Use YYYY-MM-DD or an ISO-8601 time."})
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
        raise ValidationError("The end is before the start", {"to": "Must be after the start."})
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ValidationError("The range is too long", {"to": f"At most {MAX_RANGE_DAYS} days."})
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
        out.append(Bucket(day.isoformat(), day.strftime("%d %b"), start))
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
        out.append(Bucket(first.strftime("%Y-%m"), first.strftime("%b %Y"), start))
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


# --- roll-ups: one row per group of each dimension ------------------------------------

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _roomy_sorts() -> None:
    """PostgreSQL settings for this transaction's analytic statements (SET LOCAL: they
    end with the transaction). work_mem (ANALYTICS_WORK_MEM, default 128MB) keeps the
    hash aggregates and sorts of a year of tickets in memory (the server default of 4MB
    spills them to disk). JIT off: LLVM compiling these wide expressions (the week CASE,
    a dozen aggregates) costs seconds, more than running them."""
    if _dialect() == "postgresql":
        value = str(current_app.config.get("ANALYTICS_WORK_MEM") or "128MB")
        if not value.replace("MB", "").replace("kB", "").replace("GB", "").isdigit():
            raise ValueError("ANALYTICS_WORK_MEM must look like 128MB")
        db.session.execute(text(f"SET LOCAL work_mem = '{value}'"))
        db.session.execute(text("SET LOCAL jit = off"))
        if int(current_app.config.get("ANALYTICS_THREADS") or 5) > 1:
            # The page already runs its statements side by side (see _side_by_side).
            db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def _grouping_sets(facts, sets: dict[str, tuple[str, ...]], measures, types: dict):
    """(grp, <every key column>, *measures): the measures for every group of every set of
    key columns (a column not in the row's set is NULL): the facts are materialized once
    and each set is one hash aggregate over them (UNION ALL).

    The same SQL on SQLite and PostgreSQL. (PostgreSQL's GROUP BY GROUPING SETS would
    scan once too, but its planner sorts some sets, and sorting a year of text keys costs
    more than reading the materialized facts a few times.)"""
    names = list(dict.fromkeys(c for cols in sets.values() for c in cols))
    f = facts.cte("f").prefix_with("MATERIALIZED")
    return union_all(*[
        select(literal(name, String).label("grp"),
               *[(type_coerce(f.c[n], types.get(n, String())) if n in cols else cast(null(), types.get(n, String())))
                 .label(n) for n in names],
               *measures(f)).group_by(*[f.c[c] for c in cols])
        for name, cols in sets.items()])


# Dimensions read through another: a subcategory's category, a branch's customer.
DERIVED = {"category": ("subcategory", IssueSubcategory, "category_id"),
           "customer": ("branch", CustomerBranch, "customer_id")}


def _rolled_up(g, dims: tuple[str, ...], keys: dict[str, str], measures, bucket_dim: str):
    """From the grouping-set rows `g`: one row per group of each dimension, summed up
    from the finest set "b" (all dimension keys at once; category and customer through
    the subcategory and the branch), or read from the set of the time bucket (weeks or
    months cut across the others)."""
    parts = []
    for d in dims:
        head = literal(d, String).label("grp")
        if d == bucket_dim:
            k = g.c[keys[d]]
            parts.append(select(head, k.label("k1"), *measures(g)).where(g.c.grp == d).group_by(k))
        elif d == "overall":
            parts.append(select(head, cast(null(), String).label("k1"), *measures(g)).where(g.c.grp == "b"))
        elif d in DERIVED and keys[DERIVED[d][0]] in g.c:
            via, model, column = DERIVED[d]
            other = aliased(model)
            k = getattr(other, column)
            parts.append(select(head, k.label("k1"), *measures(g))
                         .select_from(g.join(other, other.id == g.c[keys[via]]))
                         .where(g.c.grp == "b").group_by(k))
        else:
            k = g.c[keys[d]]
            parts.append(select(head, k.label("k1"), *measures(g)).where(g.c.grp == "b").group_by(k))
    return parts


def _base_keys(dims, keys: dict[str, str], bucket_dim: str, extra=()) -> tuple[str, ...]:
    """The key columns of the finest set: derived dimensions come from their source."""
    cols = []
    for d in dims + tuple(extra):
        if d in ("overall", bucket_dim):
            continue
        cols.append(keys[DERIVED[d][0]] if d in DERIVED else keys[d])
    return tuple(dict.fromkeys(cols))


def _labelled(rows):
    """`rows` (grp, k1, ...) with the display name of the group's id, where it is one."""
    r = rows.subquery("r")
    cat, sub, br, cu, te = (aliased(IssueCategory), aliased(IssueSubcategory), aliased(CustomerBranch),
                            aliased(Customer), aliased(Technician))
    label = func.coalesce(cat.name, sub.name, br.branch_name + " (" + br.branch_code + ")", cu.name, te.name)
    return (
        select(r, label.label("label"))
        .outerjoin(cat, and_(r.c.grp == "category", cat.id == r.c.k1))
        .outerjoin(sub, and_(r.c.grp == "subcategory", sub.id == r.c.k1))
        .outerjoin(br, and_(r.c.grp == "branch", br.id == r.c.k1))
        .outerjoin(cu, and_(r.c.grp == "customer", cu.id == r.c.k1))
        .outerjoin(te, and_(r.c.grp == "technician", te.id == r.c.k1))
    )


def _histogram_percentiles(g, key: str, metrics: tuple[str, ...], with_overall: bool):
    """(metric, k, n, median, p90) from the histogram rows of `g` (grp "h:<metric>": the
    group in column `key`, a value in column <metric>, its frequency in `tickets`). Linear interpolation between the two
    nearest ranks, as PostgreSQL's percentile_cont: for n values the median sits at rank
    (n-1)/2 + 1 and the 90th percentile at 0.9(n-1) + 1; the value at rank r is the
    smallest one whose running count reaches r."""
    hist = union_all(*[
        select(literal(m, String).label("metric"), g.c[key].label("k"), cast(g.c[m], Float).label("v"),
               g.c.tickets.label("c")).where(g.c.grp == f"h:{m}", g.c[m].is_not(None))
        for m in metrics])
    if with_overall:
        inner = hist.subquery()
        overall = select(inner.c.metric, literal("", String).label("k"), inner.c.v, func.sum(inner.c.c).label("c")) \
            .group_by(inner.c.metric, inner.c.v)
        hist = union_all(select(hist.subquery()), overall)
    h = hist.subquery("h")
    part = (h.c.metric, h.c.k)
    # Integer counts (PostgreSQL's SUM of integers is numeric, and rank arithmetic below
    # must divide whole numbers).
    cum = select(h.c.metric, h.c.k, h.c.v,
                 cast(func.sum(h.c.c).over(partition_by=part, order_by=h.c.v, rows=(None, 0)), BigInteger)
                 .label("cum"),
                 cast(func.sum(h.c.c).over(partition_by=part), BigInteger).label("n")).subquery("cum")
    n = cum.c.n

    def value_at(rank):
        return func.min(case((cum.c.cum >= rank, cum.c.v)))

    p_lo = (9 * (n - 1)) // 10 + 1
    frac = ((9 * (n - 1)) % 10) / 10.0
    at_lo, at_hi = value_at(p_lo), value_at(p_lo + 1)
    return select(
        cum.c.metric, cum.c.k, n.label("n"),
        ((value_at((n - 1) // 2 + 1) + value_at(n // 2 + 1)) / 2.0).label("median"),
        (at_lo + frac * (func.coalesce(at_hi, at_lo) - at_lo)).label("p90"),
    ).group_by(cum.c.metric, cum.c.k, n)


def _python_label(dim: str, key: str, label: str | None, buckets: dict[str, Bucket]) -> str:
    if dim == "priority":
        return key.title()
    if dim in ("week", "month"):
        b = buckets.get(key)
        return b.label if b else key
    if dim == "overall":
        return "All tickets"
    if dim == "technician" and not key:
        return "Unassigned"
    return label or "(deleted)"


# --- SLA -------------------------------------------------------------------------------

SLA_KEYS = {"overall": "all", "priority": "priority", "category": "category", "subcategory": "subcategory",
            "branch": "branch", "customer": "customer", "technician": "technician", "week": "week"}
TIME_DIMENSIONS = ("overall", "priority")  # the page's medians and 90th percentiles
TIME_METRICS = {"resp_m": "Response", "res_m": "Resolution", "arr_m": "Arrival"}


def _sla_facts(columns, n_weeks: int, filter_keys: tuple[str, ...]):
    """One row per ticket created in the range: its group keys, 0/1 flags and times in
    whole minutes."""
    T, B = ServiceTicket, CustomerBranch
    now_p = bindparam("now", type_=UTCDateTime())
    approved = and_(T.status == TicketStatus.CLOSED, T.completed_at.is_not(None))
    waited_until = func.coalesce(T.closed_at, now_p)
    keys = {
        "all": literal("", String).label("all"),
        "priority": type_coerce(T.priority, String).label("priority"),
        "category": T.category_id.label("category"),
        "subcategory": T.subcategory_id.label("subcategory"),
        "branch": T.branch_id.label("branch"),
        "customer": B.customer_id.label("customer"),
        "technician": func.coalesce(T.assigned_technician_id, "").label("technician"),
        "week": bucket_case(T.created_at, n_weeks, "w").label("week"),
    }
    return (
        select(
            *[keys[c] for c in columns],
            case((T.first_response_at.is_not(None), 1), (waited_until > T.response_due_at, 1),
                 else_=0).label("resp_measured"),
            case((and_(T.first_response_at.is_not(None), T.first_response_at <= T.response_due_at), 1),
                 else_=0).label("resp_met"),
            case((approved, 1),
                 (and_(T.status == TicketStatus.COMPLETED, T.completed_at <= T.resolution_due_at), 0),
                 (waited_until > T.resolution_due_at, 1),
                 else_=0).label("res_measured"),
            case((and_(approved, T.completed_at <= T.resolution_due_at), 1), else_=0).label("res_met"),
            whole_minutes(T.first_response_at, T.created_at).label("resp_m"),
            case((approved, whole_minutes(T.completed_at, T.created_at))).label("res_m"),
            whole_minutes(T.arrived_at, T.created_at).label("arr_m"),
        )
        .select_from(_tickets_from("customer" in filter_keys or "customer" in columns))
        .where(T.created_at >= bindparam("start", type_=UTCDateTime()),
               T.created_at < bindparam("end", type_=UTCDateTime()), *_filter_conditions(filter_keys))
    )


def _sla_measures(f):
    return [func.count().label("tickets"), func.sum(f.c.resp_measured).label("resp_measured"),
            func.sum(f.c.resp_met).label("resp_met"), func.sum(f.c.res_measured).label("res_measured"),
            func.sum(f.c.res_met).label("res_met")]


def _sla_sums(g):
    return [cast(func.sum(g.c.tickets), BigInteger).label("tickets"),
            cast(func.sum(g.c.resp_measured), BigInteger).label("resp_measured"),
            cast(func.sum(g.c.resp_met), BigInteger).label("resp_met"),
            cast(func.sum(g.c.res_measured), BigInteger).label("res_measured"),
            cast(func.sum(g.c.res_met), BigInteger).label("res_met")]


@lru_cache(maxsize=128)
def _sla_statement(dims: tuple[str, ...], time_dims: tuple[str, ...], n_weeks: int,
                   filter_keys: tuple[str, ...]):
    """One statement: the tickets of the range are read once into narrow facts; counts
    per combination of all dimension keys, per week, and per-minute histograms of the
    times; then the small roll-ups to each dimension and the medians and 90th
    percentiles. Built once per shape (dimensions, weeks, filters in use, database); the
    values are parameters, so SQLAlchemy's compiled-statement cache serves later calls."""
    time_key = next((d for d in time_dims if d != "overall"), "overall")
    base = _base_keys(dims, SLA_KEYS, "week")
    facts_cols = tuple(dict.fromkeys(base + (("week",) if "week" in dims else ())
                                     + ((SLA_KEYS[time_key],) if time_dims else ())))
    sets = {"b": base}
    if "week" in dims:
        sets["week"] = ("week",)
    if time_dims:
        for metric in TIME_METRICS:
            sets[f"h:{metric}"] = (SLA_KEYS[time_key], metric)
    types = {m: Integer() for m in TIME_METRICS}
    g = _grouping_sets(_sla_facts(facts_cols, n_weeks, filter_keys), sets, _sla_measures, types) \
        .cte("g").prefix_with("MATERIALIZED")
    parts = [select(r.c.grp, r.c.k1, r.c.tickets, r.c.resp_measured, r.c.resp_met, r.c.res_measured, r.c.res_met,
                    cast(null(), String).label("metric"), cast(null(), BigInteger).label("n"),
                    cast(null(), Float).label("median"), cast(null(), Float).label("p90"))
             for r in [p.subquery() for p in _rolled_up(g, dims, SLA_KEYS, _sla_sums, "week")]]
    if time_dims:
        t = _histogram_percentiles(g, SLA_KEYS[time_key], tuple(TIME_METRICS),
                                   "overall" in time_dims and time_key != "overall").subquery("t")
        grp = case((t.c.k == "", literal("overall", String)), else_=literal(time_key, String))
        parts.append(select(grp.label("grp"), t.c.k.label("k1"), *[cast(null(), BigInteger).label(c) for c in (
            "tickets", "resp_measured", "resp_met", "res_measured", "res_met")],
            t.c.metric, t.c.n, type_coerce(t.c.median, Float).label("median"),
            type_coerce(t.c.p90, Float).label("p90")))
    return _labelled(union_all(*parts))


def sla_report(rng: DateRange, filters: Filters, dims: Iterable[str] = SLA_DIMENSIONS,
               now: datetime | None = None, time_dims: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """SLA rows per dimension over tickets created in the range: compliance for every
    dimension asked; medians and 90th percentiles of the times (whole minutes) for
    `time_dims`: by default overall and by priority, what the page shows (the API asks
    for its one groupBy). At most one dimension besides "overall" gets times."""
    _roomy_sorts()
    dims = tuple(d for d in SLA_DIMENSIONS if d in set(dims))
    if time_dims is None:
        time_dims = [d for d in dims if d in TIME_DIMENSIONS]
    time_dims = tuple(d for d in dims if d in set(time_dims) and d != "week")
    if len([d for d in time_dims if d != "overall"]) > 1:
        raise ValueError("times for at most one dimension besides overall")
    now = now or clock.now()
    weeks = week_buckets(rng) if "week" in dims else []
    stmt = _sla_statement(dims, time_dims, len(weeks), _filter_keys(filters))
    params = {"start": rng.start, "end": rng.end, "now": now, **bucket_params(weeks, "w"), **filters_params(filters)}
    by_key = {b.key: b for b in weeks}
    out: dict[str, list[dict]] = {d: [] for d in dims}
    rows: dict[tuple[str, str], dict] = {}
    times = []
    for r in db.session.execute(stmt, params).mappings():
        dim, key = r["grp"], r["k1"] or ""
        if r["metric"] is not None:
            times.append(r)
            continue
        row = _empty_sla_row(Bucket(key, _python_label(dim, key, r["label"], by_key), rng.start))
        row["key"] = key or None
        m, n = int(r["resp_met"] or 0), int(r["resp_measured"] or 0)
        rm, rn = int(r["res_met"] or 0), int(r["res_measured"] or 0)
        row.update(tickets=int(r["tickets"] or 0), responseMeasured=n, responseMet=m, responseCompliance=_ratio(m, n),
                   resolutionMeasured=rn, resolutionMet=rm, resolutionCompliance=_ratio(rm, rn))
        out[dim].append(row)
        rows[(dim, key)] = row
    for r in times:
        row = rows.get((r["grp"], r["k1"] or ""))
        if row is None:
            continue
        name = TIME_METRICS[r["metric"]]
        row[f"median{name}Minutes"] = _round(r["median"])
        row[f"p90{name}Minutes"] = _round(r["p90"])
        if name == "Arrival":
            row["arrivals"] = int(r["n"])
    for dim in dims:
        out[dim] = _order(dim, out[dim], by_key, "tickets")
    if "week" in dims:
        out["week"] = _fill_buckets(out["week"], weeks, _empty_sla_row)
    return out


def _ratio(met, measured):
    return round(met / measured, 4) if measured else None


def _round(value, places=1):
    return None if value is None else round(float(value), places)


def _empty_sla_row(bucket: Bucket) -> dict:
    return {"key": bucket.key, "label": bucket.label, "tickets": 0, "responseMeasured": 0, "responseMet": 0,
            "responseCompliance": None, "resolutionMeasured": 0, "resolutionMet": 0, "resolutionCompliance": None,
            "medianResponseMinutes": None, "p90ResponseMinutes": None, "medianResolutionMinutes": None,
            "p90ResolutionMinutes": None, "arrivals": 0, "medianArrivalMinutes": None, "p90ArrivalMinutes": None}


def _order(dim: str, rows: list[dict], buckets: dict, measure: str) -> list[dict]:
    if dim == "priority":
        return sorted(rows, key=lambda r: PRIORITY_ORDER.index(r["key"]) if r["key"] in PRIORITY_ORDER else 99)
    if dim in ("week", "month"):
        return sorted(rows, key=lambda r: r["key"] or "")
    return sorted(rows, key=lambda r: (-r[measure], r["label"].lower()))


def _fill_buckets(rows: list[dict], buckets: list[Bucket], empty) -> list[dict]:
    have = {r["key"]: r for r in rows}
    return [have.get(b.key) or empty(b) for b in buckets]


# --- cost ------------------------------------------------------------------------------

COST_KEYS = {"overall": "all", "branch": "branch", "customer": "customer", "category": "category",
             "subcategory": "subcategory", "technician": "technician", "month": "month"}


def _cost_facts(columns, n_months: int, filter_keys: tuple[str, ...]):
    """One row per approved completion of a ticket closed in the range. Approval closes
    the ticket at the same instant (decided_at = closed_at), so the completion is also
    found by its decision time, which lets an index on either side narrow the join."""
    T, B, C = ServiceTicket, CustomerBranch, ServiceCompletion
    start, end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    cols = {
        "all": literal("", String).label("all"),
        "branch": T.branch_id.label("branch"),
        "customer": B.customer_id.label("customer"),
        "category": T.category_id.label("category"),
        "subcategory": T.subcategory_id.label("subcategory"),
        "technician": func.coalesce(C.technician_id, "").label("technician"),
        "month": bucket_case(T.closed_at, n_months, "m").label("month"),
    }
    return (
        select(*[cols[c] for c in columns], cents(C.parts_cost).label("parts_cents"),
               cents(C.labor_cost).label("labor_cents"), cents(C.total_cost).label("total_cents"),
               cents(C.labor_hours).label("hour_cents"), C.labor_hours)
        .select_from(C.__table__.join(_tickets_from("customer" in filter_keys or "customer" in columns),
                                      T.id == C.ticket_id))
        .where(C.approval_status == ApprovalStatus.APPROVED, C.decided_at >= start, C.decided_at < end,
               T.closed_at >= start, T.closed_at < end, *_filter_conditions(filter_keys))
    )


def _cost_measures(f):
    # Sums in whole cents (integers: exact, and much cheaper to add than NUMERIC).
    return [func.count().label("tickets"), func.sum(f.c.parts_cents).label("parts"),
            func.sum(f.c.labor_cents).label("labor"), func.sum(f.c.total_cents).label("total"),
            func.sum(f.c.hour_cents).label("hours")]


def _cost_sums(g):
    return [cast(func.sum(g.c.tickets), BigInteger).label("tickets"),
            cast(func.sum(g.c.parts), BigInteger).label("parts"), cast(func.sum(g.c.labor), BigInteger).label("labor"),
            cast(func.sum(g.c.total), BigInteger).label("total"), cast(func.sum(g.c.hours), BigInteger).label("hours")]


@lru_cache(maxsize=128)
def _cost_statement(dims: tuple[str, ...], n_months: int, filter_keys: tuple[str, ...]):
    """One statement, one pass over the approved work: sums per combination of all
    dimension keys, per month, and per technician a histogram of labour hours; then the
    roll-ups to each dimension and the medians."""
    base = _base_keys(dims, COST_KEYS, "month")
    facts_cols = tuple(dict.fromkeys(base + (("month",) if "month" in dims else ())))
    sets = {"b": base}
    if "month" in dims:
        sets["month"] = ("month",)
    if "technician" in dims:
        sets["h:labor_hours"] = ("technician", "labor_hours")
    g = _grouping_sets(_cost_facts(facts_cols, n_months, filter_keys), sets, _cost_measures,
                       {"labor_hours": ServiceCompletion.labor_hours.type}).cte("g").prefix_with("MATERIALIZED")
    parts = [select(r.c.grp, r.c.k1, r.c.tickets, r.c.parts, r.c.labor, r.c.total, r.c.hours,
                    cast(null(), Float).label("median"))
             for r in [p.subquery() for p in _rolled_up(g, dims, COST_KEYS, _cost_sums, "month")]]
    if "technician" in dims:
        t = _histogram_percentiles(g, "technician", ("labor_hours",), False).subquery("t")
        parts.append(select(literal("h:technician", String).label("grp"), t.c.k.label("k1"),
                            cast(null(), BigInteger).label("tickets"),
                            *[cast(null(), BigInteger).label(c) for c in ("parts", "labor", "total", "hours")],
                            type_coerce(t.c.median, Float).label("median")))
    return _labelled(union_all(*parts))


def _money(cents) -> Decimal:
    """Whole cents from SQL as money."""
    if cents is None:
        return Decimal("0.00")
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def cost_report(rng: DateRange, filters: Filters, dims: Iterable[str] = COST_DIMENSIONS) -> dict[str, list[dict]]:
    """Parts, labour and total of approved work, per dimension, over tickets closed in
    the range. `tickets` counts those closed tickets (one approved completion each)."""
    _roomy_sorts()
    dims = tuple(d for d in COST_DIMENSIONS if d in set(dims))
    months = month_buckets(rng) if "month" in dims else []
    stmt = _cost_statement(dims, len(months), _filter_keys(filters))
    params = {"start": rng.start, "end": rng.end, **bucket_params(months, "m"), **filters_params(filters)}
    out: dict[str, list[dict]] = {d: [] for d in dims}
    by_key = {b.key: b for b in months}
    medians = {}
    for r in db.session.execute(stmt, params).mappings():
        dim, key = r["grp"], r["k1"] or ""
        if dim == "h:technician":
            medians[key] = _round(r["median"], 2)
            continue
        out[dim].append({
            "key": key or None,
            "label": _python_label(dim, key, r["label"], by_key),
            "tickets": int(r["tickets"] or 0),
            "partsCost": _money(r["parts"]),
            "laborCost": _money(r["labor"]),
            "totalCost": _money(r["total"]),
            "laborHours": _money(r["hours"]),
            "medianLaborHours": medians.get(key) if dim == "technician" else None,
        })
    for row in out.get("technician", []):
        row["medianLaborHours"] = medians.get(row["key"] or "")
    for dim in dims:
        if dim == "month":
            out[dim] = _fill_buckets(_order(dim, out[dim], by_key, "totalCost"), months, _empty_cost_row)
        else:
            out[dim] = sorted(out[dim], key=lambda r: (-r["totalCost"], r["label"].lower()))
    if "overall" in dims and not out["overall"]:
        out["overall"] = [_empty_cost_row(Bucket("", "All tickets", rng.start))]
        out["overall"][0]["key"] = None
    return out


def _empty_cost_row(bucket: Bucket) -> dict:
    return {"key": bucket.key, "label": bucket.label, "tickets": 0, "partsCost": Decimal("0.00"),
            "laborCost": Decimal("0.00"), "totalCost": Decimal("0.00"), "laborHours": Decimal("0.00"),
            "medianLaborHours": None}


# --- technicians ------------------------------------------------------------------------

ASSIGNING_KINDS = ("assigned", "reassigned", "escalated")


def _event_counts(rng: DateRange, filters: Filters):
    """Per technician: assignments to them, acceptances, declines and escalations away
    from them, from the timeline events in the range. Events are first counted per
    distinct JSON body (the same few per technician and kind), so each body is parsed
    once rather than once per event."""
    E, T, B = TicketEvent, ServiceTicket, CustomerBranch
    body = cast(E.data, Text)
    grouped = (select(E.kind.label("kind"), body.label("body"), func.count().label("n"))
               .where(E.kind.in_(ASSIGNING_KINDS + ("accepted", "declined")),
                      E.at >= _at(rng.start), E.at < _at(rng.end))
               .group_by(E.kind, body))
    conds = _ticket_conditions(filters)
    if conds:
        grouped = grouped.join(T, T.id == E.ticket_id).join(B, B.id == T.branch_id).where(*conds)
    g = grouped.subquery()
    towards = select(json_text(g.c.body, "technicianId").label("tech"), g.c.kind, g.c.n)
    away = select(json_text(g.c.body, "previousTechnicianId").label("tech"),
                  literal("escalated_away", String).label("kind"), g.c.n).where(g.c.kind == "escalated")
    u = union_all(towards, away).subquery()
    return (
        select(
            u.c.tech,
            func.sum(case((u.c.kind.in_(ASSIGNING_KINDS), u.c.n), else_=0)).label("assigned"),
            func.sum(case((u.c.kind == "accepted", u.c.n), else_=0)).label("accepted"),
            func.sum(case((u.c.kind == "declined", u.c.n), else_=0)).label("declined"),
            func.sum(case((u.c.kind == "escalated_away", u.c.n), else_=0)).label("escalated_away"),
        )
        .where(u.c.tech.is_not(None))
        .group_by(u.c.tech)
    )


def _completion_counts(rng: DateRange, filters: Filters):
    """Per technician: completions submitted in the range, and decisions taken in it."""
    C, T, B = ServiceCompletion, ServiceTicket, CustomerBranch
    start, end = _at(rng.start), _at(rng.end)
    submitted = and_(C.completed_at >= start, C.completed_at < end)
    decided = and_(C.decided_at >= start, C.decided_at < end)
    stmt = (
        select(
            C.technician_id.label("tech"),
            func.sum(case((submitted, 1), else_=0)).label("completed"),
            func.sum(case((and_(decided, C.approval_status != ApprovalStatus.PENDING), 1), else_=0)).label("decided"),
            func.sum(case((and_(decided, C.approval_status == ApprovalStatus.REJECTED), 1), else_=0)).label("rejected"),
        )
        .where(or_(submitted, decided), C.technician_id.is_not(None))
        .group_by(C.technician_id)
    )
    conds = _ticket_conditions(filters)
    if conds:
        stmt = stmt.join(T, T.id == C.ticket_id).join(B, B.id == T.branch_id).where(*conds)
    return stmt


def technician_activity(rng: DateRange, filters: Filters) -> dict:
    """The timeline and completion counts per technician (two aggregate queries)."""
    _roomy_sorts()
    return {"events": [dict(r) for r in db.session.execute(_event_counts(rng, filters)).mappings()],
            "completions": [dict(r) for r in db.session.execute(_completion_counts(rng, filters)).mappings()]}


def technician_report(rng: DateRange, filters: Filters, *, sla_rows: list[dict] | None = None,
                      cost_rows: list[dict] | None = None, activity: dict | None = None,
                      now: datetime | None = None) -> list[dict]:
    """One row per technician with any activity in the range: assignments, acceptances,
    declines, escalations away (timeline), completions submitted and the share of
    decisions that rejected their work, SLA compliance of the tickets they hold
    (created in the range), labour hours and cost of their approved work."""
    if sla_rows is None:
        sla_rows = sla_report(rng, filters, ("technician",), now)["technician"]
    if cost_rows is None:
        cost_rows = cost_report(rng, filters, ("technician",))["technician"]
    if activity is None:
        activity = technician_activity(rng, filters)
    rows: dict[str, dict] = {}

    def row(tech_id: str) -> dict:
        if tech_id not in rows:
            rows[tech_id] = {
                "key": tech_id, "label": "", "assigned": 0, "accepted": 0, "declined": 0, "escalatedAway": 0,
                "completed": 0, "decided": 0, "rejected": 0, "rejectionRate": None,
                "responseMeasured": 0, "responseMet": 0, "responseCompliance": None,
                "resolutionMeasured": 0, "resolutionMet": 0, "resolutionCompliance": None,
                "medianLaborHours": None, "laborHours": Decimal("0.00"), "partsCost": Decimal("0.00"),
                "laborCost": Decimal("0.00"), "totalCost": Decimal("0.00"), "approvedJobs": 0,
            }
        return rows[tech_id]

    for r in activity["events"]:
        x = row(r["tech"])
        x.update(assigned=int(r["assigned"]), accepted=int(r["accepted"]), declined=int(r["declined"]),
                 escalatedAway=int(r["escalated_away"]))
    for r in activity["completions"]:
        x = row(r["tech"])
        x.update(completed=int(r["completed"]), decided=int(r["decided"]), rejected=int(r["rejected"]),
                 rejectionRate=_ratio(int(r["rejected"]), int(r["decided"])))
    for s in sla_rows:
        if not s["key"]:
            continue
        x = row(s["key"])
        for f in ("responseMeasured", "responseMet", "responseCompliance", "resolutionMeasured", "resolutionMet",
                  "resolutionCompliance"):
            x[f] = s[f]
    for c in cost_rows:
        if not c["key"]:
            continue
        x = row(c["key"])
        x.update(medianLaborHours=c["medianLaborHours"], laborHours=c["laborHours"], partsCost=c["partsCost"],
                 laborCost=c["laborCost"], totalCost=c["totalCost"], approvedJobs=c["tickets"])
    if rows:
        names = dict(db.session.execute(
            select(Technician.id, Technician.name).where(Technician.id.in_(list(rows)))).all())
        for tech_id, x in rows.items():
            x["label"] = names.get(tech_id, "(deleted)")
    return sorted(rows.values(), key=lambda x: (-x["assigned"], -x["completed"], x["label"].lower()))


# --- repeat faults ------------------------------------------------------------------------

def repeat_faults(rng: DateRange, filters: Filters) -> list[dict]:
    """Branch + subcategory pairs whose fault came back: tickets created in the range
    within 30 days after a ticket of the same branch and subcategory was closed with
    approved work (that earlier ticket may predate the range).

    Without sorting: time is cut into 30-day slots; a closing within the 30 days before a
    ticket lies in the ticket's slot or in the one before. The approved closings are
    summed up per branch, subcategory and slot into the earliest closing of the slot and
    the latest of the slot before; each new ticket finds its slot's row by one hash join,
    and the exact test is then on the timestamps."""
    _roomy_sorts()
    T = ServiceTicket
    start, end = _at(rng.start), _at(rng.end)
    # The earlier ticket shares branch and subcategory, hence customer and category;
    # its priority may differ.
    same_place = _ticket_conditions(Filters(filters.customer_id, filters.branch_id, filters.category_id))
    closings = (select(T.branch_id.label("branch"), T.subcategory_id.label("sub"), T.closed_at.label("at"),
                       slot_of(T.closed_at, REPEAT_WINDOW_DAYS).label("slot"))
                .select_from(_tickets_from(bool(filters.customer_id)))
                .where(T.status == TicketStatus.CLOSED, T.completed_at.is_not(None),
                       T.closed_at >= days_before(start, REPEAT_WINDOW_DAYS), T.closed_at < end, *same_place)
                .subquery("closings"))
    slots = (select(closings.c.branch, closings.c.sub, closings.c.slot,
                    func.min(closings.c.at).label("first"), func.max(closings.c.at).label("last"))
             .group_by(closings.c.branch, closings.c.sub, closings.c.slot)
             .cte("slots"))
    # One row per branch, subcategory and slot: its earliest closing, and the latest
    # closing of the slot before.
    both = union_all(
        select(slots.c.branch, slots.c.sub, slots.c.slot, slots.c.first.label("first_here"),
               cast(null(), UTCDateTime()).label("last_before")),
        select(slots.c.branch, slots.c.sub, (slots.c.slot + 1).label("slot"), cast(null(), UTCDateTime()),
               slots.c.last),
    ).subquery("both_")
    lookup = (select(both.c.branch, both.c.sub, both.c.slot, func.max(both.c.first_here).label("first_here"),
                     func.max(both.c.last_before).label("last_before"))
              .group_by(both.c.branch, both.c.sub, both.c.slot)
              .subquery("lookup"))
    window_start = days_before(T.created_at, REPEAT_WINDOW_DAYS)
    repeat = or_(and_(lookup.c.first_here <= T.created_at, lookup.c.first_here > window_start),
                 and_(lookup.c.last_before <= T.created_at, lookup.c.last_before > window_start))
    # Counted with CASE rather than filtered with WHERE: the planner then sees how many
    # rows reach the GROUP BY and hashes them instead of sorting text keys.
    repeats = func.count(case((repeat, 1)))
    agg = (
        select(T.branch_id.label("branch"), T.subcategory_id.label("sub"), repeats.label("repeats"),
               func.max(case((repeat, T.created_at))).label("last_at"))
        .select_from(_tickets_from(bool(filters.customer_id)))
        .join(lookup, and_(lookup.c.branch == T.branch_id, lookup.c.sub == T.subcategory_id,
                           lookup.c.slot == slot_of(T.created_at, REPEAT_WINDOW_DAYS)))
        .where(T.created_at >= start, T.created_at < end, *_ticket_conditions(filters))
        .group_by(T.branch_id, T.subcategory_id)
        .having(repeats > 0)
        .subquery()
    )
    br, sub = aliased(CustomerBranch), aliased(IssueSubcategory)
    stmt = (
        select(agg.c.branch, agg.c.sub, agg.c.repeats, agg.c.last_at,
               (br.branch_name + " (" + br.branch_code + ")").label("branch_label"), sub.name.label("sub_label"))
        .select_from(agg)
        .outerjoin(br, br.id == agg.c.branch)
        .outerjoin(sub, sub.id == agg.c.sub)
    )
    hash_only = _dialect() == "postgresql"
    if hash_only:
        # The planner cannot estimate a join on computed slots and would sort the
        # year's text keys for the GROUP BY; hashing them is several times cheaper.
        db.session.execute(text("SET LOCAL enable_sort = off"))
    found = db.session.execute(stmt).mappings().all()
    if hash_only:
        db.session.execute(text("SET LOCAL enable_sort = on"))
    rows = [{
        "branchId": r["branch"], "branch": r["branch_label"] or "(deleted)",
        "subcategoryId": r["sub"], "subcategory": r["sub_label"] or "(deleted)",
        "repeats": int(r["repeats"]), "lastAt": _as_utc(r["last_at"]),
    } for r in found]
    return sorted(rows, key=lambda r: (-r["repeats"], r["branch"].lower(), r["subcategory"].lower()))


def _as_utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- open tickets at risk ---------------------------------------------------------------------

def at_risk(filters: Filters, now: datetime | None = None, limit: int | None = 50) -> dict:
    """Open tickets (whatever the range) whose running SLA clock (sla_clock) is amber or
    overdue; soonest due first."""
    T, B = ServiceTicket, CustomerBranch
    now = now or clock.now()
    due = sla_clock.sql_running_due(T)
    conds = [sla_clock.sql_at_risk(now, T), *_ticket_conditions(filters)]
    counts = db.session.execute(
        select(func.count().label("n"),
               func.sum(case((sla_clock.sql_overdue(now, T), 1), else_=0)).label("overdue"))
        .select_from(T).join(B, B.id == T.branch_id).where(*conds)
    ).one()
    tech = aliased(Technician)
    sub = aliased(IssueSubcategory)
    stmt = (
        select(T.id, T.ticket_number, T.priority, T.status, T.created_at, T.response_due_at, T.resolution_due_at,
               T.first_response_at, due.label("due"), B.branch_name, B.branch_code, sub.name.label("sub"),
               tech.name.label("tech"))
        .select_from(T)
        .join(B, B.id == T.branch_id)
        .outerjoin(sub, sub.id == T.subcategory_id)
        .outerjoin(tech, tech.id == T.assigned_technician_id)
        .where(*conds)
        .order_by(due, T.ticket_number)
    )
    if limit:
        stmt = stmt.limit(limit)
    rows = []
    for r in db.session.execute(stmt).mappings():
        due_at = _as_utc(r["due"])
        which = sla_clock.RESPONSE if sla_clock.races_response(SimpleNamespace(**r)) else sla_clock.RESOLUTION
        rows.append({
            "id": r["id"], "ticketNumber": r["ticket_number"], "priority": r["priority"].value,
            "status": r["status"].value, "branch": f"{r['branch_name']} ({r['branch_code']})",
            "subcategory": r["sub"] or "", "technician": r["tech"] or "Unassigned",
            "dueAt": due_at, "sla": which, "overdue": due_at < now,
            "overdueMinutes": round((now - due_at).total_seconds() / 60) if due_at < now else 0,
            "minutesLeft": round((due_at - now).total_seconds() / 60) if due_at >= now else 0,
        })
    return {"count": int(counts.n or 0), "overdue": int(counts.overdue or 0), "rows": rows}


# --- the page -----------------------------------------------------------------------------

@dataclass
class Report:
    range: DateRange
    filters: Filters
    now: datetime
    sla: dict[str, list[dict]] = field(default_factory=dict)
    cost: dict[str, list[dict]] = field(default_factory=dict)
    technicians: list[dict] = field(default_factory=list)
    repeats: list[dict] = field(default_factory=list)
    risk: dict = field(default_factory=dict)

    @property
    def overall(self) -> dict:
        rows = self.sla.get("overall") or []
        return rows[0] if rows else _empty_sla_row(Bucket("", "All tickets", self.range.start))

    @property
    def cost_overall(self) -> dict:
        rows = self.cost.get("overall") or []
        return rows[0] if rows else _empty_cost_row(Bucket("", "All tickets", self.range.start))


def _side_by_side(tasks: dict) -> dict:
    """Run independent read-only queries at once on PostgreSQL, each in its own app
    context, session and connection (ANALYTICS_THREADS, default 5: one per big query;
    1 runs them one after another, as on SQLite). They read committed data only."""
    threads = int(current_app.config.get("ANALYTICS_THREADS") or 5)
    if _dialect() != "postgresql" or threads <= 1:
        return {name: fn() for name, fn in tasks.items()}
    from concurrent.futures import ThreadPoolExecutor

    app = current_app._get_current_object()

    def run(fn):
        with app.app_context():
            try:
                return fn()
            finally:
                db.session.rollback()
                db.session.remove()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {name: pool.submit(run, fn) for name, fn in tasks.items()}
        return {name: f.result() for name, f in futures.items()}


def dashboard(rng: DateRange, filters: Filters) -> Report:
    """Everything /dispatcher/analytics shows, in a fixed number of queries; on
    PostgreSQL the five heavy ones run side by side."""
    now = clock.now()
    got = _side_by_side({
        "sla": lambda: sla_report(rng, filters, SLA_DIMENSIONS, now),
        "cost": lambda: cost_report(rng, filters, COST_DIMENSIONS),
        "repeats": lambda: repeat_faults(rng, filters),
        "activity": lambda: technician_activity(rng, filters),
        "risk": lambda: at_risk(filters, now),
    })
    sla, cost = got["sla"], got["cost"]
    return Report(
        range=rng, filters=filters, now=now, sla=sla, cost=cost,
        technicians=technician_report(rng, filters, sla_rows=sla["technician"], cost_rows=cost["technician"],
                                      activity=got["activity"]),
        repeats=got["repeats"],
        risk=got["risk"],
    )


def filter_options() -> dict:
    """Choices for the filter form: customers, active and inactive branches, categories."""
    customers = db.session.execute(select(Customer.id, Customer.name).order_by(Customer.name)).all()
    branches = db.session.execute(
        select(CustomerBranch.id, CustomerBranch.branch_code, CustomerBranch.branch_name, Customer.name)
        .join(Customer, Customer.id == CustomerBranch.customer_id)
        .order_by(Customer.name, CustomerBranch.branch_code)).all()
    categories = db.session.execute(select(IssueCategory.id, IssueCategory.name).order_by(IssueCategory.name)).all()
    return {
        "customers": [(c.id, c.name) for c in customers],
        "branches": [(b.id, f"{b.branch_code} · {b.branch_name}", b.name) for b in branches],
        "categories": [(c.id, c.name) for c in categories],
        "priorities": [(p.value, p.value.title()) for p in TicketPriority],
    }


# --- CSV ---------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str | int | float:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula gets a
    leading quote; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_bytes(headers: list[str], rows: Iterable[list]) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads the encoding from it), a header row,
    CRLF line ends, every cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in headers])
    for r in rows:
        writer.writerow([csv_cell(v) for v in r])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
