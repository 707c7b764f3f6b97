"""/notifications as an inbox: one line per item, grouped by ticket (the group with the
latest item first), relative times, stale items of a technician taken off a ticket.

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app import clock
from app.extensions import db
from app.models import Notification, ServiceTicket
from app.services.notifications.inbox import parse_cursor
from app.services.notifications.routing import IN_APP, STALE_WHEN_TAKEN_OFF

GROUPS_PER_PAGE = 15  # tickets (or digests) per page
ITEMS_SHOWN = 3  # at most this many unread items shown in a group; the rest fold away

# What happened, in a few plain words: the line of an item in its ticket's group (the
# group names the ticket), in the reader's language. A kind not listed shows its title
# (written in the reader's language when it was sent).
LINES = {
    "ticket_assigned": _l("Assigned to you"),
    "ticket_unassigned": _l("No technician available"),
    "ticket_escalated": _l("Escalated: response overdue"),
    "ticket_declined": _l("Declined by the technician"),
    "ticket_completed": _l("Ready for your approval"),
    "completion_approved": _l("Work approved"),
    "completion_rejected": _l("Work rejected"),
    "ticket_taken_off": _l("Given to someone else"),
    "sla_response_warning": _l("Response due soon"),
    "sla_response_warning_new": _l("No technician yet, response due soon"),
    "sla_no_secondary": _l("Response overdue, no secondary technician"),
    "sla_response_level2": _l("Still no response after escalation"),
    "sla_new_overdue": _l("No technician, past its response time"),
    "sla_resolution_overdue": _l("Resolution overdue"),
    "ticket_paused": _l("Repair paused"),
    "sla_pause_long": _l("Paused for too long"),
}
ICONS = {  # a glyph per kind (in the fonts phones and desktops have)
    "ticket_assigned": "✚", "ticket_created": "✔", "ticket_unassigned": "⚠", "ticket_escalated": "⇧",
    "ticket_declined": "↩", "ticket_completed": "✍", "completion_approved": "✔", "completion_rejected": "✖",
    "ticket_taken_off": "⊘", "delivery_failed": "⚠",
}
DEFAULT_ICON = "⌛"  # the SLA alerts


def ago(at: datetime, now: datetime) -> str:
    """"just now", "5 min ago", "3 h ago", "yesterday 14:05", else the local date; in the
    reader's language."""
    from app.services.timefmt import local_str, to_local

    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return _("%(minutes)s min ago", minutes=seconds // 60)
    local, today = to_local(at), to_local(now)
    if seconds < 12 * 3600 or local.date() == today.date():
        return _("%(hours)s h ago", hours=seconds // 3600)
    if (today.date() - local.date()).days == 1:
        return _("yesterday %(time)s", time=local_str(at, "time"))
    return local_str(at, "day" if local.year == today.year else "date")


@dataclass
class Item:
    row: Notification
    line: str
    icon: str
    ago: str
    exact: str
    stale: bool = False
    settled: str | None = None  # "Approved" / "Sent back": an approval request decided since

    @property
    def id(self):
        return self.row.id

    @property
    def unread(self) -> bool:
        return self.row.read_at is None


@dataclass
class Group:
    key: str
    ticket: ServiceTicket | None
    total: int
    unread: int
    items: list[Item] = field(default_factory=list)
    status_words: str = ""  # the ticket's status now, in words ("Closed", "Sent back to the technician")

    @property
    def shown(self) -> list[Item]:
        """The group's unread items (up to ITEMS_SHOWN), else its latest: one line per
        ticket once it is all read, as an inbox shows a thread."""
        fresh = [i for i in self.items[:ITEMS_SHOWN] if i.unread]
        return fresh or self.items[:1]

    @property
    def folded(self) -> list[Item]:
        shown = {i.id for i in self.shown}
        return [i for i in self.items if i.id not in shown]


def is_stale(user, row: Notification, ticket: ServiceTicket | None) -> bool:
    """An "assigned to you" / escalation item of a technician no longer on its ticket."""
    return (row.kind in STALE_WHEN_TAKEN_OFF and ticket is not None and bool(user.technician_id)
            and ticket.assigned_technician_id != user.technician_id)


# An approval request once its completion was decided: settled, in the decision's words.
SETTLED_WORDS = {"APPROVED": _l("Approved"), "REJECTED": _l("Sent back")}


def settled_of(row: Notification, ticket: ServiceTicket | None) -> str | None:
    """A "ready for your approval" item whose completion has been decided since (or whose
    ticket closed): the decision in words; else None (still waiting)."""
    from app.models import ApprovalStatus, TicketStatus

    if row.kind != "ticket_completed" or ticket is None:
        return None
    asked = [c for c in ticket.completions if c.completed_at <= row.created_at] or list(ticket.completions)
    completion = asked[-1] if asked else None
    if completion is not None and completion.approval_status != ApprovalStatus.PENDING:
        return str(SETTLED_WORDS.get(completion.approval_status.value, _l("Decided")))
    if ticket.status == TicketStatus.CLOSED:
        return _("Ticket closed")
    return None


def status_words(user, ticket: ServiceTicket | None) -> str:
    """The ticket's status now, as the reader would say it: the store manager's words
    (store_views.plain_status) for a store manager, the office's for everyone else."""
    from app.models import ApprovalStatus, Role, TicketStatus
    from app.services.store_views import plain_status

    if ticket is None:
        return ""
    if getattr(user, "role", None) == Role.STORE_MANAGER:
        return plain_status(ticket)
    completion = ticket.completion
    if ticket.status == TicketStatus.NEW:
        return _("Waiting for a technician")
    if ticket.status == TicketStatus.ASSIGNED:
        return _("Assigned, not yet accepted")
    if ticket.status == TicketStatus.IN_PROGRESS:
        if completion is not None and completion.approval_status == ApprovalStatus.REJECTED:
            return _("Sent back to the technician")
        return _("In progress")
    if ticket.status == TicketStatus.COMPLETED:
        if completion is not None and completion.approval_status == ApprovalStatus.PENDING:
            return _("Waiting for the store's approval")
        return _("Work finished")
    return _("Closed")


def line_of(row: Notification) -> str:
    first = row.body.split("\n", 1)[0]
    if row.kind == "ticket_created":
        return first  # the confirmation: who was assigned, by when
    if row.kind == "ticket_declined" and first.endswith((".", "!", "?", "…")):
        return first  # who declined, why, who has it now (older items began "Ticket: <number>")
    return str(LINES.get(row.kind, row.title)) if row.ticket_id else row.title


def item_view(user, row: Notification, ticket: ServiceTicket | None, now: datetime) -> Item:
    from app.services.timefmt import zoned

    icon = ICONS.get(row.kind, DEFAULT_ICON)
    exact = zoned(row.created_at)
    return Item(row=row, line=line_of(row), icon=icon, ago=ago(row.created_at, now), exact=exact,
                stale=is_stale(user, row, ticket), settled=settled_of(row, ticket))


def inbox_groups(user, *, unread_only: bool = False, cursor: dict | None = None,
                 groups: int = GROUPS_PER_PAGE, ticket_id: str | None = None) -> tuple[list[Group], dict | None]:
    """A page of the user's inbox: `groups` tickets (a digest is a group of its own), the
    one with the latest item first, each with its items newest first; and the cursor of
    the next page (None on the last); `ticket_id`: that ticket's group alone. Three
    queries (and the tickets' completions) whatever the page holds."""
    key = func.coalesce(Notification.ticket_id, Notification.id)
    latest = func.max(Notification.created_at)
    mine = [Notification.user_id == user.id, Notification.channel == IN_APP]
    if unread_only:
        mine.append(Notification.read_at.is_(None))
    if ticket_id is not None:
        mine.append(or_(Notification.ticket_id == ticket_id,
                        and_(Notification.ticket_id.is_(None), Notification.id == ticket_id)))
    stmt = (select(key.label("key"), latest.label("latest"), func.count().label("total"),
                   func.count(Notification.read_at).label("read"))
            .where(*mine).group_by(key))
    after = parse_cursor(cursor)
    if after:
        at, k = after
        stmt = stmt.having(or_(latest < at, and_(latest == at, key < k)))
    heads = db.session.execute(stmt.order_by(latest.desc(), key.desc()).limit(groups + 1)).all()
    more = len(heads) > groups
    heads = heads[:groups]
    if not heads:
        return [], None
    keys = [h.key for h in heads]
    rows = db.session.execute(
        select(Notification).where(*mine, or_(Notification.ticket_id.in_(keys),
                                              and_(Notification.ticket_id.is_(None), Notification.id.in_(keys))))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    ).scalars().all()
    tickets = {t.id: t for t in db.session.execute(
        select(ServiceTicket).where(ServiceTicket.id.in_(keys))
        .options(joinedload(ServiceTicket.branch), joinedload(ServiceTicket.subcategory),
                 selectinload(ServiceTicket.completions))
    ).unique().scalars()}
    by_key = {h.key: Group(key=h.key, ticket=tickets.get(h.key), total=h.total, unread=h.total - h.read,
                           status_words=status_words(user, tickets.get(h.key)))
              for h in heads}
    now = clock.now()
    for row in rows:
        group = by_key.get(row.ticket_id or row.id)
        if group is not None:
            group.items.append(item_view(user, row, group.ticket, now))
    last = heads[-1]
    next_cursor = {"t": last.latest.isoformat(), "id": last.key} if more else None
    return [by_key[k] for k in keys], next_cursor
