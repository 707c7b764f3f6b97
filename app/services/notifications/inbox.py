"""In-app notifications: the bell, /notifications, the API, failed deliveries.

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Notification,
    ServiceTicket,
)
from app import clock
from app.services import access
from app.services.errors import InvalidTransition, NotFound, ValidationError

from app.services.notifications.delivery import FAILED_LIST_DAYS
from app.services.notifications.outbox import enqueue_after_commit
from app.services.notifications.routing import FAILED, IN_APP, PENDING


# --- in-app: bell, /notifications, API -------------------------------------------

def unread_count(user) -> int:
    """The bell's number: one indexed COUNT."""
    return db.session.execute(
        select(func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.channel == IN_APP, Notification.read_at.is_(None),
        )
    ).scalar_one()


def parse_cursor(cursor: dict | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at = datetime.fromisoformat(str(cursor["t"]))
        nid = str(cursor["id"])
        if at.tzinfo is None or len(nid) > 64:
            raise ValueError
        return at, nid
    except (KeyError, ValueError, TypeError):
        raise ValidationError(_("Invalid cursor"), {"cursor": _("Invalid cursor.")})


def list_in_app(user, *, unread_only: bool = False, limit: int = 50,
                cursor: dict | None = None) -> tuple[list[Notification], dict | None]:
    """The user's own in-app notifications, newest first, keyset-paginated:
    (rows, cursor for the next page or None); each row's ticket number and assignee
    come in the same query."""
    stmt = (select(Notification).where(Notification.user_id == user.id, Notification.channel == IN_APP)
            .options(joinedload(Notification.ticket).load_only(ServiceTicket.ticket_number,
                                                               ServiceTicket.assigned_technician_id)))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    after = parse_cursor(cursor)
    if after:
        at, nid = after
        stmt = stmt.where(or_(Notification.created_at < at, and_(Notification.created_at == at, Notification.id < nid)))
    rows = list(db.session.execute(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
    ).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = {"t": rows[-1].created_at.isoformat(), "id": rows[-1].id} if more else None
    return rows, next_cursor


def get_own(user, notification_id) -> Notification:
    row = db.session.get(Notification, notification_id) if isinstance(notification_id, str) and len(notification_id) <= 64 else None
    if row is None or row.user_id != user.id or row.channel != IN_APP:
        raise NotFound(_("Notification not found"))
    return row


def mark_read(user, notification_id: str) -> Notification:
    """Mark one of the user's own in-app notifications read (again is harmless)."""
    row = get_own(user, notification_id)
    if row.read_at is None:
        row.read_at = clock.now()
        db.session.flush()
    return row


def mark_all_read(user) -> int:
    """Mark every unread in-app notification of the user read; returns how many."""
    result = db.session.execute(
        update(Notification).where(
            Notification.user_id == user.id, Notification.channel == IN_APP, Notification.read_at.is_(None),
        ).values(read_at=clock.now()).execution_options(synchronize_session=False)
    )
    return result.rowcount


def failed_deliveries(actor, limit: int = 50) -> list[Notification]:
    """Telegram/SMS messages that failed for good in the last week (staff only)."""
    access.require_staff(actor)
    since = clock.now() - timedelta(days=FAILED_LIST_DAYS)
    return list(db.session.execute(
        select(Notification).where(Notification.status == FAILED, Notification.created_at >= since)
        .options(joinedload(Notification.user), joinedload(Notification.ticket))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ).scalars())


def retry_failed(actor, notification_id: str) -> Notification:
    """Staff put a failed message back in the queue (e.g. the user unblocked the bot)."""
    access.require_staff(actor)
    row = db.session.get(Notification, notification_id) if isinstance(notification_id, str) and len(notification_id) <= 64 else None
    if row is None or row.channel == IN_APP:
        raise NotFound(_("Notification not found"))
    if row.status != FAILED:
        raise InvalidTransition(_("Only a failed message can be retried"))
    now = clock.now()
    row.status = PENDING
    row.next_attempt_at = now
    row.queued_at = now
    row.created_at = now  # a fresh day before giving up again
    db.session.flush()
    enqueue_after_commit([row.id])
    return row




def mark_ticket_read(user, ticket_id: str) -> int:
    """Mark the user's unread in-app items about one ticket read (a group's "Mark read")."""
    access.require_id(ticket_id, _("Notification not found"))
    return _mark_read_where(Notification.ticket_id == ticket_id, Notification.user_id == user.id)


def _mark_read_where(*where) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.channel == IN_APP, Notification.read_at.is_(None), *where)
        .values(read_at=clock.now()).execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- items the user has since acted on, or whose ticket closed -------------------------

# Alerts that a technician now holding the ticket answers, for every dispatcher.
RESOLVED_BY_ASSIGNMENT = ("ticket_unassigned", "ticket_declined", "sla_new_overdue", "sla_response_warning_new")


def acted_on(ticket, actor, event: str | None = None) -> int:
    """Called with every fact recorded on a ticket (tickets.record_event), in the same
    transaction: the actor's unread items about the ticket are read ("ready for your
    approval" once they approved, "assigned to you" once they accepted or declined);
    a closed ticket's items are read for everybody; once someone gives the ticket a
    technician, the "no technician" alerts about it are read for every dispatcher. What
    is notified after the fact (the approval to the technician, say) is new, and stays
    unread."""
    from app.models import TicketStatus

    if getattr(ticket, "status", None) == TicketStatus.CLOSED:
        return _mark_read_where(Notification.ticket_id == ticket.id)
    done = 0
    if event in ("assigned", "reassigned") and getattr(actor, "id", None):
        done += _mark_read_where(Notification.ticket_id == ticket.id, Notification.kind.in_(RESOLVED_BY_ASSIGNMENT))
    if getattr(actor, "id", None):
        done += _mark_read_where(Notification.ticket_id == ticket.id, Notification.user_id == actor.id)
    return done


def taken_off(ticket, previous_technician_id: str | None, actor) -> int:
    """A technician taken off a ticket (reassigned to someone else): their items about it
    are read (the old "assigned to you" shows as stale, see inbox_view), and they are
    told, in-app and on Telegram ("ticket_taken_off"). Same transaction as the change."""
    from app.models import User
    from app.services.notifications.outbox import notify

    if not previous_technician_id or previous_technician_id == ticket.assigned_technician_id:
        return 0
    _mark_read_where(Notification.ticket_id == ticket.id,
                     Notification.user_id.in_(select(User.id).where(User.technician_id == previous_technician_id)))
    return notify("ticket_taken_off", ticket, actor, previous_technician_id=previous_technician_id)
