"""Who is told what, and on which channels: the routing table (one Route per kind).

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.extensions import db
from app.models import (
    NotificationChannel,
    NotificationStatus,
    Role,
    ServiceTicket,
    User,
    user_branches,
)



TECHNICIAN = "technician"
PREVIOUS_TECHNICIAN = "previous_technician"
DISPATCHERS = "dispatchers"
STORE_MANAGERS = "store_managers"
CREATOR = "creator"

IN_APP = NotificationChannel.IN_APP
TELEGRAM = NotificationChannel.TELEGRAM
SMS = NotificationChannel.SMS
PENDING = NotificationStatus.PENDING
SENDING = NotificationStatus.SENDING
SENT = NotificationStatus.SENT
FAILED = NotificationStatus.FAILED
CANCELLED = NotificationStatus.CANCELLED


@dataclass(frozen=True)
class Route:
    recipients: tuple[str, ...]
    title: str
    urgent: bool = False  # SMS always (escalations, overdue alerts)
    critical_sms: bool = True  # SMS when the ticket is CRITICAL (events someone must act on)


# Who hears what. Documented in the README ("Who hears what"); keep the two in step.
ROUTES: dict[str, Route] = {
    "ticket_assigned": Route((TECHNICIAN,), "New ticket {number} assigned to you"),
    "ticket_created": Route((CREATOR,), "Ticket {number} received", critical_sms=False),
    "ticket_unassigned": Route((DISPATCHERS,), "Ticket {number} has no technician"),
    "ticket_escalated": Route((TECHNICIAN, PREVIOUS_TECHNICIAN, DISPATCHERS), "Ticket {number} escalated", urgent=True),
    "ticket_declined": Route((DISPATCHERS,), "Ticket {number} declined"),
    "ticket_completed": Route((STORE_MANAGERS,), "Ticket {number} is ready for your approval", critical_sms=False),
    "completion_approved": Route((TECHNICIAN, DISPATCHERS), "Work on {number} approved", critical_sms=False),
    "completion_rejected": Route((TECHNICIAN, DISPATCHERS), "Work on {number} rejected", critical_sms=False),
    "sla_response_warning": Route((TECHNICIAN,), "Ticket {number}: response due soon"),
    "sla_response_warning_new": Route((DISPATCHERS,), "Ticket {number}: unassigned, response due soon"),
    "sla_no_secondary": Route((DISPATCHERS,), "Ticket {number}: response overdue, no secondary technician", urgent=True),
    "sla_response_level2": Route((DISPATCHERS,), "Ticket {number}: still no response after escalation", urgent=True),
    "sla_new_overdue": Route((DISPATCHERS,), "Ticket {number}: unassigned past its response time", urgent=True),
    "sla_resolution_overdue": Route((DISPATCHERS,), "Ticket {number}: resolution overdue"),
}

# Telegram messages of these kinds to the ticket's current technician carry Accept/Decline.
ASSIGNMENT_KINDS = ("ticket_assigned", "ticket_escalated")
# In-app alert to dispatchers when a Telegram/SMS message fails for good (not routed by ROUTES).
DELIVERY_FAILED = "delivery_failed"

# --- who is told: the people behind a route, for one ticket ---------------------------

def _recipients(kind: str, ticket: ServiceTicket, actor, extra: dict) -> list[User]:
    route = ROUTES[kind]
    tech_ids = []
    if TECHNICIAN in route.recipients and ticket.assigned_technician_id:
        tech_ids.append(ticket.assigned_technician_id)
    if PREVIOUS_TECHNICIAN in route.recipients and extra.get("previous_technician_id"):
        tech_ids.append(extra["previous_technician_id"])
    conditions = []
    if tech_ids:
        conditions.append(User.technician_id.in_(tech_ids))
    if DISPATCHERS in route.recipients:
        conditions.append(User.role == Role.DISPATCHER)
    if STORE_MANAGERS in route.recipients:
        conditions.append(
            User.id.in_(select(user_branches.c.user_id).where(user_branches.c.branch_id == ticket.branch_id))
            & (User.role == Role.STORE_MANAGER)
        )
    if CREATOR in route.recipients and actor is not None and getattr(actor, "role", None) == Role.STORE_MANAGER:
        conditions.append(User.id == actor.id)
    if not conditions:
        return []
    stmt = select(User).where(or_(*conditions), User.is_active_user.is_(True)).order_by(User.email)
    return list({u.id: u for u in db.session.execute(stmt).scalars()}.values())


