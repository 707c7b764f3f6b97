"""Read models for ticket lists: one query, scoped by the access rule."""
from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, literal_column, or_, select
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
from app.models import ticket as ticket_model
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
    f.check(_("Invalid filter"))
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
        stmt = stmt.where(search_condition(q))
    return stmt


# --- search (docs/search.md) ----------------------------------------------------------

# What the trigram index of migration 0012 covers, on PostgreSQL: the three fields q
# matches, joined by a separator (U+001F) nobody types. A q without the separator that
# occurs in the joined text occurs within one field, so one condition over the joined
# text is the per-field match the API promises, and the planner answers it from the
# index. The text is the index's (models/ticket.py, migration 0012), or the planner ignores it.
SEARCH_SEPARATOR = "\x1f"
SEARCH_DOCUMENT = re.sub(r"\b(ticket_number|external_id|description)\b", r"service_tickets.\1",
                         ticket_model.SEARCH_DOCUMENT)  # qualified: the board's queries join branches
_TRIGRAM = re.compile(r"[^\W_]{3}")  # three letters or digits: pg_trgm's word characters


def _like_pattern(q: str) -> str:
    """A substring pattern with %, _ and \\ taken literally."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_condition(q: str):
    """Tickets whose number, external id or description contains `q`, in any case.

    PostgreSQL: one ILIKE over SEARCH_DOCUMENT, which the trigram index finds when q
    has three word characters in a row (pg_trgm has trigrams to look up); shorter
    queries match each field the same way without the index (a plan that stops at a
    page of newest tickets, where such common strings abound). SQLite: its LIKE for an
    ASCII q; otherwise each field folded by evercold_fold (Python's Unicode lower(),
    registered by app/sqlite.py; SQLite's own lower() and LIKE fold ASCII only), the
    same matches as PostgreSQL's ILIKE."""
    like = _like_pattern(q)
    columns = (ServiceTicket.ticket_number, ServiceTicket.external_id, ServiceTicket.description)
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        if q.isascii():  # SQLite's own LIKE folds ASCII, in C: 5-7x faster than a Python fold
            return or_(*(c.like(literal(like), escape="\\") for c in columns))
        folded = literal(like.lower())
        return or_(*(func.evercold_fold(c).like(folded, escape="\\") for c in columns))
    if dialect == "postgresql":
        # The pattern is written into the statement, not bound: each search is planned for
        # its own word (a rare one from the index, a common one by walking the newest
        # tickets until a page is full). A bound pattern makes psycopg prepare the statement
        # after 5 runs, and PostgreSQL may then keep one generic plan for every word.
        like = literal(like, literal_execute=True)
        if SEARCH_SEPARATOR not in q and _TRIGRAM.search(q):
            return literal_column(SEARCH_DOCUMENT).ilike(like, escape="\\")
    return or_(*(c.ilike(like, escape="\\") for c in columns))


def ticket_page(user, filters: dict, limit: int, cursor: dict | None):
    """Newest first, keyset-paginated on (createdAt, id)."""
    stmt = select(ServiceTicket).options(
        selectinload(ServiceTicket.branch),
        selectinload(ServiceTicket.category),
        selectinload(ServiceTicket.subcategory),
        selectinload(ServiceTicket.assigned_technician),
        selectinload(ServiceTicket.equipment),
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
            raise ValidationError(_("Invalid cursor"), {"cursor": _("Invalid cursor.")})
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
            raise ValidationError(_("Invalid cursor"), {"cursor": _("Invalid cursor.")})
    rows = timeline(user, ticket.id, offset=offset, limit=limit + 1)
    more = len(rows) > limit
    return rows[:limit], ({"offset": offset + limit} if more else None)
