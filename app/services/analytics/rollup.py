"""The roll-up engine: one row per group of each dimension, from grouping sets over narrow facts.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations


from flask import current_app
from sqlalchemy import (
    BigInteger,
    Float,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.enums import label as enum_label
from app.models import (
    Customer,
    CustomerBranch,
    IssueCategory,
    Equipment,
    IssueSubcategory,
    Technician,
)
from app.services.analytics.periods import Bucket


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
    eq = aliased(Equipment)
    label = func.coalesce(cat.name, sub.name, br.branch_name + " (" + br.branch_code + ")", cu.name, te.name,
                          eq.asset_tag + " · " + eq.name)
    return (
        select(r, label.label("label"))
        .outerjoin(cat, and_(r.c.grp == "category", cat.id == r.c.k1))
        .outerjoin(sub, and_(r.c.grp == "subcategory", sub.id == r.c.k1))
        .outerjoin(br, and_(r.c.grp == "branch", br.id == r.c.k1))
        .outerjoin(cu, and_(r.c.grp == "customer", cu.id == r.c.k1))
        .outerjoin(te, and_(r.c.grp == "technician", te.id == r.c.k1))
        .outerjoin(eq, and_(r.c.grp == "equipment", eq.id == r.c.k1))
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
        return enum_label(key)
    if dim in ("week", "month"):
        b = buckets.get(key)
        return b.label if b else key
    if dim == "overall":
        return "All tickets"
    if dim == "technician" and not key:
        return "Unassigned"
    if dim == "equipment" and not key:
        from flask_babel import gettext as _

        return _("No unit named")
    return label or "(deleted)"


