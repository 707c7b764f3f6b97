"""SLA compliance and response/resolution/arrival times, grouped by each dimension.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

from functools import lru_cache
from datetime import datetime
from typing import Iterable

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)

from app.extensions import db
from app.models import (
    CustomerBranch,
    ServiceTicket,
    TicketStatus,
)
from app.models.types import UTCDateTime
from app import clock
from app.services.analytics.periods import Bucket, DateRange, Filters, PRIORITY_ORDER, SLA_DIMENSIONS, _filter_conditions, _filter_keys, _tickets_from, bucket_case, bucket_params, filters_params, week_buckets
from app.services.analytics.rollup import _base_keys, _grouping_sets, _histogram_percentiles, _labelled, _python_label, _rolled_up, _roomy_sorts
from app.services.analytics.sql import whole_minutes


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


