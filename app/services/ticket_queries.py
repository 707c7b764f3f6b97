"""Read models for ticket lists: one query, scoped by the access rule."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    ServiceCompletion,
    ServiceTicket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from app import clock
from app.services import access, sla_clock, timeline_text
from app.services.errors import ValidationError
from app.services.validation import Fields


def parse_filters(args) -> dict:
    f = Fields(dict(args))
    out = {
        "status": f.choice("status", TicketStatus),
        "priority": f.choice("priority", TicketPriority),
        "branch_id": f.text("branchId", max_len=64),
        "technician_id": f.text("technicianId", max_len=64),
        "category_id": f.text("categoryId", max_len=64),
        "overdue": f.boolean("overdue", default=False),
        "q": f.text("q", max_len=200),
    }
    f.check("Invalid filter")
    return out


def filtered(stmt, filters: dict, now: datetime | None = None):
    now = now or clock.now()
    if filters.get("status"):
        stmt = stmt.where(ServiceTicket.status == filters["status"])
    if filters.get("priority"):
        stmt = stmt.where(ServiceTicket.priority == filters["priority"])
    if filters.get("branch_id"):
        stmt = stmt.where(ServiceTicket.branch_id == filters["branch_id"])
    if filters.get("technician_id"):
        stmt = stmt.where(ServiceTicket.assigned_technician_id == filters["technician_id"])
    if filters.get("category_id"):
        stmt = stmt.where(ServiceTicket.category_id == filters["category_id"])
    if filters.get("overdue"):
        stmt = stmt.where(sla_clock.sql_overdue(now))  # open, past the deadline it races
    q = filters.get("q")
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(
            ServiceTicket.ticket_number.ilike(like, escape="\\"),
            ServiceTicket.external_id.ilike(like, escape="\\"),
            ServiceTicket.description.ilike(like, escape="\\"),
        ))
    return stmt


def ticket_page(user, filters: dict, limit: int, cursor: dict | None):
    """Newest first, keyset-paginated on (createdAt, id)."""
    stmt = select(ServiceTicket).options(
        selectinload(ServiceTicket.branch),
        selectinload(ServiceTicket.category),
        selectinload(ServiceTicket.subcategory),
        selectinload(ServiceTicket.assigned_technician),
        selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.parts),
        selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.photos),
    )
    stmt = filtered(access.ticket_scope(user, stmt), filters)
    if cursor:
        try:
            at = datetime.fromisoformat(str(cursor["at"]))
            cid = str(cursor["id"])
            if at.tzinfo is None:
                raise ValueError("naive cursor time")
        except (KeyError, ValueError):
            raise ValidationError("Invalid cursor", {"cursor": "Invalid cursor."})
        stmt = stmt.where(or_(ServiceTicket.created_at < at,
                              and_(ServiceTicket.created_at == at, ServiceTicket.id < cid)))
    stmt = stmt.order_by(ServiceTicket.created_at.desc(), ServiceTicket.id.desc()).limit(limit + 1)
    rows = list(db.session.execute(stmt).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = {"at": rows[-1].created_at.isoformat(), "id": rows[-1].id} if more and rows else None
    return rows, next_cursor


def timeline(user, ticket_id: str, *, offset: int = 0, limit: int | None = None) -> list[TicketEvent]:
    """A ticket's events, oldest first, with their actors, as `user` may read them
    (access.timeline_scope: store managers never see internal notes). The one
    timeline query of the ticket page, its timeline partial and the API."""
    stmt = (select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
            .options(joinedload(TicketEvent.actor)).order_by(TicketEvent.at, TicketEvent.id))
    stmt = access.timeline_scope(user, stmt)
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    events = list(db.session.execute(stmt).scalars())
    due = None
    if any(e.kind == "sla_resolution_overdue" for e in events):
        due = db.session.execute(select(ServiceTicket.resolution_due_at)
                                 .where(ServiceTicket.id == ticket_id)).scalar()
    for e in events:  # the sentence a person reads (timeline_text), beside the raw event
        e.text = timeline_text.event_text(e.kind, e.data, due)
    return events


def event_page(user, ticket: ServiceTicket, limit: int, cursor: dict | None):
    """A ticket's timeline (`timeline`), oldest first, offset-paginated."""
    offset = 0
    if cursor:
        offset = cursor.get("offset", 0)
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 2**31:
            raise ValidationError("Invalid cursor", {"cursor": "Invalid cursor."})
    rows = timeline(user, ticket.id, offset=offset, limit=limit + 1)
    more = len(rows) > limit
    return rows[:limit], ({"offset": offset + limit} if more else None)
