"""What the equipment pages show: a branch's units, the store's picker, and one unit's page
(its tickets, their photos, its costs by month and the "repair or replace?" signal).

The unit page costs the same number of queries whatever the unit's history: the summary
is one aggregate (services/equipment.summary), the ticket lists and photos are limited,
and the costs by month read the approved work of the last COST_MONTHS months only.
Tickets and photos are the ones the reader may read (access.ticket_scope); the unit's
figures are the unit's, as the API's `summary` gives them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    ApprovalStatus,
    CustomerBranch,
    Equipment,
    ServiceCompletion,
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
    year, month = start.year, start.month - n
    while month <= 0:
        month += 12
        year -= 1
    return start.replace(year=year, month=month)


def unit_view(user, unit: Equipment, now: datetime | None = None) -> UnitView:
    now = now or clock.now()
    summary = equipment.summary(unit, now)
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
    # as the cost report counts; a month with no approved work shows as 0.
    this_month = _month_start(to_local(now))
    first = _months_back(this_month, COST_MONTHS - 1)
    C = ServiceCompletion
    rows = db.session.execute(
        select(C.decided_at, C.parts_cost, C.labor_cost, C.total_cost)
        .join(T, T.id == C.ticket_id)
        .where(T.equipment_id == unit.id, C.approval_status == ApprovalStatus.APPROVED,
               C.decided_at >= first - timedelta(days=1))).all()
    months = {_months_back(this_month, i): MonthCost(_months_back(this_month, i)) for i in range(COST_MONTHS)}
    for decided_at, parts, labour, total in rows:
        if decided_at is None:
            continue
        bucket = months.get(_month_start(to_local(decided_at)))
        if bucket is None:
            continue
        bucket.jobs += 1
        bucket.parts += Decimal(parts or 0)
        bucket.labour += Decimal(labour or 0)
        bucket.total += Decimal(total or 0)

    half = (Decimal(unit.replacement_cost) / 2).quantize(Decimal("0.01")) if unit.replacement_cost else None
    return UnitView(
        unit=unit, summary=summary, open_tickets=open_tickets, past_tickets=past_tickets, photos=photos,
        months=sorted(months.values(), key=lambda m: m.month, reverse=True),
        replace_signal=bool(half is not None and summary["costLast12Months"] > half),
        half_replacement=half,
    )
