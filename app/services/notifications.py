"""The outbox: who hears what, written in the business transaction.

`notify()` only adds rows; nothing is sent from a request thread. The worker
delivers Telegram and SMS rows with retries (see app/tasks.py); in-app rows are
read by the bell and /notifications.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    Role,
    ServiceTicket,
    TicketPriority,
    User,
    user_branches,
)
from app.services import clock

TECHNICIAN = "technician"
PREVIOUS_TECHNICIAN = "previous_technician"
DISPATCHERS = "dispatchers"
STORE_MANAGERS = "store_managers"
CREATOR = "creator"


@dataclass(frozen=True)
class Route:
    recipients: tuple[str, ...]
    title: str
    urgent: bool = False  # SMS goes out for urgent events (and CRITICAL tickets)


# Who hears what. Documented in the README ("Who hears what").
ROUTES: dict[str, Route] = {
    "ticket_assigned": Route((TECHNICIAN,), "New ticket {number} assigned to you"),
    "ticket_created": Route((CREATOR,), "Ticket {number} received"),
    "ticket_unassigned": Route((DISPATCHERS,), "Ticket {number} has no technician"),
    "ticket_escalated": Route((TECHNICIAN, PREVIOUS_TECHNICIAN, DISPATCHERS), "Ticket {number} escalated", urgent=True),
    "ticket_declined": Route((DISPATCHERS,), "Ticket {number} declined"),
    "ticket_completed": Route((STORE_MANAGERS,), "Ticket {number} is ready for your approval"),
    "completion_approved": Route((TECHNICIAN, DISPATCHERS), "Work on {number} approved"),
    "completion_rejected": Route((TECHNICIAN, DISPATCHERS), "Work on {number} rejected"),
    "sla_response_warning": Route((TECHNICIAN,), "Ticket {number}: response due soon"),
    "sla_response_warning_new": Route((DISPATCHERS,), "Ticket {number}: unassigned, response due soon"),
    "sla_no_secondary": Route((DISPATCHERS,), "Ticket {number}: response overdue, no secondary technician", urgent=True),
    "sla_response_level2": Route((DISPATCHERS,), "Ticket {number}: still no response after escalation", urgent=True),
    "sla_new_overdue": Route((DISPATCHERS,), "Ticket {number}: unassigned past its response time", urgent=True),
    "sla_resolution_overdue": Route((DISPATCHERS,), "Ticket {number}: resolution overdue"),
}


def _recipients(kind: str, ticket: ServiceTicket, actor, extra: dict) -> list[User]:
    route = ROUTES[kind]
    users: dict[str, User] = {}
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
    from sqlalchemy import or_

    for user in db.session.execute(select(User).where(or_(*conditions), User.is_active_user.is_(True))).scalars():
        users[user.id] = user
    return list(users.values())


def ticket_text(kind: str, ticket: ServiceTicket, extra: dict) -> str:
    """Plain text body; channels format it for their own markup."""
    from app.services.timefmt import local_str

    desc = ticket.description if len(ticket.description) <= 300 else ticket.description[:297] + "..."
    lines = [
        f"{ticket.ticket_number} · {ticket.priority.value}",
        f"{ticket.branch.branch_code} {ticket.branch.branch_name}",
        f"{ticket.subcategory.name}",
        desc,
    ]
    if extra.get("reason"):
        lines.append(f"Reason: {extra['reason']}")
    lines.append(f"Response due: {local_str(ticket.response_due_at)}")
    return "\n".join(lines)


def ticket_link(ticket: ServiceTicket, kind: str) -> str:
    base = current_app.config["APP_BASE_URL"]
    if kind == "ticket_completed":
        return f"{base}/tickets/{ticket.id}/approve"
    return f"{base}/tickets/{ticket.id}"


def notify(kind: str, ticket: ServiceTicket, actor=None, **extra) -> list[Notification]:
    """Write the outbox rows for one event (same transaction as the change)."""
    route = ROUTES[kind]
    title = route.title.format(number=ticket.ticket_number)
    body = ticket_text(kind, ticket, extra)
    cfg = current_app.config
    urgent = route.urgent or ticket.priority == TicketPriority.CRITICAL
    now = clock.now()
    rows = []
    for user in _recipients(kind, ticket, actor, extra):
        channels = [NotificationChannel.IN_APP]
        if cfg.get("TELEGRAM_BOT_TOKEN") and user.telegram_chat_id and user.notify_telegram:
            channels.append(NotificationChannel.TELEGRAM)
        if cfg.get("SMS_GATEWAY_URL") and user.phone and user.notify_sms and urgent:
            channels.append(NotificationChannel.SMS)
        for channel in channels:
            rows.append(
                Notification(
                    user_id=user.id,
                    ticket_id=ticket.id,
                    channel=channel,
                    kind=kind,
                    title=title,
                    body=body,
                    status=NotificationStatus.SENT if channel == NotificationChannel.IN_APP else NotificationStatus.PENDING,
                    sent_at=now if channel == NotificationChannel.IN_APP else None,
                    next_attempt_at=None if channel == NotificationChannel.IN_APP else now,
                    created_at=now,
                )
            )
    db.session.add_all(rows)
    return rows
