"""The one ticket page (/tickets/<id>): what each role that may read a ticket sees of
it and may do on it, decided here so the template only shows it.

Reads only. The ticket comes in one eager query (branch and customer, category,
subcategory, technician, photos, completions with parts and photos), the timeline in
one more (`ticket_queries.timeline`, the only timeline query of the pages and the API); the SLA
clocks come from `sla_clock` through the board's `Countdown` words, and the actions
from `access.ticket_actions`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    CustomerBranch,
    Role,
    ServiceCompletion,
    ServiceTicket,
    TicketEvent,
    TicketStatus,
)
from app import clock
from app.services import access, board, pauses, store_views, tech_workspace, ticket_queries, timeline_text
from app.services.errors import NotFound

STAFF, TECHNICIAN, STORE = "staff", "technician", "store"

# The status as the dispatcher and the technician say it (the store's words are
# store_views.plain_status): never the enum's name on screen.
STATUS_WORDS = {
    TicketStatus.NEW: _l("New, no technician yet"),
    TicketStatus.ASSIGNED: _l("Assigned, waiting for the technician to accept"),
    TicketStatus.IN_PROGRESS: _l("In progress"),
    TicketStatus.COMPLETED: _l("Completed, waiting for the store's approval"),
    TicketStatus.CLOSED: _l("Closed"),
}


def view_of(user) -> str:
    if access.is_staff(user):
        return STAFF
    if user.role == Role.TECHNICIAN:
        return TECHNICIAN
    return STORE


def load_ticket(user, ticket_id: str) -> ServiceTicket:
    """The ticket with everything the page shows, in one query (the collections by
    SELECT ... IN on the same statement); NotFound when `user` may not read it."""
    access.require_id(ticket_id, _("Ticket not found"))
    ticket = db.session.execute(
        select(ServiceTicket).where(ServiceTicket.id == ticket_id).options(
            joinedload(ServiceTicket.branch).joinedload(CustomerBranch.customer),
            joinedload(ServiceTicket.category),
            joinedload(ServiceTicket.subcategory),
            joinedload(ServiceTicket.assigned_technician),
            selectinload(ServiceTicket.photos),
            selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.parts),
            selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.photos),
        )
    ).unique().scalar_one_or_none()
    return access.require_read_ticket(user, ticket)


@dataclass
class TicketPage:
    ticket: ServiceTicket
    view: str  # STAFF | TECHNICIAN | STORE
    actions: access.TicketActions
    status_words: str
    priority_words: str
    events: list[TicketEvent]
    completion: ServiceCompletion | None
    earlier: list[ServiceCompletion]  # other submissions, newest first (rejected ones)
    photos: store_views.PhotoSet  # before; the current completion's after / during the work
    response: board.Countdown | None
    resolution: board.Countdown
    see_internal: bool
    now: datetime
    card: tech_workspace.QueueItem | None = None  # the technician's card (SLA, maps, actions)
    candidates: list = field(default_factory=list)  # staff: who the ticket can go to
    mine: bool = True  # technician: the ticket is assigned to them now
    pause: pauses.PauseState | None = None  # the resolution clock is paused: why, since when

    @property
    def staff(self) -> bool:
        return self.view == STAFF

    @property
    def arrival_distance(self) -> str:
        """"480 m" / "7.5 km" from the branch (the one distance format), or ""."""
        return timeline_text.distance_text(self.ticket.arrival_distance_m)

    @property
    def on_site(self) -> bool:
        """The technician is on site now (this visit; not once the store sent the work back)."""
        return self.ticket.status == TicketStatus.IN_PROGRESS and access.on_site(self.ticket)


def build(user, ticket: ServiceTicket) -> TicketPage:
    """The page of a ticket `user` may read (loaded by `load_ticket`)."""
    now = clock.now()
    view = view_of(user)
    completion = ticket.completion
    earlier = [c for c in reversed(ticket.completions) if completion is None or c.id != completion.id]
    response = None
    if ticket.first_response_at is not None or ticket.status in (TicketStatus.NEW, TicketStatus.ASSIGNED):
        response = board.response_countdown(ticket, now)
    page = TicketPage(
        ticket=ticket,
        view=view,
        actions=access.ticket_actions(user, ticket),
        status_words=store_views.plain_status(ticket) if view == STORE else str(STATUS_WORDS[ticket.status]),
        priority_words=str(ticket.priority.label),
        events=ticket_queries.timeline(user, ticket.id),
        completion=completion,
        earlier=earlier,
        photos=store_views.photo_set(ticket, completion),
        response=response,
        resolution=board.resolution_countdown(ticket, now),
        see_internal=access.can_see_internal_notes(user),
        now=now,
        pause=pauses.state(ticket, now, with_note=True),
    )
    if view == TECHNICIAN:
        page.card = tech_workspace.queue_item(user, ticket, now)
        page.mine = ticket.assigned_technician_id == user.technician_id
    if page.actions.assign:
        page.candidates = board.reassign_candidates(ticket)
    return page
