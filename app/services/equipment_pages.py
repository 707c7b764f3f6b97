"""What the equipment pages show: a branch's units, the store's picker, and one unit's page
(its tickets, their photos, its costs by month and the "repair or replace?" signal).

The unit page costs the same number of queries whatever the unit's history: the summary
is one aggregate (services/equipment.summary), the ticket lists and photos are limited,
and the costs by month come with the summary, in the same grouped statement.
Tickets and photos are the ones the reader may read (access.ticket_scope); the unit's
figures are the unit's, as the API's `summary` gives them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    CustomerBranch,
    Equipment,
    ServiceTicket,
    TicketPhoto,
)
from app.services import access, equipment
from app.services.errors import NotFound
from app.services.timefmt import to_local

OPEN_LIMIT = 50  # open tickets listed on the unit page
PAST_LIMIT = 20  # the latest past tickets listed
PHOTO_LIMIT = 12  # the latest photos of its tickets
COST_MONTHS = 12  # months in the costs table


def branch_of(branch_id) -> CustomerBranch:
    branch = db.session.get(CustomerBranch, branch_id) if isinstance(branch_id, str) and len(branch_id) <= 64 else None
    if branch is None:
        raise NotFound("Branch not found")
    return branch


def branch_units(branch_id: str, *, active_only: bool = False) -> list[Equipment]:
    """A branch's units in asset-tag order (the list, the labels sheet, the unit selects)."""
    stmt = select(Equipment).where(Equipment.branch_id == branch_id)
    if active_only:
        stmt = stmt.where(Equipment.is_active.is_(True))
    return list(db.session.execute(stmt.order_by(Equipment.asset_tag)).scalars())


def units_of_branches(branch_ids) -> list[Equipment]:
    """Active units of the given branches, by branch and then asset tag (the store's picker)."""
    if not branch_ids:
        return []
    return list(db.session.execute(
        select(Equipment).where(Equipment.branch_id.in_(list(branch_ids)), Equipment.is_active.is_(True))
        .options(joinedload(Equipment.branch))
        .order_by(Equipment.branch_id, Equipment.asset_tag)).scalars())


def readable_units(user) -> list[Equipment]:
    """Every unit `user` may read, by branch then tag (the store manager's units page)."""
    stmt = access.equipment_scope(user, select(Equipment).join(Equipment.branch)
                                  .options(joinedload(Equipment.branch)))
    return list(db.session.execute(stmt.order_by(CustomerBranch.branch_code, Equipment.asset_tag)).scalars())


@dataclass
class MonthCost:
    month: datetime  # the first day of the month, local
    jobs: int = 0
    parts: Decimal = Decimal("0.00")
    labour: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")


@dataclass
class UnitView:
    unit: Equipment
    summary: dict
    open_tickets: list = field(default_factory=list)
    past_tickets: list = field(default_factory=list)
    photos: list = field(default_factory=list)
    months: list[MonthCost] = field(default_factory=list)
    replace_signal: bool = False
    half_replacement: Decimal | None = None


def _month_start(local: datetime) -> datetime:
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _months_back(start: datetime, n: int) -> datetime:
    """The first of the month `n` months before `start`'s (n < 0: after)."""
    index = start.year * 12 + start.month - 1 - n
    return start.replace(year=index // 12, month=index % 12 + 1)


def unit_view(user, unit: Equipment, now: datetime | None = None) -> UnitView:
    now = now or clock.now()
    T = ServiceTicket
    base = access.ticket_scope(user, select(T).where(T.equipment_id == unit.id)).options(
        joinedload(T.subcategory), joinedload(T.assigned_technician))
    open_tickets = list(db.session.execute(
        base.where(T.status.in_(OPEN_STATUSES)).order_by(T.created_at.desc()).limit(OPEN_LIMIT)).unique().scalars())
    past_tickets = list(db.session.execute(
        base.where(T.status.not_in(OPEN_STATUSES)).order_by(T.created_at.desc()).limit(PAST_LIMIT)).unique().scalars())
    readable = access.ticket_scope(user, select(T.id).where(T.equipment_id == unit.id))
    photos = list(db.session.execute(
        select(TicketPhoto).join(T, T.id == TicketPhoto.ticket_id)
        .where(T.equipment_id == unit.id, TicketPhoto.ticket_id.in_(readable))
        .options(joinedload(TicketPhoto.ticket))
        .order_by(TicketPhoto.created_at.desc()).limit(PHOTO_LIMIT)).scalars())

    # Costs by month (local), the last COST_MONTHS months, counted by the approval's date
    # as the cost report counts; a month with no approved work shows as 0. Computed with
    # the summary, in the same statement (one pass over the unit's tickets).
    this_month = _month_start(to_local(now))
    starts = [_months_back(this_month, i) for i in range(COST_MONTHS - 1, -1, -1)]  # oldest first
    bounds = [m.astimezone(timezone.utc) for m in starts] + [_months_back(this_month, -1).astimezone(timezone.utc)]
    summary, by_month = equipment.summary_and_months(unit, now, bounds)
    months = []
    for i, start in enumerate(starts):
        m = MonthCost(start)
        got = by_month.get(i)
        if got:
            m.jobs, m.parts, m.labour, m.total = got["jobs"], got["parts"], got["labour"], got["total"]
        months.append(m)

    half = (Decimal(unit.replacement_cost) / 2).quantize(Decimal("0.01")) if unit.replacement_cost else None
    return UnitView(
        unit=unit, summary=summary, open_tickets=open_tickets, past_tickets=past_tickets, photos=photos,
        months=months[::-1],  # newest first
        replace_signal=bool(half is not None and summary["costLast12Months"] > half),
        half_replacement=half,
    )
