"""The SLA clock: the one home of every rule a person can see about SLA time.

For a ticket and a moment it answers which deadline the ticket races (the response
until a technician answers, then the resolution), when it turns amber (the warning
moment), how much of its window is used, and its state:

    ok        running, before the warning moment
    warning   running, past the warning moment (amber)
    overdue   running, past the deadline (red)
    met       stopped in time (the completion was submitted by the resolution deadline)
    missed    stopped late
    cancelled closed without a completion
    paused    the resolution clock is paused (services/pauses.py): no warning, no alert,
              never red; on resume the due time moves by the paused working time

Due times and warning moments are computed here when a ticket is created or its
priority changes, and stored on the ticket (`response_due_at`, `response_warn_at`,
`resolution_due_at`, `resolution_warn_at`): later changes of the subcategory's minutes
or of `SLA_WARNING_FRACTION` apply to new tickets, and a ticket keeps what it was
promised. Under a working calendar (services/calendars.py) the minutes are working
minutes and the warning moment is SLA_WARNING_FRACTION of the working time, which SQL
cannot derive from two timestamps; hence the stored moments.

Where SQL must decide the same thing (the board's overdue filter, analytics' tickets at
risk, the sweep's warnings), the `sql_*` builders below produce it from the same
stored columns, so the pages, the API, the sweep and the reports cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import and_, case, literal

from app.models import OPEN_STATUSES, IssueSubcategory, ServiceTicket, TicketPriority, TicketStatus
from app.models.types import UTCDateTime
from app import clock
from app.services import calendars

RESPONSE, RESOLUTION = "response", "resolution"
OK, WARNING, OVERDUE, MET, MISSED, CANCELLED = "ok", "warning", "overdue", "met", "missed", "cancelled"
PAUSED = "paused"
RUNNING_STATES = (OK, WARNING, OVERDUE)
# A ticket races its response deadline while it waits for a technician's answer.
_WAITING_FOR_ANSWER = (TicketStatus.NEW, TicketStatus.ASSIGNED)
DEFAULT_WARNING_FRACTION = 0.75


def warning_fraction() -> float:
    """The share of an SLA window after which the ticket turns amber (SLA_WARNING_FRACTION)."""
    if has_app_context():
        return float(current_app.config.get("SLA_WARNING_FRACTION", DEFAULT_WARNING_FRACTION))
    return DEFAULT_WARNING_FRACTION


# --- deadlines (computed once, stored on the ticket) ---------------------------------

@dataclass(frozen=True)
class Deadlines:
    response_due_at: datetime
    response_warn_at: datetime
    resolution_due_at: datetime
    resolution_warn_at: datetime


def ticket_calendar(ticket):
    """The calendar a ticket's SLA counts in: its branch's, none for CRITICAL
    (calendars.for_ticket)."""
    branch = ticket.branch
    return calendars.for_ticket(branch.calendar if branch is not None else None, ticket.priority)


def due_times(subcategory: IssueSubcategory, priority: TicketPriority, start: datetime, *,
              calendar) -> tuple[datetime, datetime]:
    """(responseDueAt, resolutionDueAt): the subcategory's minutes for the priority,
    counted from `start` in the working time of `calendar` (the branch's; None: around
    the clock; a CRITICAL ticket always counts around the clock)."""
    d = deadlines(subcategory, priority, start, calendar=calendar)
    return d.response_due_at, d.resolution_due_at


def deadlines(subcategory: IssueSubcategory, priority: TicketPriority, start: datetime, *,
              calendar, paused_minutes: float = 0) -> Deadlines:
    """Both due times and both warning moments for a window that opens at `start`, in
    the working time of `calendar` (the branch's calendar: `calendars.for_ticket` leaves
    CRITICAL around the clock). A start outside working time counts from the next
    opening. The warning moment is SLA_WARNING_FRACTION of the *working* time.
    `paused_minutes` (working minutes the resolution clock already stood still) move the
    resolution due time and its warning moment later; the response never moves."""
    calendar = calendars.for_ticket(calendar, priority)
    fraction = warning_fraction()
    response, resolution = subcategory.response_minutes(priority), subcategory.resolution_minutes(priority)
    return Deadlines(*calendars.add_working_minutes_each(calendar, start, (
        response, fraction * response, resolution + paused_minutes, fraction * resolution + paused_minutes)))


def set_deadlines(ticket: ServiceTicket, subcategory: IssueSubcategory, priority: TicketPriority,
                  start: datetime, *, calendar, paused_minutes: float = 0) -> None:
    """Give the ticket the deadlines of `priority`, counted from `start` (its creation)
    in `calendar` (its branch's; see `deadlines`)."""
    d = deadlines(subcategory, priority, start, calendar=calendar, paused_minutes=paused_minutes)
    ticket.response_due_at, ticket.response_warn_at = d.response_due_at, d.response_warn_at
    ticket.resolution_due_at, ticket.resolution_warn_at = d.resolution_due_at, d.resolution_warn_at


# --- one ticket, one moment ---------------------------------------------------------------

def races_response(ticket) -> bool:
    """True while the ticket waits for a technician's answer (NEW or ASSIGNED, never accepted)."""
    return ticket.first_response_at is None and ticket.status in _WAITING_FOR_ANSWER


def running_deadline(ticket) -> tuple[str, datetime]:
    """The SLA clock a ticket races now: ("response", responseDueAt) while it waits for
    a technician's answer, else ("resolution", resolutionDueAt)."""
    if races_response(ticket):
        return RESPONSE, ticket.response_due_at
    return RESOLUTION, ticket.resolution_due_at


@dataclass(frozen=True)
class Clock:
    """A ticket's SLA clock at one moment (see the module docstring for the states)."""

    kind: str  # "response" | "resolution"
    state: str
    due_at: datetime
    warn_at: datetime | None  # None once stopped
    seconds_left: float  # until due (negative past it); for a stopped clock: due - stop
    share_used: float  # of the window, 0..1+ (1 at the deadline)

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def overdue(self) -> bool:
        return self.state == OVERDUE


def clock_for(ticket, now: datetime | None = None) -> Clock:
    """The clock that matters for this ticket at `now`: the response clock while it
    waits for an answer, else the resolution clock."""
    if races_response(ticket):
        return response_clock(ticket, now)
    return resolution_clock(ticket, now)


def response_clock(ticket, now: datetime | None = None) -> Clock:
    """The response clock: stopped by the technician's first answer (accept or arrival)."""
    start, due = ticket.created_at, ticket.response_due_at
    answered = ticket.first_response_at
    if answered is not None:
        return Clock(RESPONSE, MISSED if answered > due else MET, due, None,
                     (due - answered).total_seconds(), _share(start, due, answered))
    if ticket.status not in OPEN_STATUSES:
        return Clock(RESPONSE, CANCELLED, due, None, 0.0, 0.0)
    return _running(RESPONSE, start, due, ticket.response_warn_at, now or clock.now())


def resolution_clock(ticket, now: datetime | None = None) -> Clock:
    """The resolution clock: stopped by the submission of the completion that was approved
    (COMPLETED and CLOSED tickets); a ticket closed without one is "cancelled"."""
    start, due = ticket.created_at, ticket.resolution_due_at
    if ticket.status in (TicketStatus.COMPLETED, TicketStatus.CLOSED):
        stopped = ticket.completed_at
        if stopped is None:
            return Clock(RESOLUTION, CANCELLED, due, None, 0.0, 0.0)
        return Clock(RESOLUTION, MISSED if stopped > due else MET, due, None,
                     (due - stopped).total_seconds(), _share(start, due, stopped))
    paused_at = getattr(ticket, "paused_at", None)
    if paused_at is not None:
        return Clock(RESOLUTION, PAUSED, due, None, (due - paused_at).total_seconds(), _share(start, due, paused_at))
    return _running(RESOLUTION, start, due, ticket.resolution_warn_at, now or clock.now())


def _running(kind: str, start: datetime, due: datetime, warn_at: datetime, now: datetime) -> Clock:
    if now > due:
        state = OVERDUE
    elif now >= warn_at:
        state = WARNING
    else:
        state = OK
    return Clock(kind, state, due, warn_at, (due - now).total_seconds(), _share(start, due, now))


def _share(start: datetime, due: datetime, at: datetime) -> float:
    """The used share of the window start..due at `at`, in wall-clock time even under a
    working calendar (a display figure only: the states come from the stored due and
    warning moments, which are calendar-aware)."""
    window = (due - start).total_seconds()
    return (at - start).total_seconds() / window if window > 0 else 1.0


def response_breached(ticket, now: datetime | None = None) -> bool:
    """Met when the technician accepted by responseDueAt; breached once it passes unmet."""
    now = now or clock.now()
    if ticket.first_response_at is not None:
        return ticket.first_response_at > ticket.response_due_at
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        return ticket.closed_at > ticket.response_due_at
    return now > ticket.response_due_at


def resolution_breached(ticket, now: datetime | None = None) -> bool:
    """Met when the completion finally approved was submitted by resolutionDueAt."""
    now = now or clock.now()
    if ticket.status in (TicketStatus.COMPLETED, TicketStatus.CLOSED) and ticket.completed_at is not None:
        return ticket.completed_at > ticket.resolution_due_at
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        return ticket.closed_at > ticket.resolution_due_at
    return now > ticket.resolution_due_at


# --- the same rules in SQL (over the stored columns) --------------------------------------

def _at(now: datetime):
    return literal(now, UTCDateTime())


def sql_races_response(T=ServiceTicket):
    """SQL of `races_response`."""
    return and_(T.first_response_at.is_(None), T.status.in_(_WAITING_FOR_ANSWER))


def sql_running_due(T=ServiceTicket):
    """SQL of `running_deadline`'s due time."""
    return case((sql_races_response(T), T.response_due_at), else_=T.resolution_due_at)


def sql_running_warn(T=ServiceTicket):
    """SQL of the running clock's warning moment."""
    return case((sql_races_response(T), T.response_warn_at), else_=T.resolution_warn_at)


def sql_overdue(now: datetime, T=ServiceTicket):
    """Open, not paused, and past its running deadline (the state "overdue")."""
    return and_(T.status.in_(OPEN_STATUSES), T.paused_at.is_(None), sql_running_due(T) < _at(now))


def sql_at_risk(now: datetime, T=ServiceTicket):
    """Open, not paused, and past its running clock's warning moment (the states
    "warning" and "overdue")."""
    return and_(T.status.in_(OPEN_STATUSES), T.paused_at.is_(None), sql_running_warn(T) <= _at(now))


def sql_response_warning_due(now: datetime, T=ServiceTicket):
    """The response clock has passed its warning moment but not yet its deadline: the
    moment the sweep warns (the state "warning" of a ticket racing its response)."""
    at = _at(now)
    return and_(sql_races_response(T), T.response_warn_at <= at, T.response_due_at >= at)
