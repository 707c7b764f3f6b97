"""Cost of approved work (parts and labour), grouped by each dimension.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

from functools import lru_cache
from decimal import Decimal
from typing import Iterable

from sqlalchemy import (
    BigInteger,
    Float,
    String,
    bindparam,
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
    ApprovalStatus,
    CustomerBranch,
    ServiceCompletion,
    ServiceTicket,
)
from app.models.types import UTCDateTime
from app.services.analytics.periods import Bucket, COST_DIMENSIONS, COST_EXTRA_DIMENSIONS, DateRange, Filters, _filter_conditions, _filter_keys, _tickets_from, bucket_case, bucket_params, filters_params, month_buckets
from app.services.analytics.rollup import _base_keys, _grouping_sets, _histogram_percentiles, _labelled, _python_label, _rolled_up, _roomy_sorts
from app.services.analytics.sla import _fill_buckets, _order, _round
from app.services.analytics.sql import cents


# --- cost ------------------------------------------------------------------------------

COST_KEYS = {"overall": "all", "branch": "branch", "customer": "customer", "category": "category",
             "subcategory": "subcategory", "technician": "technician", "month": "month", "equipment": "equipment"}


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
        "equipment": func.coalesce(T.equipment_id, "").label("equipment"),  # "": no unit named
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
    dims = tuple(d for d in COST_DIMENSIONS + COST_EXTRA_DIMENSIONS if d in set(dims))
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


