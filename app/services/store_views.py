"""The store manager's side: the branch's tickets in plain words, reporting a problem
with photos, and what the approval page shows. Reads are one scoped query each; the
only write (`report_problem`) goes through the ticket and photo services."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    ApprovalStatus,
    IssueSubcategory,
    PhotoType,
    ServiceCompletion,
    ServiceTicket,
    TicketPriority,
    TicketStatus,
)
from app.models.enums import LABELS
from app.services import access, photos, reference, sla_clock, tickets
from app.services.errors import TooLarge, UnsupportedMedia, ValidationError

MAX_REPORT_PHOTOS = 5
OTHER_BRANCH = _l("You can only report problems for your own branch.")
CLOSED_SHOWN = 30

# One line per level, in the words a store manager uses (shown under each choice; the
# level's own name is its label, models/enums.py).
PRIORITY_HELP: list[tuple[TicketPriority, str, str]] = [
    (TicketPriority.CRITICAL, LABELS[TicketPriority.CRITICAL],
     _l("Not cooling at all: food is at risk right now.")),
    (TicketPriority.HIGH, LABELS[TicketPriority.HIGH],
     _l("Temperature is rising or cooling is failing; needs a fix today.")),
    (TicketPriority.NORMAL, LABELS[TicketPriority.NORMAL],
     _l("Still cooling, but something is wrong (noise, leak, door, light).")),
    (TicketPriority.LOW, LABELS[TicketPriority.LOW], _l("Small issue that can wait for a planned visit.")),
]


def awaiting_approval(ticket: ServiceTicket) -> bool:
    """Finished by the technician and waiting for the store manager's decision."""
    if ticket.status != TicketStatus.COMPLETED:
        return False
    c = ticket.completion
    return c is not None and c.approval_status == ApprovalStatus.PENDING


def plain_status(ticket: ServiceTicket) -> str:
    """The status as a store manager would say it."""
    if ticket.status == TicketStatus.NEW:
        return _("Waiting for a technician")
    if ticket.status == TicketStatus.ASSIGNED:
        return _("Technician assigned")
    if ticket.status == TicketStatus.IN_PROGRESS:
        c = ticket.completion
        if c is not None and c.approval_status == ApprovalStatus.REJECTED:
            return _("Sent back to the technician")
        return _("Technician on site") if ticket.arrived_at else _("Technician on the way")
    if ticket.status == TicketStatus.COMPLETED:
        return _("Waiting for your approval") if awaiting_approval(ticket) else _("Work finished")
    return _("Closed")


@dataclass
class TicketRow:
    """One line of the branch list, decided here so the template only shows it."""

    ticket: ServiceTicket
    status_words: str
    status_key: str
    awaiting: bool
    due_label: str
    due_at: datetime | None
    overdue: bool


def ticket_row(ticket: ServiceTicket, now: datetime | None = None) -> TicketRow:
    """An open ticket shows the SLA clock it races (sla_clock.clock_for): a ticket
    reassigned after it was accepted is ASSIGNED again but races its resolution."""
    if ticket.status in (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS):
        running = sla_clock.clock_for(ticket, now)
        label = _("Technician due by") if running.kind == sla_clock.RESPONSE else _("Fix due by")
        due, late = running.due_at, running.overdue
    elif ticket.status == TicketStatus.COMPLETED:
        label, due, late = _("Finished"), ticket.completed_at, False
    else:
        label, due, late = _("Closed"), ticket.closed_at, False
    awaiting = awaiting_approval(ticket)
    words = plain_status(ticket)
    key = "approval" if awaiting else ticket.status.value.lower()
    return TicketRow(ticket, words, key, awaiting, label, due, late)


def _list_options(stmt):
    return stmt.options(
        selectinload(ServiceTicket.branch),
        selectinload(ServiceTicket.subcategory),
        selectinload(ServiceTicket.assigned_technician),
        selectinload(ServiceTicket.completions),
    )


@dataclass
class BranchTickets:
    open: list[TicketRow] = field(default_factory=list)
    closed: list[TicketRow] = field(default_factory=list)
    closed_more: bool = False

    @property
    def awaiting_count(self) -> int:
        return sum(1 for r in self.open if r.awaiting)


def branch_tickets(user, closed_limit: int = CLOSED_SHOWN) -> BranchTickets:
    """The tickets of the user's branches: waiting for approval first, then the other
    open ones (newest first), then the most recent closed ones."""
    first = case((ServiceTicket.status == TicketStatus.COMPLETED, 0), else_=1)
    open_stmt = (
        access.ticket_scope(user, _list_options(select(ServiceTicket)))
        .where(ServiceTicket.status != TicketStatus.CLOSED)
        .order_by(first, ServiceTicket.created_at.desc(), ServiceTicket.id.desc())
    )
    closed_stmt = (
        access.ticket_scope(user, select(ServiceTicket).options(
            selectinload(ServiceTicket.branch), selectinload(ServiceTicket.subcategory)))
        .where(ServiceTicket.status == TicketStatus.CLOSED)
        .order_by(ServiceTicket.closed_at.desc(), ServiceTicket.id.desc())
        .limit(closed_limit + 1)
    )
    open_rows = list(db.session.execute(open_stmt).scalars())
    closed_rows = list(db.session.execute(closed_stmt).scalars())
    from app import clock

    now = clock.now()
    return BranchTickets(
        open=[ticket_row(t, now) for t in open_rows],
        closed=[ticket_row(t, now) for t in closed_rows[:closed_limit]],
        closed_more=len(closed_rows) > closed_limit,
    )


# --- reporting a problem ---------------------------------------------------------

def report_form_choices(user) -> dict:
    """Branches the user may report for, the categories to choose from, and the units of
    those branches (the picker: a few large cards, not a long dropdown)."""
    from app.services.equipment_pages import units_of_branches

    branches = reference.list_branches(active_only=True, branch_ids=access.branch_ids_of(user))
    return {"branches": branches, "categories": reference.list_categories(),
            "units": units_of_branches([b.id for b in branches])}




def report_problem(actor, data: dict, files: list[tuple[bytes, str | None]]) -> ServiceTicket:
    """A store manager reports a problem: the ticket (auto-assigned as usual, only for
    their own branches) and up to MAX_REPORT_PHOTOS "before" photos, all or nothing."""
    if len(files) > MAX_REPORT_PHOTOS:
        raise ValidationError(_("Attach at most %(max)s photos", max=MAX_REPORT_PHOTOS),
                              {"photos": _("Attach at most %(max)s photos.", max=MAX_REPORT_PHOTOS)})
    try:
        ticket = tickets.create_ticket(actor, data)
    except ValidationError as exc:  # an unknown branch or another's: say why, in the manager's words
        if "branchId" not in exc.fields:
            raise
        raise type(exc)(str(OTHER_BRANCH), {**exc.fields, "branchId": str(OTHER_BRANCH)}) from exc
    for content, name in files:
        try:
            photos.add_reporter_photo(ticket, actor, content, name)
        except (ValidationError, TooLarge, UnsupportedMedia) as exc:  # name the form field
            raise type(exc)(exc.message, {"photos": next(iter(exc.fields.values()), exc.message)}) from exc
    return ticket


# --- one ticket ----------------------------------------------------------------

def store_notes(ticket: ServiceTicket) -> list:
    """The notes the store added to its report while the ticket was open, oldest first
    (TicketEvent "store_note"): the approval page shows them with what was reported."""
    from app.models import TicketEvent

    return list(db.session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "store_note")
        .order_by(TicketEvent.at, TicketEvent.id)
    ).scalars())


def load_ticket_page(user, ticket_id: str) -> ServiceTicket:
    """A ticket the user may read, with its photos and completions (parts, photos)."""
    access.require_id(ticket_id, _("Ticket not found"))
    ticket = db.session.execute(
        _list_options(select(ServiceTicket)).where(ServiceTicket.id == ticket_id).options(
            selectinload(ServiceTicket.category),
            selectinload(ServiceTicket.photos),
            selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.parts),
            selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.photos),
        )
    ).scalar_one_or_none()
    return access.require_read_ticket(user, ticket)


@dataclass
class PhotoSet:
    store: list = field(default_factory=list)  # the problem as the store reported it
    before: list = field(default_factory=list)
    after: list = field(default_factory=list)
    work: list = field(default_factory=list)

    @property
    def problem(self) -> list:
        """Everything before the repair (the store's, then the technician's): the
        report's "Before" column."""
        return self.store + self.before


def photo_set(ticket: ServiceTicket, completion: ServiceCompletion | None) -> PhotoSet:
    """The store's photos of the problem (never called "before": the technician's are);
    the technician's before photos; after/work photos of the given completion (or, with
    none, any on the ticket)."""
    out = PhotoSet()
    chosen = completion.photos if completion is not None else []
    chosen_ids = {p.id for p in chosen}
    store_ids = photos.store_photo_ids(p for p in ticket.photos if p.type == PhotoType.BEFORE)
    for p in ticket.photos:
        if p.id in store_ids:
            out.store.append(p)
        elif p.type == PhotoType.BEFORE:
            out.before.append(p)
        elif p.id in chosen_ids or completion is None:
            (out.after if p.type == PhotoType.AFTER else out.work).append(p)
    return out


def decision_state(ticket: ServiceTicket) -> str:
    """What the approval page can offer: 'pending', 'approved', 'rejected' or 'not_ready'."""
    if awaiting_approval(ticket):
        return "pending"
    c = ticket.completion
    if c is not None and c.approval_status == ApprovalStatus.APPROVED:
        return "approved"
    if c is not None and c.approval_status == ApprovalStatus.REJECTED and ticket.status != TicketStatus.COMPLETED:
        return "rejected"
    return "not_ready"
