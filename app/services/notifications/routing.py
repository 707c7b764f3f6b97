"""Who is told what, and on which channels: the routing table (one Route per kind).

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.models import (
    NotificationChannel,
    NotificationStatus,
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
    title: object  # lazy: str(title) is in the language in force; "%(number)s" is the ticket's number
    urgent: bool = False  # SMS always (escalations, overdue alerts)
    critical_sms: bool = True  # SMS when the ticket is CRITICAL (events someone must act on)


# Who hears what. Nobody hears of their own action (the fan-out leaves out the event's
# actor), except the reporter's confirmation ("ticket_created", to the CREATOR): who was
# assigned and by when they must respond. Documented in the README ("Who hears what"); keep the two in step.
# The one fan-out that turns a route into people and channels is the outbox's
# INSERT ... SELECT (outbox._outbox_insert_sql), for one event and for a sweep alike.
ROUTES: dict[str, Route] = {
    "ticket_assigned": Route((TECHNICIAN,), _l("New ticket %(number)s assigned to you")),
    "ticket_created": Route((CREATOR,), _l("Ticket %(number)s received"), critical_sms=False),
    "ticket_unassigned": Route((DISPATCHERS,), _l("Ticket %(number)s has no technician")),
    # The technician a dispatcher took off the ticket (reassigned to someone else).
    "ticket_taken_off": Route((PREVIOUS_TECHNICIAN,), _l("You were taken off ticket %(number)s"), critical_sms=False),
    "ticket_escalated": Route((TECHNICIAN, PREVIOUS_TECHNICIAN, DISPATCHERS), _l("Ticket %(number)s escalated"), urgent=True),
    "ticket_declined": Route((DISPATCHERS,), _l("Ticket %(number)s declined")),
    "ticket_completed": Route((STORE_MANAGERS,), _l("Ticket %(number)s is ready for your approval"), critical_sms=False),
    "completion_approved": Route((TECHNICIAN, DISPATCHERS), _l("Work on %(number)s approved"), critical_sms=False),
    "completion_rejected": Route((TECHNICIAN, DISPATCHERS), _l("Work on %(number)s rejected"), critical_sms=False),
    "sla_response_warning": Route((TECHNICIAN,), _l("Ticket %(number)s: response due soon")),
    "sla_response_warning_new": Route((DISPATCHERS,), _l("Ticket %(number)s: unassigned, response due soon")),
    "sla_no_secondary": Route((DISPATCHERS,), _l("Ticket %(number)s: response overdue, no secondary technician"), urgent=True),
    "sla_response_level2": Route((DISPATCHERS,), _l("Ticket %(number)s: still no response after escalation"), urgent=True),
    "sla_new_overdue": Route((DISPATCHERS,), _l("Ticket %(number)s: unassigned past its response time"), urgent=True),
    "sla_resolution_overdue": Route((DISPATCHERS,), _l("Ticket %(number)s: resolution overdue")),
    # The resolution clock paused (services/pauses.py): the branch's store manager hears
    # why (in-app, and Telegram where they linked it; never an SMS).
    "ticket_paused": Route((STORE_MANAGERS,), _l("Ticket %(number)s: repair paused"), critical_sms=False),
    # Paused for longer than PAUSE_ALERT_HOURS (the SLA sweep), once per pause.
    "sla_pause_long": Route((DISPATCHERS,), _l("Ticket %(number)s: paused for too long")),
}

# Telegram messages of these kinds to the ticket's current technician carry Accept/Decline.
ASSIGNMENT_KINDS = ("ticket_assigned", "ticket_escalated")
# An in-app item of these kinds is "stale" for a technician no longer on its ticket
# (taken off, escalated away, declined): shown struck through, offering no actions.
STALE_WHEN_TAKEN_OFF = ASSIGNMENT_KINDS
# In-app alert to dispatchers when a Telegram/SMS message fails for good (not routed by ROUTES).
DELIVERY_FAILED = "delivery_failed"
