"""Who may see and do what: one rule per object kind, used by pages and the API alike.

The rules are the contract's table (shared/spec/API.md, "Who may do what"):

    | action | admin | dispatcher | technician | store_manager |
    | read tickets | all | all | assigned to them (now or before) | their branches |
    | create ticket | any branch | any branch | no | their branches only |
    | assign / reassign, change priority, close without completion | yes | yes | no | no |
    | accept / decline / start | no | no | own assigned | no |
    | upload photos, complete | no | no | own IN_PROGRESS | no |
    | approve / reject completion | yes | no | no | their branches |
    | manage technicians, branches, categories, users | yes | yes (users: admin only) | own location only | no |

"A ticket the caller may not read answers 404, not 403": NotFound, never Forbidden, so
ids do not leak.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, exists, or_, select

from app.models import (
    ApprovalStatus,
    Equipment,
    Role,
    ServiceCompletion,
    ServiceTicket,
    TicketAssignee,
    TicketEvent,
    TechnicianBranchAssignment,
    TicketStatus,
    user_branches,
)
from app.services.errors import Forbidden, InvalidTransition, NotFound


ID_MAX = 64  # no id is longer: anything longer (or not text) names nothing


def require_id(value, not_found: str) -> str:
    """`value` if it can be an id (text, at most ID_MAX characters); NotFound with the
    caller's words otherwise, before any query (a path, a JSON body or a form alike)."""
    if not isinstance(value, str) or len(value) > ID_MAX:
        raise NotFound(not_found)
    return value


def branch_ids_of(user) -> list[str]:
    return [b.id for b in user.branches]


def ticket_scope(user, stmt: Select) -> Select:
    """Limit a ticket query to what `user` may read (lists use the same rule as detail)."""
    if user.role in (Role.ADMIN, Role.DISPATCHER):
        return stmt
    if user.role == Role.TECHNICIAN:
        if not user.technician_id:
            return stmt.where(False)
        # "assigned to them (now or before)": current assignee, or named in the timeline
        # as an assignee (escalated away, declined, reassigned).
        past = exists().where(
            TicketAssignee.ticket_id == ServiceTicket.id,
            TicketAssignee.technician_id == user.technician_id,
        )
        return stmt.where(or_(ServiceTicket.assigned_technician_id == user.technician_id, past))
    if user.role == Role.STORE_MANAGER:
        mine = select(user_branches.c.branch_id).where(user_branches.c.user_id == user.id)
        return stmt.where(ServiceTicket.branch_id.in_(mine))
    return stmt.where(False)


def can_read_ticket(user, ticket: ServiceTicket) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role in (Role.ADMIN, Role.DISPATCHER):
        return True
    if user.role == Role.STORE_MANAGER:
        return ticket.branch_id in branch_ids_of(user)
    if user.role == Role.TECHNICIAN:
        if not user.technician_id:
            return False
        if ticket.assigned_technician_id == user.technician_id:
            return True
        from app.extensions import db

        stmt = ticket_scope(user, select(ServiceTicket.id).where(ServiceTicket.id == ticket.id))
        return db.session.execute(stmt).first() is not None
    return False


def require_read_ticket(user, ticket: ServiceTicket | None) -> ServiceTicket:
    if ticket is None or not can_read_ticket(user, ticket):
        raise NotFound(_("Ticket not found"))
    return ticket


def require_can_create_tickets(user) -> None:
    """Staff for any branch, store managers for their own; technicians never."""
    if user.role not in (Role.ADMIN, Role.DISPATCHER, Role.STORE_MANAGER):
        raise Forbidden(_("Technicians cannot create tickets"))


def can_create_ticket_for_branch(user, branch_id: str) -> bool:
    if user.role in (Role.ADMIN, Role.DISPATCHER):
        return True
    if user.role == Role.STORE_MANAGER:
        return branch_id in branch_ids_of(user)
    return False


def is_staff(user) -> bool:
    return user.role in (Role.ADMIN, Role.DISPATCHER)


def require_staff(user) -> None:
    """Assign / reassign, priority, close without completion; manage reference data."""
    if not is_staff(user):
        raise Forbidden(_("Only dispatchers and admins may do this"))


def require_admin(user) -> None:
    if user.role != Role.ADMIN:
        raise Forbidden(_("Only admins may do this"))


def require_assigned_technician(user, ticket: ServiceTicket) -> None:
    """Accept / decline / start / arrive / photos / complete: the assigned technician only."""
    if user.role != Role.TECHNICIAN or not user.technician_id:
        raise Forbidden(_("Only the assigned technician may do this"))
    if ticket.assigned_technician_id != user.technician_id:
        raise Forbidden(_("This ticket is assigned to another technician"))


def require_can_decide(user, completion: ServiceCompletion) -> None:
    """Approve / reject: admins, and store managers of the ticket's branch."""
    if user.role == Role.ADMIN:
        return
    if user.role == Role.STORE_MANAGER and completion.ticket.branch_id in branch_ids_of(user):
        return
    raise Forbidden(_("Only the branch's store manager may approve or reject"))


INTERNAL_NOTE = "internal_note"


def can_see_internal_notes(user) -> bool:
    """The one internal-notes rule (API.md: `internalNotes` is omitted for store
    managers): the ticket's field, its timeline events, the page and the API all ask it."""
    return user.role != Role.STORE_MANAGER


def timeline_scope(user, stmt: Select) -> Select:
    """Limit a TicketEvent query to the events `user` may read (every timeline asks this)."""
    if not can_see_internal_notes(user):
        stmt = stmt.where(TicketEvent.kind != INTERNAL_NOTE)
    return stmt


# --- what a reader of the ticket may do on its page --------------------------------

OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)


@dataclass(frozen=True)
class TicketActions:
    """What the ticket page offers `user` now: the rules above applied to the ticket's
    status. The page and the technician's queue show exactly these; the services
    still check every action when it is taken."""

    accept: bool = False  # the assigned technician: ASSIGNED -> IN_PROGRESS
    decline: bool = False
    arrive: bool = False  # "I'm on site", once per visit (again after the work was sent back)
    complete: bool = False  # the completion form (/tech/tickets/<id>/complete)
    approve: bool = False  # the store manager's approval page (/tickets/<id>/approve)
    report: bool = False  # the service report of a closed ticket
    assign: bool = False  # dispatchers and admins
    priority: bool = False
    notes: bool = False
    close: bool = False
    store_evidence: bool = False  # the branch's store manager: a note or a photo while open
    pause: bool = False  # the assigned technician or staff: pause the resolution clock (services/pauses.py)
    resume: bool = False  # the same people, on a paused ticket

    @property
    def technician(self) -> bool:
        return self.accept or self.decline or self.arrive or self.complete

    @property
    def staff(self) -> bool:
        return self.assign or self.priority or self.notes or self.close


def can_add_store_evidence(user, ticket: ServiceTicket) -> bool:
    """A note or a photo of the problem from the store, on its own branch's ticket while
    it is open (the reporter's photos stay read-only for everyone else)."""
    return (user.role == Role.STORE_MANAGER and ticket.status in OPEN
            and ticket.branch_id in branch_ids_of(user))


def require_store_evidence(user, ticket: ServiceTicket, what: str = "notes and photos") -> None:
    """can_add_store_evidence, or the reason why not (closed: a conflict; anyone else: forbidden)."""
    if can_add_store_evidence(user, ticket):
        return
    if user.role == Role.STORE_MANAGER and ticket.status not in OPEN:
        if what == "notes":
            raise InvalidTransition(_("The work is done: notes can be added while the ticket is open."))
        if what == "photos":
            raise InvalidTransition(_("The work is done: photos can be added while the ticket is open."))
        raise InvalidTransition(_("The work is done: notes and photos can be added while the ticket is open."))
    if what == "notes":
        raise Forbidden(_("Only the branch's store manager may add notes here."))
    if what == "photos":
        raise Forbidden(_("Only the branch's store manager may add photos here."))
    raise Forbidden(_("Only the branch's store manager may add notes and photos here."))


def can_pause(user, ticket: ServiceTicket) -> bool:
    """Pause or resume the resolution clock: the assigned technician, dispatchers and admins."""
    return is_staff(user) or _allowed(require_assigned_technician, user, ticket)


def require_can_pause(user, ticket: ServiceTicket) -> None:
    if not can_pause(user, ticket):
        raise Forbidden(_("Only the assigned technician or a dispatcher may pause or resume the work"))


def _allowed(rule, *args) -> bool:
    try:
        rule(*args)
    except Forbidden:
        return False
    return True


def on_site(ticket: ServiceTicket) -> bool:
    """The technician's current visit is recorded: arrived, and not before the store last
    sent the work back (a return visit is a new arrival; the earlier one stays in the
    timeline)."""
    if ticket.arrived_at is None:
        return False
    sent_back = [c.decided_at for c in ticket.completions
                 if c.approval_status == ApprovalStatus.REJECTED and c.decided_at is not None]
    return not sent_back or max(sent_back) <= ticket.arrived_at


def ticket_actions(user, ticket: ServiceTicket) -> TicketActions:
    """The actions `user` (who may read `ticket`) may take on it now."""
    status = ticket.status
    assigned = _allowed(require_assigned_technician, user, ticket)
    completion = ticket.completion
    pending = (status == TicketStatus.COMPLETED and completion is not None
               and completion.approval_status == ApprovalStatus.PENDING)
    staff = is_staff(user)
    return TicketActions(
        accept=assigned and status == TicketStatus.ASSIGNED,
        decline=assigned and status == TicketStatus.ASSIGNED,
        arrive=assigned and status == TicketStatus.IN_PROGRESS and not on_site(ticket),
        complete=assigned and status == TicketStatus.IN_PROGRESS,
        approve=pending and _allowed(require_can_decide, user, completion),
        report=(status == TicketStatus.CLOSED and completion is not None  # closed without work: nothing to report
                and completion.approval_status == ApprovalStatus.APPROVED
                and user.role in (Role.ADMIN, Role.DISPATCHER, Role.STORE_MANAGER)),
        assign=staff and status in OPEN,
        priority=staff and status != TicketStatus.CLOSED,
        notes=staff,
        close=staff and status in OPEN,
        store_evidence=can_add_store_evidence(user, ticket),
        pause=(status == TicketStatus.IN_PROGRESS and ticket.paused_at is None and (staff or assigned)),
        resume=ticket.paused_at is not None and (staff or assigned),
    )


# --- equipment (API.md, "Equipment") ------------------------------------------------
# Readers: admins and dispatchers all; a store manager the units of their branches; a
# technician the units of the branches they currently serve (primary or secondary), and
# any unit on which they hold a ticket (one they may read: assigned now or before). Anyone
# else, and any unit the reader may not see, is NotFound (ids do not leak).

def equipment_scope(user, stmt: Select) -> Select:
    """Limit an Equipment query to the units `user` may read (lists and detail alike)."""
    if user.role in (Role.ADMIN, Role.DISPATCHER):
        return stmt
    if user.role == Role.STORE_MANAGER:
        mine = select(user_branches.c.branch_id).where(user_branches.c.user_id == user.id)
        return stmt.where(Equipment.branch_id.in_(mine))
    if user.role == Role.TECHNICIAN and user.technician_id:
        served = select(TechnicianBranchAssignment.branch_id).where(
            TechnicianBranchAssignment.technician_id == user.technician_id,
            TechnicianBranchAssignment.end_date.is_(None))
        theirs = ticket_scope(user, select(ServiceTicket.id).where(ServiceTicket.equipment_id == Equipment.id))
        return stmt.where(or_(Equipment.branch_id.in_(served), theirs.exists()))
    return stmt.where(False)


def can_read_equipment(user, unit: Equipment) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or unit is None:
        return False
    if user.role in (Role.ADMIN, Role.DISPATCHER):
        return True
    if user.role == Role.STORE_MANAGER:
        return unit.branch_id in branch_ids_of(user)
    from app.extensions import db

    stmt = equipment_scope(user, select(Equipment.id).where(Equipment.id == unit.id))
    return db.session.execute(stmt).first() is not None


def require_read_equipment(user, unit: Equipment | None) -> Equipment:
    if unit is None or not can_read_equipment(user, unit):
        raise NotFound(_("Unit not found"))
    return unit


def require_manage_equipment(user) -> None:
    """Create, edit, move, new report token: admins and dispatchers."""
    if not is_staff(user):
        raise Forbidden(_("Only dispatchers and admins may change equipment"))
