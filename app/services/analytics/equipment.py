"""Faults by unit of equipment: the units with most faults, and faults that came back on a unit.

See app/services/analytics/__init__.py for the definitions every report shares. A
**fault** here is a ticket on a unit created in the range, planned maintenance (source
PLAN) not counted. A **repeat fault on a unit**: such a ticket created within 30 days
after another ticket on the same unit was closed with approved work (whatever the two
subcategories: the unit broke again).
"""
from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import CustomerBranch, Equipment, ServiceTicket, TicketSource, TicketStatus
from app.services.analytics.periods import DateRange, Filters, REPEAT_WINDOW_DAYS, _as_utc, _ticket_conditions, _tickets_from
from app.services.analytics.sql import _at, days_before

TOP_UNITS = 10


def _faults(filters: Filters, rng: DateRange, T=ServiceTicket):
    return [T.equipment_id.is_not(None), T.source != TicketSource.PLAN,
            T.created_at >= _at(rng.start), T.created_at < _at(rng.end), *_ticket_conditions(filters, T)]


def _rows(agg, count_label: str) -> list[dict]:
    """The units of `agg` (equipment_id, n, last_at) with their tag, name and branch."""
    unit, branch = aliased(Equipment), aliased(CustomerBranch)
    stmt = (select(agg.c.equipment_id, agg.c.n, agg.c.last_at, unit.asset_tag, unit.name, unit.kind,
                   unit.branch_id, (branch.branch_name + " (" + branch.branch_code + ")").label("branch"))
            .select_from(agg).join(unit, unit.id == agg.c.equipment_id).join(branch, branch.id == unit.branch_id)
            .order_by(agg.c.n.desc(), unit.asset_tag))
    return [{
        "equipmentId": r.equipment_id, "assetTag": r.asset_tag, "name": r.name, "kind": r.kind,
        "label": f"{r.asset_tag} · {r.name}", "branchId": r.branch_id, "branch": r.branch,
        count_label: int(r.n), "lastAt": _as_utc(r.last_at),
    } for r in db.session.execute(stmt)]


def units_with_most_faults(rng: DateRange, filters: Filters, limit: int = TOP_UNITS) -> list[dict]:
    """The `limit` units with most faults (tickets created in the range), most first:
    rows `{equipmentId, assetTag, name, kind, label, branchId, branch, faults, lastAt}`.
    The unit's branch is where it stands now (a moved unit brings its past with it)."""
    T = ServiceTicket
    agg = (select(T.equipment_id, func.count().label("n"), func.max(T.created_at).label("last_at"))
           .select_from(_tickets_from(bool(filters.customer_id)))
           .where(*_faults(filters, rng))
           .group_by(T.equipment_id)
           .order_by(func.count().desc(), T.equipment_id).limit(limit)
           .subquery("agg"))
    return _rows(agg, "faults")


def repeat_faults_by_unit(rng: DateRange, filters: Filters) -> list[dict]:
    """Units whose fault came back: rows `{equipmentId, assetTag, name, kind, label,
    branchId, branch, repeats, lastAt}`, most repeats first. The earlier ticket may
    predate the range; each candidate finds it through the tickets-by-unit index."""
    T, P = ServiceTicket, aliased(ServiceTicket)
    earlier = (select(P.id).where(
        P.equipment_id == T.equipment_id, P.id != T.id, P.status == TicketStatus.CLOSED,
        P.completed_at.is_not(None), P.closed_at <= T.created_at,
        P.closed_at > days_before(T.created_at, REPEAT_WINDOW_DAYS)).exists())
    agg = (select(T.equipment_id, func.count().label("n"), func.max(T.created_at).label("last_at"))
           .select_from(_tickets_from(bool(filters.customer_id)))
           .where(and_(*_faults(filters, rng)), earlier)
           .group_by(T.equipment_id)
           .subquery("agg"))
    return _rows(agg, "repeats")
