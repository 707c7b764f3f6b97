"""SLA: due times from the subcategory and priority, and breach rules.

Due times are stored on the ticket at creation (and on a priority change), so later
edits of a subcategory's minutes apply to new tickets only.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from app.models import IssueSubcategory, ServiceTicket, TicketPriority, TicketStatus
from app.services import clock


def due_times(subcategory: IssueSubcategory, priority: TicketPriority, created_at: datetime) -> tuple[datetime, datetime]:
    """(responseDueAt, resolutionDueAt) = createdAt + the subcategory's minutes for the priority."""
    return (
        created_at + timedelta(minutes=subcategory.response_minutes(priority)),
        created_at + timedelta(minutes=subcategory.resolution_minutes(priority)),
    )


def response_breached(ticket: ServiceTicket, now: datetime | None = None) -> bool:
    """Met when the technician accepted by responseDueAt; breached once it passes unmet."""
    now = now or clock.now()
    if ticket.first_response_at is not None:
        return ticket.first_response_at > ticket.response_due_at
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        return ticket.closed_at > ticket.response_due_at
    return now > ticket.response_due_at


def resolution_breached(ticket: ServiceTicket, now: datetime | None = None) -> bool:
    """Met when the completion finally approved was submitted by resolutionDueAt."""
    now = now or clock.now()
    if ticket.status in (TicketStatus.COMPLETED, TicketStatus.CLOSED) and ticket.completed_at is not None:
        return ticket.completed_at > ticket.resolution_due_at
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        return ticket.closed_at > ticket.resolution_due_at
    return now > ticket.resolution_due_at
