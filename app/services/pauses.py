"""Pausing a ticket's resolution clock (API.md, "Pausing the resolution clock").

While the technician waits for parts, cannot get into the store, or the store asks to
wait, the resolution clock stops: no resolution warning or alert (services/sla.py
skips paused tickets), never red (sla_clock's state "paused"). On resume the
resolution due time and its warning moment move later by the paused *working* time
of the ticket's calendar (services/calendars.py; around the clock for CRITICAL or a
branch without one). The response due time never moves.

Rules, checked in this order (each refusal changes nothing):
- the ticket must be readable (404 otherwise, as everywhere: ids do not leak);
- only the assigned technician (their user) or a dispatcher/admin (403 otherwise:
  access.can_pause, which the pages ask too);
- `reason` one of PauseReason, OTHER with a note (400, fields "reason" / "note");
- a `version` that is not the ticket's is stale (409);
- pause: an IN_PROGRESS ticket that is not paused (409); resume: a paused one (409).

Two taps are one pause: the ticket's row is locked on PostgreSQL (get_ticket
for_update) and its version column guards the write (a second, concurrent writer
fails on the version, SQLite or not); a second pause after the first committed finds
the ticket paused (409).

Each pause is a `TicketPause` row (who, why, the ticket's technician and branch, and
once resumed: who, the working and wall-clock minutes) and a timeline event (`paused`
{reason, note}, `resumed` {reason, minutes, wallMinutes}). The branch's store manager
hears of a pause in-app (and on the channels they keep on: routing "ticket_paused").
Functions flush; the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import PauseReason, ServiceTicket, TicketPause, TicketStatus
from app.services import access, calendars, timefmt
from app.services.errors import Conflict
from app.services.validation import Fields

NOTE_MAX = 1000


def parse(data: dict) -> tuple[PauseReason, str | None]:
    """`{reason, note?}` -> (reason, note), or 400 naming the field."""
    f = Fields(data if isinstance(data, dict) else {})
    reason = f.choice("reason", PauseReason, required=True)
    note = f.text("note", max_len=NOTE_MAX)
    if reason == PauseReason.OTHER and not note:
        f.error("note", _("Say why the work is paused."))
    f.check()
    return reason, note


def _check_version(ticket: ServiceTicket, version) -> None:
    if version is None:
        return
    f = Fields({"version": version})
    value = f.integer("version", min_value=0, max_value=2**31)
    f.check()
    if value != ticket.version:
        raise Conflict(_("This ticket was changed by someone else; reload and try again"))


def calendar_of(ticket: ServiceTicket):
    """The calendar the ticket's SLA counts in (None: around the clock): the SLA clock's."""
    from app.services.sla_clock import ticket_calendar

    return ticket_calendar(ticket)


def working_time_words(minutes: float) -> str:
    """Working time in hours and minutes ("26 h 05 min"), never in days: a day of
    working time is not 24 hours, and "1 day" would read as one."""
    hours, rest = divmod(int(round(minutes)), 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)02d min", hours=hours, minutes=rest)
    return _("%(hours)d h", hours=hours) if hours else _("%(minutes)d min", minutes=rest)


def open_pause(ticket: ServiceTicket) -> TicketPause | None:
    return db.session.execute(
        select(TicketPause).where(TicketPause.ticket_id == ticket.id, TicketPause.resumed_at.is_(None))
        .order_by(TicketPause.paused_at.desc()).limit(1)).scalar_one_or_none()


@dataclass(frozen=True)
class PauseState:
    """A paused ticket as people read it: "Paused · Waiting for parts · for 3 h 05 min"."""

    reason: PauseReason | None
    since: datetime
    seconds: float  # how long it has been paused (wall clock)
    note: str | None = None
    # Working minutes from the pause to the repair deadline: what is left when the work
    # resumes (None: not asked; 0: the deadline had passed when the work was paused).
    left_minutes: float | None = None

    @property
    def left_words(self) -> str:
        """The working time left when the work resumes: "26 h 05 min"."""
        return working_time_words(self.left_minutes or 0)

    @property
    def reason_words(self) -> str:
        return str(self.reason.label) if self.reason else _("no reason given")

    @property
    def text(self) -> str:
        if self.seconds < 60:
            return _("Paused · %(reason)s · just now", reason=self.reason_words)
        # The length stays on one line ("5 d 18 h" never split) when a narrow card wraps.
        return _("Paused · %(reason)s · for %(time)s", reason=self.reason_words,
                 time=timefmt.span(self.seconds).replace(" ", "\u00a0"))


def state(ticket: ServiceTicket, now: datetime | None = None, *, with_note: bool = False) -> PauseState | None:
    """How the ticket's pause reads now (None when it is not paused); `with_note` reads
    the open pause's note (one query)."""
    if ticket.paused_at is None:
        return None
    now = now or clock.now()
    row = open_pause(ticket) if with_note else None
    left = None
    if with_note:  # the ticket's own page: what is left of the deadline once resumed
        left = calendars.working_minutes_between(calendar_of(ticket), ticket.paused_at, ticket.resolution_due_at)
    return PauseState(ticket.pause_reason, ticket.paused_at, max(0.0, (now - ticket.paused_at).total_seconds()),
                      row.note if row is not None else None, left)


def pause(ticket_id: str, actor, reason, note=None, version=None) -> ServiceTicket:
    """Pause the resolution clock of ticket `ticket_id` (see the module docstring)."""
    from app.services.tickets import load_readable_ticket

    ticket = load_readable_ticket(actor, ticket_id, for_update=True)
    return pause_ticket(ticket, actor, reason, note, version)


def pause_ticket(ticket: ServiceTicket, actor, reason, note=None, version=None) -> ServiceTicket:
    """`pause` for a ticket already loaded (and locked) by the caller."""
    from app.services.notifications import notify
    from app.services.tickets import record_event

    access.require_can_pause(actor, ticket)
    reason, note = parse({"reason": reason.value if isinstance(reason, PauseReason) else reason, "note": note})
    _check_version(ticket, version)
    if ticket.paused_at is not None:
        raise Conflict(_("This ticket is already paused."))
    if ticket.status != TicketStatus.IN_PROGRESS:
        raise Conflict(_("Only work in progress can be paused (this ticket is %(status)s).",
                         status=ticket.status.label))
    now = clock.now()
    ticket.paused_at = now
    ticket.pause_reason = reason
    ticket.pause_alerted_at = None
    db.session.add(TicketPause(ticket_id=ticket.id, reason=reason, note=note, paused_at=now,
                               paused_by_id=getattr(actor, "id", None),
                               technician_id=ticket.assigned_technician_id, branch_id=ticket.branch_id))
    record_event(ticket, "paused", actor, reason=reason.value, note=note)
    notify("ticket_paused", ticket, actor, pause_reason=reason.value, note=note)
    db.session.flush()
    return ticket


def resume(ticket_id: str, actor, version=None) -> ServiceTicket:
    """Resume the resolution clock of ticket `ticket_id`: its due time moves later by
    the paused working time."""
    from app.services.tickets import load_readable_ticket

    ticket = load_readable_ticket(actor, ticket_id, for_update=True)
    access.require_can_pause(actor, ticket)
    _check_version(ticket, version)
    if ticket.paused_at is None:
        raise Conflict(_("This ticket is not paused."))
    return resume_ticket(ticket, actor)


def resume_ticket(ticket: ServiceTicket, actor, now: datetime | None = None) -> ServiceTicket:
    """End the ticket's pause (no permission check: the caller decided; completing,
    closing or reassigning a paused ticket resumes it first). No-op when not paused."""
    from app.services.tickets import record_event

    if ticket.paused_at is None:
        return ticket
    now = now or clock.now()
    paused_at = ticket.paused_at
    cal = calendar_of(ticket)
    minutes = max(0, round(calendars.working_minutes_between(cal, paused_at, now)))
    wall = max(0, round((now - paused_at).total_seconds() / 60))
    row = open_pause(ticket)
    if row is not None:
        row.resumed_at = now
        row.resumed_by_id = getattr(actor, "id", None)
        row.paused_minutes = minutes
        row.wall_minutes = wall
    if minutes > 0:
        ticket.resolution_due_at = calendars.add_working_minutes(cal, ticket.resolution_due_at, minutes)
        if ticket.resolution_warn_at is not None:
            ticket.resolution_warn_at = calendars.add_working_minutes(cal, ticket.resolution_warn_at, minutes)
        # A deadline moved past now is a new deadline: its miss is worth telling again.
        if ticket.resolution_alerted_at is not None and ticket.resolution_due_at > now:
            ticket.resolution_alerted_at = None
    ticket.paused_minutes_total = (ticket.paused_minutes_total or 0) + minutes
    reason = ticket.pause_reason
    ticket.paused_at = None
    ticket.pause_reason = None
    ticket.pause_alerted_at = None
    record_event(ticket, "resumed", actor, reason=reason.value if reason else None, minutes=minutes,
                 wallMinutes=wall)
    db.session.flush()
    return ticket
