"""Who may see and do what: one rule per object kind, used by pages and the API alike.

The rules are the table in API.md. A ticket the caller may not read is reported as
NotFound (404), never Forbidden, so ids do not leak.
"""
from __future__ import annotations

from sqlalchemy import Select, exists, or_, select

from app.models import (
    Role,
    ServiceCompletion,
    ServiceTicket,
    TicketAssignee,
    user_branches,
)
from app.services.errors import Forbidden, NotFound


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
        raise NotFound("Ticket not found")
    return ticket


def require_can_create_tickets(user) -> None:
    """Staff for any branch, store managers for their own; technicians never."""
    if user.role not in (Role.ADMIN, Role.DISPATCHER, Role.STORE_MANAGER):
        raise Forbidden("Technicians cannot create tickets")


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
        raise Forbidden("Only dispatchers and admins may do this")


def require_admin(user) -> None:
    if user.role != Role.ADMIN:
        raise Forbidden("Only admins may do this")


def require_assigned_technician(user, ticket: ServiceTicket) -> None:
    """Accept / decline / start / arrive / photos / complete: the assigned technician only."""
    if user.role != Role.TECHNICIAN or not user.technician_id:
        raise Forbidden("Only the assigned technician may do this")
    if ticket.assigned_technician_id != user.technician_id:
        raise Forbidden("This ticket is assigned to another technician")


def require_can_decide(user, completion: ServiceCompletion) -> None:
    """Approve / reject: admins, and store managers of the ticket's branch."""
    if user.role == Role.ADMIN:
        return
    if user.role == Role.STORE_MANAGER and completion.ticket.branch_id in branch_ids_of(user):
        return
    raise Forbidden("Only the branch's store manager may approve or reject")


def can_see_internal_notes(user) -> bool:
    return user.role != Role.STORE_MANAGER
