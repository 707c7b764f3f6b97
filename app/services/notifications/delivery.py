"""Delivering the outbox over Telegram and SMS: claim, send, record, back-off, the relay.

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select, true, update
from sqlalchemy.orm import aliased, joinedload

from app.extensions import db
from app.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    Role,
    ServiceTicket,
    TicketStatus,
    User,
)
from app.models.types import new_id
from app import clock
from app.i18n import force_locale, user_locale
from app.services.channels import SendResult, sms, telegram

log = logging.getLogger(__name__)
from app.services.notifications.routing import ASSIGNMENT_KINDS, CANCELLED, DELIVERY_FAILED, FAILED, IN_APP, PENDING, SENDING, SENT, SMS, TELEGRAM
from app.services.notifications.texts import link_text, ticket_link


LEASE = timedelta(seconds=90)  # a claim outlives the HTTP timeouts (3 s + 10 s by default) with room to spare
REQUEUE_AFTER = timedelta(seconds=60)  # a queued row still pending this long after it was due: task lost
PROBE_EVERY = timedelta(seconds=50)  # at most one early "is it back?" try per channel per relay tick
GIVE_UP_AFTER = timedelta(hours=24)  # a day-old alert is noise: fail it (dispatchers see it)
BACKOFF_FIRST = 5
BACKOFF_MAX = 300
# A send that got no answer (read timeout, connection dropped after sending) may have
# been delivered: its one more try waits at least this long, and a second such send ends
# the message as "may have been delivered" instead of sending it a third time.
UNCERTAIN_RETRY = timedelta(seconds=60)
MAY_HAVE_ARRIVED = "may have been delivered"  # in last_error: an earlier send may have arrived
EARLIER_MAY_HAVE_ARRIVED = "An earlier try may have been delivered."
WAITING = "Not sent yet:"  # last_error of a message held back while its channel is in back-off
RELAY_BATCH = 500
LINK_CODE_TTL = timedelta(minutes=30)
FAILED_LIST_DAYS = 7


def backoff(attempts: int) -> timedelta:
    """Delay after the n-th failed attempt: 5 s, 10 s, 20 s ... capped at 5 minutes."""
    return timedelta(seconds=min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1)))


# --- delivery (called by the worker's tasks; each step is its own transaction) ----

@dataclass(frozen=True)
class Delivery:
    """Everything one send needs, as plain values (no ORM objects leave the transaction)."""

    notification_id: str
    attempt: int
    channel: NotificationChannel
    address: str  # Telegram chat id or phone number
    text: str  # HTML for Telegram, plain for SMS
    reply_markup: dict | None = None
    uncertain_before: bool = False  # an earlier send got no answer: it may have been delivered


def _finish(notification_id: str, status: NotificationStatus, error: str) -> None:
    db.session.execute(
        update(Notification).where(Notification.id == notification_id)
        .values(status=status, last_error=error, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )


_THIS_ROW = aliased(Notification, name="this_row")  # built once: SQLAlchemy caches the statement


def channel_backoff(notification_id: str, now: datetime) -> tuple[NotificationChannel, datetime] | None:
    """(channel, end of its back-off) when the channel of this row is in back-off, else None.

    A channel is in back-off when another message on it failed transiently (timeout,
    5xx, 429, unreachable ...) and its retry is still ahead: a pending row with a real
    error (not a "not sent yet" hold) and next_attempt_at in the future. The latest such
    failure (by its attempt time) says until when.

    The state is read from the outbox table itself, not kept anywhere else (no new
    column, so no migration; nothing in huey's key-value store): the table already holds
    every attempt's outcome, written in the same transaction as the outcome, seen alike
    by every worker and web process whatever the queue backend (SQLite, Redis, tests'
    immediate mode), and it survives a flushed queue. A copy in huey's store could
    disagree with the outbox (one write committed, the other not) and would need its
    own clearing; here the channel's first answer clears it by itself: `_release_channel`
    makes every waiting row due at once, so no pending row is left with a future retry. The query
    walks the (status, next_attempt_at) index over pending rows still to be retried."""
    row = db.session.execute(
        select(Notification.channel, Notification.next_attempt_at).where(
            Notification.channel == select(_THIS_ROW.channel).where(_THIS_ROW.id == notification_id).scalar_subquery(),
            Notification.status == PENDING,
            Notification.next_attempt_at > now,
            Notification.last_error.is_not(None),
            ~Notification.last_error.like(f"{WAITING}%"),
            Notification.id != notification_id,
        ).order_by(Notification.last_attempt_at.desc()).limit(1)
    ).first()
    return (row.channel, row.next_attempt_at) if row else None


def _channel_name(channel: NotificationChannel) -> str:
    return "Telegram" if channel == TELEGRAM else "The SMS gateway"


def _hold_back(notification_id: str, claimable, channel: NotificationChannel, until: datetime,
               now: datetime) -> bool:
    """Keep a due message waiting, without a request, until its channel's back-off ends
    (or a success releases it sooner). Its attempts and last try stay as they are; the
    relay re-queues it if nothing has released it a minute after `until`. A message past
    GIVE_UP_AFTER is not held: its claim fails it as usual."""
    note = (f"{WAITING} {_channel_name(channel)} did not answer another message, so this one waits "
            f"until it answers again.")
    result = db.session.execute(
        update(Notification).where(
            Notification.id == notification_id, Notification.channel != IN_APP, claimable,
            Notification.created_at >= now - GIVE_UP_AFTER,
        ).values(
            status=PENDING, next_attempt_at=until, queued_at=until,
            # An earlier try that may have arrived is not forgotten (it caps the tries).
            last_error=case((Notification.last_error.like(f"%{MAY_HAVE_ARRIVED}%"),
                             f"{note} {EARLIER_MAY_HAVE_ARRIVED}"), else_=note),
        ).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def claim_delivery(notification_id: str, probe: bool = False) -> Delivery | None:
    """Claim a due row for one send: pending (due, or any time for a probe) or sending
    with an expired lease (its worker died) -> sending, lease, attempts + 1. Returns
    None when someone else holds it, it is not due, or it is done; also when its channel
    is in back-off (see `channel_backoff`): the row then waits for it without a request,
    and only the relay's probe (`probe=True`) and the failed message's own retry try."""
    now = clock.now()
    due = or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)
    claimable = or_(
        and_(Notification.status == PENDING, true() if probe else due),
        and_(Notification.status == SENDING, due),
    )
    if not probe:
        backoff_state = channel_backoff(notification_id, now)
        if backoff_state is not None and _hold_back(notification_id, claimable, *backoff_state, now):
            return None
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.channel != IN_APP, claimable)
        .values(status=SENDING, next_attempt_at=now + LEASE, attempts=Notification.attempts + 1,
                last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    row = db.session.execute(
        select(Notification).where(Notification.id == notification_id)
        .options(joinedload(Notification.user), joinedload(Notification.ticket))
        .execution_options(populate_existing=True)
    ).scalar_one()
    user = row.user
    uncertain_before = MAY_HAVE_ARRIVED in (row.last_error or "")
    if row.created_at < now - GIVE_UP_AFTER:
        _finish(row.id, FAILED, f"Gave up after {GIVE_UP_AFTER.total_seconds() / 3600:.0f} hours: {row.last_error or ''}".strip())
        _alert_dispatchers(row, "gave up")
        return None
    if not user.is_active:
        _finish(row.id, CANCELLED, "The recipient's account is deactivated")
        return None
    if row.channel == TELEGRAM:
        if not telegram.configured():
            _finish(row.id, CANCELLED, "Telegram is not configured on this server")
            return None
        if not (user.telegram_chat_id and user.notify_telegram):
            _finish(row.id, CANCELLED, "The recipient turned Telegram off or unlinked it")
            return None
        markup = None
        ticket = row.ticket
        with force_locale(user_locale(user.locale)):  # the words of our own (title, body: stored so)
            if (row.kind in ASSIGNMENT_KINDS and ticket is not None and user.technician_id
                    and ticket.assigned_technician_id == user.technician_id
                    and ticket.status == TicketStatus.ASSIGNED):
                markup = telegram.assignment_keyboard(ticket.id)
            text = telegram.render(row.title, row.body, ticket_link(row.ticket_id, row.kind), link_text(row.kind))
        return Delivery(row.id, row.attempts, row.channel, user.telegram_chat_id, text, markup, uncertain_before)
    if not sms.configured():
        _finish(row.id, CANCELLED, "SMS is not configured on this server")
        return None
    if not (user.phone and user.notify_sms):
        _finish(row.id, CANCELLED, "The recipient turned SMS off or has no phone")
        return None
    return Delivery(row.id, row.attempts, row.channel, user.phone, row.body, None, uncertain_before)


def send(delivery: Delivery) -> SendResult:
    """The one HTTP request of a delivery (no database work here)."""
    if delivery.channel == TELEGRAM:
        return telegram.send_message(delivery.address, delivery.text, delivery.reply_markup)
    return sms.send(delivery.address, delivery.text, idempotency_key=delivery.notification_id)


def send_and_record(delivery: Delivery) -> tuple[list[str], float | None]:
    """The HTTP send, then its outcome recorded straight away (see `record_delivery`).

    Called in one app context by the worker: no transaction is open during the request
    (the session starts one at the record's first statement), and nothing but the
    record stands between the answer and its commit, so a worker dying in between (the
    message would be sent again after the lease) has as small a window as it can."""
    result = send(delivery)
    if not result.ok:
        log.info("notification %s attempt %s failed: %s", delivery.notification_id, delivery.attempt, result.error)
    return record_delivery(delivery, result)


def record_delivery(delivery: Delivery, result: SendResult) -> tuple[list[str], float | None]:
    """Store the outcome of a claimed send. Returns (rows to queue now, seconds until
    this row's retry or None). Only the claim that sent may record (attempt number).

    A send with no answer (`result.uncertain`: read timeout, connection dropped after
    sending) may have been delivered: the first one is retried once, after at least
    UNCERTAIN_RETRY; the second ends the message as failed, "may have been delivered",
    and dispatchers are told so. Whether an earlier send was such a one is kept in
    last_error (MAY_HAVE_ARRIVED), also through later failures and holds."""
    now = clock.now()
    mine = update(Notification).where(
        Notification.id == delivery.notification_id,
        Notification.status == SENDING,
        Notification.attempts == delivery.attempt,
    ).execution_options(synchronize_session=False)
    earlier = delivery.uncertain_before
    if result.ok:
        done = db.session.execute(mine.values(
            status=SENT, sent_at=now, external_id=result.external_id, next_attempt_at=None,
            last_error=(f"Sent. {EARLIER_MAY_HAVE_ARRIVED} The person may have received it twice."
                        if earlier else None),
        )).rowcount
        # The channel answers again: whatever waits in back-off on it goes now.
        return (_release_channel(delivery.channel, now) if done else []), None
    error = (result.error or "error")[:1000]
    if result.permanent:
        if earlier:
            error = f"{error}. {EARLIER_MAY_HAVE_ARRIVED}"
        done = db.session.execute(mine.values(status=FAILED, last_error=error, next_attempt_at=None)).rowcount
        if done:
            row = db.session.get(Notification, delivery.notification_id)
            _alert_dispatchers(row, error, uncertain=earlier)
        # The channel answered (it refused this one message): the others need not wait.
        return (_release_channel(delivery.channel, now) if done else []), None
    if result.uncertain and earlier:
        error = f"{error}, for the second time. The message {MAY_HAVE_ARRIVED}, so it is not sent again."
        done = db.session.execute(mine.values(status=FAILED, last_error=error, next_attempt_at=None)).rowcount
        if done:
            row = db.session.get(Notification, delivery.notification_id)
            _alert_dispatchers(row, error, uncertain=True)
        return [], None
    if result.uncertain:
        delay = max(backoff(delivery.attempt), UNCERTAIN_RETRY)
        error = f"{error}. The message {MAY_HAVE_ARRIVED}; it is tried once more in about {delay.total_seconds():g} s."
    elif result.retry_after is not None:
        error = f"{error} (retry after {result.retry_after:g} s)"
        delay = timedelta(seconds=max(1.0, result.retry_after))
    else:
        delay = backoff(delivery.attempt)
    if earlier and not result.uncertain:
        error = f"{error}. {EARLIER_MAY_HAVE_ARRIVED}"
    next_at = now + delay
    db.session.execute(mine.values(status=PENDING, last_error=error, next_attempt_at=next_at, queued_at=next_at))
    return [], delay.total_seconds()


def _release_channel(channel: NotificationChannel, now: datetime) -> list[str]:
    """The channel answered (a success, or a refusal of one message): every message
    waiting on it in back-off goes now (also those
    held back whose hold just ended, and which nothing has queued yet); not those a 429
    asked to wait."""
    ids = list(db.session.execute(
        select(Notification.id).where(
            Notification.channel == channel, Notification.status == PENDING,
            or_(Notification.next_attempt_at > now, Notification.last_error.like(f"{WAITING}%")),
            or_(Notification.last_error.is_(None), ~Notification.last_error.like("429%")),
        ).order_by(Notification.next_attempt_at).limit(RELAY_BATCH)
    ).scalars())
    if ids:
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids), Notification.status == PENDING)
            .values(next_attempt_at=now, queued_at=now).execution_options(synchronize_session=False)
        )
    return ids


def relay_due() -> tuple[list[str], list[str]]:
    """The periodic relay: (rows to queue, rows to probe with).

    Queues rows that are due but whose task seems lost: never queued, queued over a
    minute ago and still pending, or claimed by a worker whose lease ran out. Then, per
    channel in back-off with nothing due and no try in the last PROBE_EVERY (and not
    rate-limited), picks the row due soonest as a probe (one never sent without an
    answer first): if it goes through, the rest of the channel's backlog is released
    at once. Messages held back while the channel is in back-off (`claim_delivery`)
    ask nothing of the channel: this probe and the failed message's own retry do."""
    now = clock.now()
    stale = now - REQUEUE_AFTER
    due_ids = list(db.session.execute(
        select(Notification.id).where(
            Notification.status.in_([PENDING, SENDING]),
            Notification.next_attempt_at <= now,
            or_(Notification.status == SENDING, Notification.queued_at.is_(None), Notification.queued_at <= stale),
        ).order_by(Notification.next_attempt_at).limit(RELAY_BATCH)
    ).scalars())
    if due_ids:
        db.session.execute(
            update(Notification).where(Notification.id.in_(due_ids)).values(queued_at=now)
            .execution_options(synchronize_session=False)
        )
    probes = []
    for channel in (TELEGRAM, SMS):
        last_try, limited, due_now = db.session.execute(
            select(
                func.max(Notification.last_attempt_at),
                func.coalesce(func.sum(case((and_(Notification.last_error.like("429%"),
                                                  Notification.next_attempt_at > now), 1), else_=0)), 0),
                func.coalesce(func.sum(case((Notification.next_attempt_at <= now, 1), else_=0)), 0),
            ).where(Notification.channel == channel, Notification.status.in_([PENDING, SENDING]))
        ).one()
        if limited or due_now or (last_try is not None and last_try > now - PROBE_EVERY):
            continue
        probe = db.session.execute(
            select(Notification.id).where(
                Notification.channel == channel, Notification.status == PENDING, Notification.next_attempt_at > now,
            ).order_by(
                # A message whose earlier send may have arrived keeps its one more try for
                # its own retry: probe with one that certainly has not arrived, if any.
                case((Notification.last_error.like(f"%{MAY_HAVE_ARRIVED}%"), 1), else_=0),
                Notification.next_attempt_at,
            ).limit(1)
        ).scalar_one_or_none()
        if probe:
            db.session.execute(update(Notification).where(Notification.id == probe).values(queued_at=now)
                               .execution_options(synchronize_session=False))
            probes.append(probe)
    return due_ids, probes


def _alert_dispatchers(row: Notification, error: str, uncertain: bool = False) -> None:
    """A message that will never arrive is told to dispatchers in-app, once per ticket
    and day, so someone can phone the person instead. `uncertain`: it was sent but never
    confirmed, so it may or may not have arrived."""
    if row is None or row.ticket_id is None:
        return
    now = clock.now()
    already = db.session.execute(
        select(Notification.id).where(
            Notification.ticket_id == row.ticket_id, Notification.kind == DELIVERY_FAILED,
            Notification.created_at > now - timedelta(hours=24),
        ).limit(1)
    ).first()
    if already:
        return
    user = db.session.get(User, row.user_id)
    ticket = db.session.get(ServiceTicket, row.ticket_id)
    for dispatcher in db.session.execute(
        select(User).where(User.role == Role.DISPATCHER, User.is_active_user.is_(True))
    ).scalars():
        with force_locale(user_locale(dispatcher.locale)):  # each in their own language
            title, body = _failed_text(row, user, ticket, error, uncertain)
        db.session.add(Notification(
            id=new_id(), user_id=dispatcher.id, ticket_id=row.ticket_id, channel=IN_APP, kind=DELIVERY_FAILED,
            title=title[:300], body=body, status=SENT, attempts=0, sent_at=now, created_at=now,
        ))


def _failed_text(row: Notification, user: User, ticket: ServiceTicket | None, error: str,
                 uncertain: bool) -> tuple[str, str]:
    """(title, body) of a dispatcher's "message failed" alert, in the language in force.
    The failed message's title is quoted as it was sent, and the channel's error as it
    answered (both are records, in the words they had)."""
    channel = "Telegram" if row.channel == TELEGRAM else "SMS"
    words = {"channel": channel, "name": user.name, "title": row.title, "error": error.rstrip(".")}
    if uncertain:
        title = _("%(channel)s message to %(name)s may not have arrived", **words)
        body = _("“%(title)s” was sent by %(channel)s, which never confirmed it: %(error)s. "
                 "Please check with %(name)s another way.", **words)
    else:
        title = _("%(channel)s message to %(name)s failed", **words)
        body = _("“%(title)s” could not be delivered by %(channel)s: %(error)s. "
                 "Please reach %(name)s another way.", **words)
    if ticket is not None:
        body = _("%(text)s Ticket: %(number)s.", text=body, number=ticket.ticket_number)
    return title, body
