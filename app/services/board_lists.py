"""The lists the dispatcher's management pages and forms show (filter choices,
branches, categories, technicians with their territories and workload), and the short
durations every busy screen uses. Reads only; split from services/board.py, which
re-exports these names for the pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.i18n import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app import clock
from app.extensions import db
from app.models import (
    Customer,
    CustomerBranch,
    IssueCategory,
    IssueSubcategory,
    ServiceTicket,
    Technician,
    TechnicianBranchAssignment,
    TicketPriority,
    TicketStatus,
)
from app.services import timefmt
from app.services.reference import local_name
from app.services.errors import NotFound
from app.services.technicians import get_technician


# --- durations -------------------------------------------------------------------

def humanize(seconds: float) -> str:
    """A short duration for a busy screen: "45s", "12m", "3h 05m", "2d 4h"."""
    return timefmt.span(seconds, compact=True)


def paused_words(ticket, now: datetime, compact: bool = True) -> str:
    """Why a ticket's resolution clock stands and for how long: "Paused · Waiting for
    parts · 3h 05m" (the board's card and the ticket list; `compact=False` for the
    technician's queue: "3 h 05 min"). Never a countdown: a paused ticket is not late."""
    reason = ticket.pause_reason
    # The length stays on one line ("2d 3h" never split) when a narrow card wraps the words.
    time = timefmt.span(max((now - ticket.paused_at).total_seconds(), 0), compact=compact).replace(" ", "\u00a0")
    if reason is None:
        return _("Paused · %(time)s", time=time)
    return _("Paused · %(reason)s · for %(time)s", reason=reason.label, time=time)


# --- lists for forms and management pages ----------------------------------------

@dataclass(frozen=True)
class CategoryChoice:
    id: str
    name: str  # in the reader's language


@dataclass
class FilterOptions:
    branches: list  # rows: id, branch_code, branch_name, is_active
    technicians: list  # rows: id, name
    categories: list  # (id, name in the reader's language)
    priorities: tuple = tuple(TicketPriority)


def filter_options() -> FilterOptions:
    """The filter choices as plain rows: three small queries."""
    branches = db.session.execute(
        select(CustomerBranch.id, CustomerBranch.branch_code, CustomerBranch.branch_name, CustomerBranch.is_active)
        .order_by(CustomerBranch.branch_code)).all()
    technicians = db.session.execute(select(Technician.id, Technician.name).order_by(Technician.name)).all()
    categories = [CategoryChoice(c.id, local_name(c)) for c in db.session.execute(
        select(IssueCategory.id, IssueCategory.name, IssueCategory.name_translations))]
    categories.sort(key=lambda c: c.name.casefold())
    return FilterOptions(branches, technicians, categories)


def active_branches() -> list[CustomerBranch]:
    """Branches a new ticket can be raised for, with their customer."""
    return list(db.session.execute(
        select(CustomerBranch).options(joinedload(CustomerBranch.customer))
        .where(CustomerBranch.is_active.is_(True)).order_by(CustomerBranch.branch_code)
    ).scalars())


def categories_with_subcategories() -> list[IssueCategory]:
    return list(db.session.execute(
        select(IssueCategory).options(selectinload(IssueCategory.subcategories)).order_by(IssueCategory.name)
    ).scalars())




@dataclass
class TechnicianRow:
    technician: Technician
    primary: list[TechnicianBranchAssignment]
    secondary: list[TechnicianBranchAssignment]
    located_ago: str | None
    open_tickets: int


def technician_rows() -> list[TechnicianRow]:
    """Every technician with current territories, last location and open workload
    (three queries)."""
    now = clock.now()
    technicians = db.session.execute(
        select(Technician).options(
            selectinload(Technician.branch_assignments).joinedload(TechnicianBranchAssignment.branch)
        ).order_by(Technician.name)
    ).scalars().all()
    load = dict(db.session.execute(
        select(ServiceTicket.assigned_technician_id, func.count())
        .where(ServiceTicket.status.in_((TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)),
               ServiceTicket.assigned_technician_id.is_not(None))
        .group_by(ServiceTicket.assigned_technician_id)
    ).all())
    rows = []
    for t in technicians:
        current = [a for a in t.branch_assignments if a.end_date is None]
        rows.append(TechnicianRow(t, [a for a in current if a.is_primary], [a for a in current if not a.is_primary],
                                  located_ago(t, now), load.get(t.id, 0)))
    return rows


def technician_with_assignments(technician_id: str) -> tuple[Technician, list[TechnicianBranchAssignment],
                                                              list[TechnicianBranchAssignment]]:
    """One technician, their current and past territories (newest first)."""
    t = get_technician(technician_id)
    current = [a for a in t.branch_assignments if a.end_date is None]
    past = sorted((a for a in t.branch_assignments if a.end_date is not None), key=lambda a: a.end_date, reverse=True)
    return t, current, past


def located_ago(technician: Technician, now: datetime | None = None) -> str | None:
    """How long ago the technician last reported their location ("12m ago")."""
    if technician.last_location_update is None:
        return None
    return _("%(time)s ago", time=humanize(((now or clock.now()) - technician.last_location_update).total_seconds()))


def branch_with_customer(branch_id: str) -> CustomerBranch:
    """One branch and its customer (for the edit page)."""
    b = None
    if isinstance(branch_id, str) and len(branch_id) <= 64:
        b = db.session.execute(select(CustomerBranch).options(joinedload(CustomerBranch.customer))
                               .where(CustomerBranch.id == branch_id)).scalar_one_or_none()
    if b is None:
        raise NotFound(_("Branch not found"))
    return b


def customers_with_branches() -> tuple[list[Customer], list[CustomerBranch]]:
    customers = list(db.session.execute(select(Customer).order_by(Customer.name)).scalars())
    branches = list(db.session.execute(
        select(CustomerBranch).options(joinedload(CustomerBranch.customer))
        .order_by(CustomerBranch.is_active.desc(), CustomerBranch.branch_code)
    ).scalars())
    return customers, branches
