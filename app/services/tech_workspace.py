"""The technician's phone workspace: read models for the queue (most urgent first)
and the completion draft (the ticket page itself: services/ticket_page.py).

Read-only: every write goes through tickets / technicians / photos / completions.
Each read model is one eager-loaded query (plus a fixed few), so the templates never
touch the database and the number of queries does not grow with the number of tickets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    ApprovalStatus,
    CustomerBranch,
    Equipment,
    Role,
    ServiceCompletion,
    ServiceTicket,
    TicketPhoto,
    TicketPriority,
    TicketStatus,
    User,
)
from app import clock
from app.services import access, pauses
from app.services import sla_clock, timefmt

PRIORITY_RANK = {TicketPriority.CRITICAL: 0, TicketPriority.HIGH: 1, TicketPriority.NORMAL: 2, TicketPriority.LOW: 3}
QUEUE_STATUSES = (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.COMPLETED)


@dataclass(frozen=True)
class SlaClock:
    """The deadline that matters now: the response until the ticket is accepted,
    then the resolution."""

    phase: str  # "response" | "resolution"
    due_at: datetime
    seconds_left: int  # negative once overdue
    level: str  # the SLA clock's state: "ok" | "warning" | "overdue" | "paused"
    paused_text: str | None = None  # "Paused · Waiting for parts · 3 h 05 min" while paused

    @property
    def breached(self) -> bool:
        return self.level != sla_clock.PAUSED and self.seconds_left < 0

    @property
    def text(self) -> str:
        if self.paused_text is not None:
            return self.paused_text
        if self.phase == "response":
            if self.breached:
                return _("Respond: overdue by %(span)s", span=duration_text(-self.seconds_left))
            return _("Respond within %(span)s", span=duration_text(self.seconds_left))
        if self.breached:
            return _("Resolve: overdue by %(span)s", span=duration_text(-self.seconds_left))
        return _("Resolve within %(span)s", span=duration_text(self.seconds_left))


def duration_text(seconds: int) -> str:
    """Minutes, hours and days, as read at a glance: "45 min", "2 h 05 min", "3 d 4 h"."""
    return timefmt.span(max(0, seconds))


def racing_clock(ticket: ServiceTicket, now: datetime | None = None) -> SlaClock:
    """Which SLA deadline the technician races now, how long is left, and its colour
    (the SLA clock's state: ok, warning, overdue; paused, with its reason and length)."""
    now = now or clock.now()
    c = sla_clock.clock_for(ticket, now)
    paused = pauses.state(ticket, now).text if c.state == sla_clock.PAUSED else None
    return SlaClock(c.kind, c.due_at, int(c.seconds_left), c.state, paused)


def maps_url(branch: CustomerBranch) -> str | None:
    """A link the phone opens in its maps app: the coordinates, else the address."""
    if branch.latitude is not None and branch.longitude is not None:
        return f"https://maps.google.com/?q={branch.latitude:.6f},{branch.longitude:.6f}"
    if branch.address:
        return "https://maps.google.com/?q=" + quote(branch.address)
    return None


def rejected_completion(ticket: ServiceTicket) -> ServiceCompletion | None:
    """Rejected work back in the queue: IN_PROGRESS whose latest completion was rejected."""
    if ticket.status != TicketStatus.IN_PROGRESS:
        return None
    rejected = [c for c in ticket.completions if c.approval_status == ApprovalStatus.REJECTED]
    if not rejected:
        return None
    return max(rejected, key=lambda c: (c.decided_at or c.completed_at, c.completed_at))


def far_from_branch(ticket: ServiceTicket) -> bool:
    """Arrival recorded further from the branch than ARRIVAL_RADIUS_M (a warning only)."""
    radius = current_app.config.get("ARRIVAL_RADIUS_M")
    return ticket.arrival_distance_m is not None and radius is not None and ticket.arrival_distance_m > radius


@dataclass
class QueueItem:
    ticket: ServiceTicket
    sla: SlaClock | None
    maps_url: str | None
    rejected: ServiceCompletion | None = None
    rejected_by: str | None = None
    far_from_branch: bool = False
    actions: access.TicketActions = field(default_factory=access.TicketActions)
    unit_readable: bool = False  # the ticket's unit's page may be opened (access.equipment_scope)
    pause: "pauses.PauseState | None" = None  # paused: shown as "Paused · reason · for …", never red

    @property
    def awaiting_approval(self) -> bool:
        return self.ticket.status == TicketStatus.COMPLETED

    @property
    def on_site(self) -> bool:
        """On site now: this visit's arrival is recorded and the work not yet submitted."""
        return self.ticket.status == TicketStatus.IN_PROGRESS and access.on_site(self.ticket)

    @property
    def arrived_when(self) -> str:
        """The arrival's time, with its date when it was not today ("3 Dec 17:21")."""
        arrived = self.ticket.arrived_at
        if arrived is None:
            return ""
        today = timefmt.to_local(clock.now()).date() == timefmt.to_local(arrived).date()
        return timefmt.local_str(arrived, "time" if today else "datetime")


@dataclass
class Queue:
    open: list[QueueItem] = field(default_factory=list)
    awaiting: list[QueueItem] = field(default_factory=list)
    has_technician: bool = True


def _queue_item(user, ticket: ServiceTicket, now: datetime, names: dict[str, str],
                readable_units: set[str] | frozenset = frozenset()) -> QueueItem:
    rejected = rejected_completion(ticket)
    return QueueItem(
        ticket=ticket,
        sla=None if ticket.status == TicketStatus.COMPLETED else racing_clock(ticket, now),
        maps_url=maps_url(ticket.branch),
        rejected=rejected,
        rejected_by=names.get(rejected.decided_by_id) if rejected and rejected.decided_by_id else None,
        far_from_branch=far_from_branch(ticket),
        actions=access.ticket_actions(user, ticket),
        unit_readable=ticket.equipment_id is not None and ticket.equipment_id in readable_units,
        pause=pauses.state(ticket, now),
    )


def _readable_units(user, tickets: list[ServiceTicket]) -> set[str]:
    """Which of these tickets' units `user` may open (one query, whatever their number)."""
    ids = {t.equipment_id for t in tickets if t.equipment_id}
    if not ids:
        return set()
    return set(db.session.execute(
        access.equipment_scope(user, select(Equipment.id).where(Equipment.id.in_(ids)))).scalars())


def _decider_names(tickets: list[ServiceTicket]) -> dict[str, str]:
    ids = {c.decided_by_id for t in tickets if (c := rejected_completion(t)) is not None and c.decided_by_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def queue_for(user, now: datetime | None = None) -> Queue:
    """The technician's tickets: open ones (ASSIGNED, IN_PROGRESS, rejected work) most
    urgent first — the nearest current deadline first, so breached ones lead, then
    priority; paused ones after those still running — and COMPLETED work awaiting the store manager's approval, newest first."""
    if user.role != Role.TECHNICIAN or not user.technician_id:
        return Queue(has_technician=False)
    now = now or clock.now()
    stmt = access.ticket_scope(user, select(ServiceTicket)).where(
        ServiceTicket.assigned_technician_id == user.technician_id,
        ServiceTicket.status.in_(QUEUE_STATUSES),
    ).options(
        selectinload(ServiceTicket.branch),
        selectinload(ServiceTicket.subcategory),
        selectinload(ServiceTicket.completions),
        selectinload(ServiceTicket.equipment),
    )
    rows = list(db.session.execute(stmt).scalars())
    names = _decider_names(rows)
    units = _readable_units(user, rows)
    items = [_queue_item(user, t, now, names, units) for t in rows]
    queue = Queue()
    queue.open = sorted(
        (i for i in items if not i.awaiting_approval),
        # A paused repair waits (for parts, for the store): after the running ones.
        key=lambda i: (i.pause is not None, i.sla.due_at, PRIORITY_RANK[i.ticket.priority], i.ticket.created_at,
                       i.ticket.id),
    )
    queue.awaiting = sorted(
        (i for i in items if i.awaiting_approval),
        key=lambda i: (i.ticket.completed_at or i.ticket.created_at),
        reverse=True,
    )
    return queue


def queue_item(user, ticket: ServiceTicket, now: datetime | None = None) -> QueueItem:
    """One ticket as the queue shows it to `user` (its completions and unit loaded here)."""
    return _queue_item(user, ticket, now or clock.now(), _decider_names([ticket]), _readable_units(user, [ticket]))


def completion_blocker(user, ticket: ServiceTicket) -> str | None:
    """Why this technician cannot complete this ticket now (None when they can)."""
    if ticket.assigned_technician_id != user.technician_id:
        return _("This ticket is assigned to another technician now.")
    if ticket.status == TicketStatus.ASSIGNED:
        return _("Accept this ticket before completing it.")
    if ticket.status == TicketStatus.COMPLETED:
        return _("This work has been submitted and is waiting for the store manager's approval.")
    if ticket.status == TicketStatus.CLOSED:
        return _("This ticket is closed.")
    if ticket.status != TicketStatus.IN_PROGRESS:
        return _("This ticket's status is “%(status)s”.", status=ticket.status.label)
    return None


@dataclass
class CompletionDraft:
    item: QueueItem
    photos: list[TicketPhoto]
    default_rate: Decimal
    blocker: str | None
    own_photo_ids: set[str] = field(default_factory=set)

    @property
    def default_photo_type(self) -> str:
        """"After" once the technician is on site, on "Complete again", or once they took
        a before photo themselves (the store's photos do not count); "before" otherwise."""
        ticket = self.item.ticket
        if self.item.rejected is not None or ticket.arrived_at is not None:
            return "after"
        own_before = any(p.type.value == "before" for p in self.photos if p.id in self.own_photo_ids)
        return "after" if own_before else "before"

    @property
    def prefill(self) -> dict | None:
        """After the store sent the work back: the rejected submission's description,
        hours and parts, to start "Complete again" from (the API's field names)."""
        rejected = self.item.rejected
        if rejected is None:
            return None
        return {
            "workDescription": rejected.work_description,
            "laborHours": plain_decimal(rejected.labor_hours),
            "partsUsed": [{"name": p.name, "quantity": plain_decimal(p.quantity), "unitCost": plain_decimal(p.unit_cost)}
                          for p in sorted(rejected.parts, key=lambda p: p.position)],
        }


def plain_decimal(value: Decimal | None) -> str:
    """1.50 -> "1.5", 2.00 -> "2", 120.50 -> "120.5": as a technician would type it."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def completion_draft(user, ticket: ServiceTicket) -> CompletionDraft:
    """The complete page: the photos uploaded for this submission so far (not yet part
    of a submitted completion), the default labour rate, and any reason it is blocked."""
    photos = list(db.session.execute(
        select(TicketPhoto).where(TicketPhoto.ticket_id == ticket.id, TicketPhoto.completion_id.is_(None))
        .order_by(TicketPhoto.created_at, TicketPhoto.id)
    ).scalars())
    ticket.completions  # noqa: B018 - load once here, not in the template
    from app.services.photos import store_photo_ids

    store_ids = store_photo_ids(photos)
    return CompletionDraft(
        item=queue_item(user, ticket),
        photos=photos,
        default_rate=default_labor_rate(ticket),
        blocker=completion_blocker(user, ticket),
        own_photo_ids={p.id for p in photos if p.id not in store_ids},
    )


def default_labor_rate(ticket: ServiceTicket | None = None) -> Decimal:
    """The labour rate of the ticket's technician (theirs, or the company's)."""
    from app.services.technicians import labor_rate_for

    return labor_rate_for(ticket.assigned_technician if ticket is not None else None)
