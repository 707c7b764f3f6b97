"""The outbox: who hears what, written in the business transaction, and its delivery.

`notify()` only adds rows; nothing is sent from a request thread. In-app rows are
born "sent" (the bell and /notifications read them). Telegram and SMS rows are
pending; once the business transaction commits, one huey delivery task per row is
queued (app/jobs/notifications.py). The task claims its row (a conditional UPDATE
pending -> sending with a lease, so two workers never send the same row), sends
outside any transaction, then records the outcome: sent (with the channel's
message id), back to pending with a growing back-off (transient errors, 429's
retry_after honoured), or failed (permanent errors, shown to dispatchers). A
periodic relay re-queues rows whose task was lost (worker down, crash between
commit and enqueue) and probes a channel in back-off so that, once it answers
again, the backlog goes out within about two minutes.

While a channel is in back-off (its latest failure's retry is still ahead), other
messages on it are not sent one by one into the same failure: their claim holds them
back without any request, and only the failed message's own retry and the relay's
probe ask the channel; its first answer (success, or a refusal of that one message)
releases the rest. A send whose answer never came (read timeout) may still have been
delivered: it is tried once more, later, and then given up as "may have been
delivered" (docs/operations.md, "Notifications: at-least-once delivery").
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from app.extensions import db
from app.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    Role,
    ServiceTicket,
    TicketPriority,
    TicketStatus,
    User,
    user_branches,
)
from app.models.notification import TelegramLinkCode
from app.models.types import UTCDateTime, new_id
from app import clock
from app.services import access
from app.services.channels import SendResult, sms, telegram
from app.services.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationError
from app.transaction import on_commit

log = logging.getLogger(__name__)

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
    title: str
    urgent: bool = False  # SMS always (escalations, overdue alerts)
    critical_sms: bool = True  # SMS when the ticket is CRITICAL (events someone must act on)


# Who hears what. Documented in the README ("Who hears what"); keep the two in step.
ROUTES: dict[str, Route] = {
    "ticket_assigned": Route((TECHNICIAN,), "New ticket {number} assigned to you"),
    "ticket_created": Route((CREATOR,), "Ticket {number} received", critical_sms=False),
    "ticket_unassigned": Route((DISPATCHERS,), "Ticket {number} has no technician"),
    "ticket_escalated": Route((TECHNICIAN, PREVIOUS_TECHNICIAN, DISPATCHERS), "Ticket {number} escalated", urgent=True),
    "ticket_declined": Route((DISPATCHERS,), "Ticket {number} declined"),
    "ticket_completed": Route((STORE_MANAGERS,), "Ticket {number} is ready for your approval", critical_sms=False),
    "completion_approved": Route((TECHNICIAN, DISPATCHERS), "Work on {number} approved", critical_sms=False),
    "completion_rejected": Route((TECHNICIAN, DISPATCHERS), "Work on {number} rejected", critical_sms=False),
    "sla_response_warning": Route((TECHNICIAN,), "Ticket {number}: response due soon"),
    "sla_response_warning_new": Route((DISPATCHERS,), "Ticket {number}: unassigned, response due soon"),
    "sla_no_secondary": Route((DISPATCHERS,), "Ticket {number}: response overdue, no secondary technician", urgent=True),
    "sla_response_level2": Route((DISPATCHERS,), "Ticket {number}: still no response after escalation", urgent=True),
    "sla_new_overdue": Route((DISPATCHERS,), "Ticket {number}: unassigned past its response time", urgent=True),
    "sla_resolution_overdue": Route((DISPATCHERS,), "Ticket {number}: resolution overdue"),
}

# Telegram messages of these kinds to the ticket's current technician carry Accept/Decline.
ASSIGNMENT_KINDS = ("ticket_assigned", "ticket_escalated")
# In-app alert to dispatchers when a Telegram/SMS message fails for good (not routed by ROUTES).
DELIVERY_FAILED = "delivery_failed"

DESCRIPTION_MAX = 300
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


# --- writing the outbox ----------------------------------------------------------

def _recipients(kind: str, ticket: ServiceTicket, actor, extra: dict) -> list[User]:
    route = ROUTES[kind]
    tech_ids = []
    if TECHNICIAN in route.recipients and ticket.assigned_technician_id:
        tech_ids.append(ticket.assigned_technician_id)
    if PREVIOUS_TECHNICIAN in route.recipients and extra.get("previous_technician_id"):
        tech_ids.append(extra["previous_technician_id"])
    conditions = []
    if tech_ids:
        conditions.append(User.technician_id.in_(tech_ids))
    if DISPATCHERS in route.recipients:
        conditions.append(User.role == Role.DISPATCHER)
    if STORE_MANAGERS in route.recipients:
        conditions.append(
            User.id.in_(select(user_branches.c.user_id).where(user_branches.c.branch_id == ticket.branch_id))
            & (User.role == Role.STORE_MANAGER)
        )
    if CREATOR in route.recipients and actor is not None and getattr(actor, "role", None) == Role.STORE_MANAGER:
        conditions.append(User.id == actor.id)
    if not conditions:
        return []
    stmt = select(User).where(or_(*conditions), User.is_active_user.is_(True)).order_by(User.email)
    return list({u.id: u for u in db.session.execute(stmt).scalars()}.values())


def shorten(text: str | None, limit: int = DESCRIPTION_MAX) -> str:
    """At most `limit` characters, cut with an ellipsis."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _due(ticket: ServiceTicket) -> tuple[str, datetime]:
    from app.services.sla_clock import running_deadline

    phase, due_at = running_deadline(ticket)
    return ("Response due" if phase == "response" else "Resolution due"), due_at


def ticket_text(kind: str, ticket: ServiceTicket, extra: dict) -> str:
    """Plain-text body (in-app as is; Telegram escapes it for HTML)."""
    from app.services.timefmt import local_str

    due_label, due_at = _due(ticket)
    tz = current_app.config.get("APP_TIMEZONE", "UTC")
    lines = [
        f"Ticket: {ticket.ticket_number}",
        f"Branch: {ticket.branch.branch_code} {ticket.branch.branch_name}",
        f"Priority: {ticket.priority.value}",
        f"Problem: {ticket.subcategory.name}",
    ]
    if ticket.assigned_technician is not None and kind not in ("ticket_created", "ticket_completed"):
        lines.append(f"Technician: {ticket.assigned_technician.name}")
    lines.append(f"Description: {shorten(ticket.description)}")
    if extra.get("reason"):
        lines.append(f"Reason: {shorten(str(extra['reason']))}")
    lines.append(f"{due_label}: {local_str(due_at)} ({tz})")
    return "\n".join(lines)


def ticket_path(ticket_id: str | None, kind: str) -> str:
    if not ticket_id:
        return "/notifications"
    if kind == "ticket_completed":
        return f"/tickets/{ticket_id}/approve"
    return f"/tickets/{ticket_id}"


def open_path(user, ticket_id: str | None, kind: str) -> str:
    """Where opening an in-app notification leads: its ticket, or for a digest (no
    ticket) the list it summarises: the board's overdue tickets for a dispatcher, the
    queue for a technician."""
    if ticket_id:
        return ticket_path(ticket_id, kind)
    if user.role in (Role.DISPATCHER, Role.ADMIN):
        return BOARD_OVERDUE_PATH
    if user.role == Role.TECHNICIAN:
        return TECHNICIAN_QUEUE_PATH
    return "/notifications"


def ticket_link(ticket_id: str | None, kind: str) -> str:
    """Absolute link for messages that leave the app (APP_BASE_URL)."""
    return f"{current_app.config['APP_BASE_URL'].rstrip('/')}{ticket_path(ticket_id, kind)}"


def link_text(kind: str) -> str:
    return "Review and approve" if kind == "ticket_completed" else "Open ticket"


def sms_text(title: str, ticket: ServiceTicket, link: str) -> str:
    """One SMS segment where possible: the richest variant that fits wins."""
    from app.services.timefmt import local_str

    _, due_at = _due(ticket)
    due = local_str(due_at, "%d %b %H:%M")
    prio, code, name, sub = ticket.priority.value, ticket.branch.branch_code, ticket.branch.branch_name, ticket.subcategory.name
    return sms.fit([
        f"{title}. {prio}, {code} {name}: {sub}. Due {due}. {link}",
        f"{title}. {prio}, {code} {name}. Due {due}. {link}",
        f"{title}. {prio}, {code}. Due {due}. {link}",
        f"{title}. {prio}, {code} {name}: {sub}. Due {due}.",
        f"{title}. {prio}, {code}. Due {due}.",
    ])


def _row_values(kind: str, ticket, users: list[User], extra: dict, now: datetime) -> list[dict]:
    """The outbox rows of one event as plain column values, one per recipient and channel."""
    route = ROUTES[kind]
    title = route.title.format(number=ticket.ticket_number)
    body = ticket_text(kind, ticket, extra)
    cfg = current_app.config
    urgent = route.urgent or (route.critical_sms and ticket.priority == TicketPriority.CRITICAL)
    rows = []
    sms_body = None
    for user in users:
        channels = [IN_APP]
        if cfg.get("TELEGRAM_BOT_TOKEN") and user.telegram_chat_id and user.notify_telegram:
            channels.append(TELEGRAM)
        if cfg.get("SMS_GATEWAY_URL") and user.phone and user.notify_sms and urgent:
            channels.append(SMS)
        for channel in channels:
            if channel == SMS and sms_body is None:
                sms_body = sms_text(title, ticket, ticket_link(ticket.id, kind))
            later = channel != IN_APP
            rows.append({
                "id": new_id(), "user_id": user.id, "ticket_id": ticket.id, "channel": channel, "kind": kind,
                "title": title, "body": sms_body if channel == SMS else body,
                "status": PENDING if later else SENT, "attempts": 0,
                "sent_at": None if later else now,
                "next_attempt_at": now if later else None,
                "queued_at": now if later else None,  # queued right after commit
                "last_error": None, "last_attempt_at": None, "read_at": None, "external_id": None,
                "created_at": now,
            })
    return rows


def notify(kind: str, ticket: ServiceTicket, actor=None, **extra) -> list[Notification]:
    """Write the outbox rows for one event (same transaction as the change).

    In-app always; Telegram when the recipient linked a chat and kept it on; SMS when
    the recipient has a phone, kept it on, and the event is urgent (an escalation or
    overdue alert, or a CRITICAL ticket someone must act on). The delivery tasks are
    queued only after the transaction commits: a rollback sends nothing."""
    now = clock.now()
    rows = [Notification(**values) for values in
            _row_values(kind, ticket, _recipients(kind, ticket, actor, extra), extra, now)]
    db.session.add_all(rows)
    enqueue_after_commit([r.id for r in rows if r.status == PENDING])
    return rows


# Digests (SLA sweep). A backlog caught up at once (the worker was down, a branch's
# technicians all on leave) must not bury anyone under one message per ticket:
# - dispatchers: more than SLA_DIGEST_THRESHOLD alerts of one kind in one sweep become
#   ONE message for the kind (the count, the first ticket numbers, a link to the board
#   filtered to overdue tickets);
# - a technician: more than SLA_TECHNICIAN_DIGEST_THRESHOLD alerts of one kind for that
#   person in one sweep (escalated to them, escalated away from them, response due soon)
#   become ONE message for them, linking to their queue. Up to the thresholds every
#   alert goes out on its own (with its Accept/Decline buttons in Telegram).
DIGEST_TITLES = {
    "ticket_escalated": "{count} tickets escalated",
    "sla_no_secondary": "{count} tickets: response overdue, no secondary technician",
    "sla_response_level2": "{count} tickets: still no response after escalation",
    "sla_new_overdue": "{count} tickets: unassigned past their response time",
    "sla_resolution_overdue": "{count} tickets: resolution overdue",
    "sla_response_warning_new": "{count} tickets: unassigned, response due soon",
}
# A technician's digest, by (kind, the technician's part in the alert).
PERSON_DIGEST_TITLES = {
    ("ticket_escalated", TECHNICIAN): "{count} tickets escalated to you",
    ("ticket_escalated", PREVIOUS_TECHNICIAN): "{count} of your tickets escalated to another technician",
    ("sla_response_warning", TECHNICIAN): "{count} tickets: response due soon",
}
DIGEST_LISTED = 20  # ticket numbers named in a digest
BOARD_OVERDUE_PATH = "/dispatcher/tickets?overdue=true"
TECHNICIAN_QUEUE_PATH = "/tech/dashboard"


def digest_text(kind: str, numbers: list[str], *, part: str = DISPATCHERS) -> tuple[str, str, str]:
    """(title, body, sms text) of a digest for `numbers` of one kind: the dispatchers'
    (`part` DISPATCHERS, linking to the board's overdue filter) or a technician's
    (`part` TECHNICIAN / PREVIOUS_TECHNICIAN, linking to their queue)."""
    count = len(numbers)
    if part == DISPATCHERS:
        template, path, where = DIGEST_TITLES.get(kind, "{count} alerts: " + kind), BOARD_OVERDUE_PATH, \
            "Overdue tickets on the board"
    else:
        template, path, where = PERSON_DIGEST_TITLES.get((kind, part), "{count} alerts: " + kind), \
            TECHNICIAN_QUEUE_PATH, "Your queue"
    title = template.format(count=f"{count:,}")
    link = f"{current_app.config['APP_BASE_URL'].rstrip('/')}{path}"
    listed = ", ".join(numbers[:DIGEST_LISTED])
    more = count - min(count, DIGEST_LISTED)
    lines = [f"{title} in one SLA sweep.", f"Tickets: {listed}" + (f" and {more:,} more." if more else ".")]
    lines.append(f"{where}: {link}")
    return title, "\n".join(lines), sms.fit([f"{title}. {link}", f"{title}."])


_OUTBOX_COLUMNS = ("id, user_id, ticket_id, channel, kind, title, body, status, attempts, sent_at, "
                   "next_attempt_at, queued_at, created_at")
_ALERT_FIELDS = ("kind", "ticket_id", "title", "body", "sms_body", "urgent", "tech", "prev", "disp", "branch", "mgr")
_BOOL_FIELDS = ("urgent", "disp", "mgr")


def _outbox_insert_sql(dialect: str, returning: bool) -> str:
    """ONE `INSERT ... SELECT`: the alerts (one parameter per field: arrays on PostgreSQL,
    one JSON array on SQLite) joined to their recipients (technician, previous
    technician, dispatchers, the branch's store managers; active users only, each user
    once per alert) and to the channels each recipient gets; ids made by the database."""
    if dialect == "postgresql":
        types = {f: "BOOLEAN" if f in _BOOL_FIELDS else "TEXT" for f in _ALERT_FIELDS}
        alerts = ("SELECT * FROM unnest(" + ", ".join(f"CAST(:{f} AS {types[f]}[])" for f in _ALERT_FIELDS)
                  + ") AS v(" + ", ".join(_ALERT_FIELDS) + ")")
        new_id_sql = "replace(CAST(gen_random_uuid() AS TEXT), '-', '')"
        true, now = "true", "CAST(:now AS TIMESTAMP)"
    else:
        alerts = ("SELECT " + ", ".join(f"json_extract(j.value, '$[{i}]') AS {f}" for i, f in enumerate(_ALERT_FIELDS))
                  + " FROM json_each(:alerts) AS j")
        new_id_sql = "lower(hex(randomblob(16)))"
        true, now = "1", ":now"
    # Each user once per alert: the technician's row wins over "previous" and "dispatchers".
    not_tech = "(u.technician_id IS NULL OR u.technician_id <> coalesce(a.tech, ''))"
    not_prev = "(u.technician_id IS NULL OR u.technician_id <> coalesce(a.prev, ''))"
    sql = f"""
WITH a AS ({alerts}),
r AS (
  SELECT a.*, u.id AS user_id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram
    FROM a JOIN users u ON u.technician_id = a.tech AND u.is_active = {true}
  UNION ALL
  SELECT a.*, u.id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram
    FROM a JOIN users u ON u.technician_id = a.prev AND {not_tech} AND u.is_active = {true}
  UNION ALL
  SELECT a.*, u.id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram
    FROM a JOIN users u ON a.disp = {true} AND u.role = :dispatcher AND u.is_active = {true}
   WHERE {not_tech} AND {not_prev}
  UNION ALL
  SELECT a.*, u.id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram
    FROM a JOIN user_branches ub ON a.mgr = {true} AND ub.branch_id = a.branch
           JOIN users u ON u.id = ub.user_id AND u.role = :manager AND u.is_active = {true}
   WHERE {not_tech} AND {not_prev}
),
c(channel) AS (VALUES (:in_app), (:telegram), (:sms))
INSERT INTO notifications ({_OUTBOX_COLUMNS})
SELECT {new_id_sql}, r.user_id, r.ticket_id, c.channel, r.kind, r.title,
       CASE WHEN c.channel = :sms THEN r.sms_body ELSE r.body END,
       CASE WHEN c.channel = :in_app THEN :sent ELSE :pending END, 0,
       CASE WHEN c.channel = :in_app THEN {now} END,
       CASE WHEN c.channel <> :in_app THEN {now} END,
       CASE WHEN c.channel <> :in_app THEN {now} END,
       {now}
  FROM r JOIN c ON c.channel = :in_app
    OR (c.channel = :telegram AND :telegram_on = {true} AND coalesce(r.telegram_chat_id, '') <> ''
        AND r.notify_telegram = {true})
    OR (c.channel = :sms AND :sms_on = {true} AND coalesce(r.phone, '') <> '' AND r.notify_sms = {true}
        AND r.urgent = {true})"""
    # INSERT first, the CTEs inside its SELECT (both backends read it so).
    head, _, rest = sql.partition(f"INSERT INTO notifications ({_OUTBOX_COLUMNS})")
    sql = f"INSERT INTO notifications ({_OUTBOX_COLUMNS})\n{head.strip()}\n{rest}"
    return sql + ("\nRETURNING id, status" if returning else "")


def notify_many(alerts: list[tuple[str, object, dict]], now: datetime | None = None) -> int:
    """`notify` for a batch of events (the SLA sweep): (kind, ticket-like view, extra)
    each, in ONE statement whatever the batch size: the text of each alert is made once
    here (the same `ticket_text`/`sms_text` as `notify`), and the database fans the
    alerts out to their recipients and channels (`INSERT ... SELECT`, ids made in SQL).
    The views need what `ticket_text`/`sms_text` read (no ORM objects); the "creator"
    recipient needs an actor and is not routed here. More than SLA_DIGEST_THRESHOLD
    alerts of one kind for the dispatchers become one digest per kind for them, more
    than SLA_TECHNICIAN_DIGEST_THRESHOLD for one technician one digest for that
    technician (see `digest_text`); no text is made for an alert nobody gets on its
    own. Returns the number of outbox rows written."""
    if not alerts:
        return 0
    now = now or clock.now()
    cfg = current_app.config
    threshold = int(cfg.get("SLA_DIGEST_THRESHOLD", 50))
    person_threshold = int(cfg.get("SLA_TECHNICIAN_DIGEST_THRESHOLD", 3))
    sms_on = bool(cfg.get("SMS_GATEWAY_URL"))
    per_kind: dict[str, list] = {}
    per_person: dict[tuple[str, str, str], list] = {}  # (kind, part, technician id) -> tickets
    for kind, ticket, extra in alerts:
        recipients = ROUTES[kind].recipients
        if DISPATCHERS in recipients:
            per_kind.setdefault(kind, []).append(ticket)
        if TECHNICIAN in recipients and ticket.assigned_technician_id:
            per_person.setdefault((kind, TECHNICIAN, ticket.assigned_technician_id), []).append(ticket)
        previous = (extra or {}).get("previous_technician_id")
        if PREVIOUS_TECHNICIAN in recipients and previous:
            per_person.setdefault((kind, PREVIOUS_TECHNICIAN, previous), []).append(ticket)
    digested = {kind for kind, tickets in per_kind.items() if len(tickets) > threshold}
    person_digested = {key for key, tickets in per_person.items() if len(tickets) > person_threshold}
    fields: dict[str, list] = {f: [] for f in _ALERT_FIELDS}

    def add(**values):
        for f in _ALERT_FIELDS:
            fields[f].append(values.get(f))

    def urgent_for(route: Route, tickets) -> bool:
        return route.urgent or (route.critical_sms and any(t.priority == TicketPriority.CRITICAL for t in tickets))

    for kind, ticket, extra in alerts:
        extra = extra or {}
        route = ROUTES[kind]
        tech = ticket.assigned_technician_id if TECHNICIAN in route.recipients else None
        if tech and (kind, TECHNICIAN, tech) in person_digested:
            tech = None
        prev = extra.get("previous_technician_id") if PREVIOUS_TECHNICIAN in route.recipients else None
        if prev and (kind, PREVIOUS_TECHNICIAN, prev) in person_digested:
            prev = None
        disp = DISPATCHERS in route.recipients and kind not in digested
        mgr = STORE_MANAGERS in route.recipients
        if not (tech or prev or disp or mgr):
            continue  # nobody to tell one by one: no text to make
        urgent = urgent_for(route, (ticket,))
        title = route.title.format(number=ticket.ticket_number)
        add(kind=kind, ticket_id=ticket.id, title=title, body=ticket_text(kind, ticket, extra),
            sms_body=sms_text(title, ticket, ticket_link(ticket.id, kind)) if sms_on and urgent else None,
            urgent=urgent, tech=tech, prev=prev, disp=disp, branch=ticket.branch_id if mgr else None, mgr=mgr)
    for kind in sorted(digested):
        tickets = per_kind[kind]
        title, body, sms_body = digest_text(kind, [t.ticket_number for t in tickets])
        add(kind=kind, ticket_id=None, title=title, body=body, sms_body=sms_body,
            urgent=urgent_for(ROUTES[kind], tickets), disp=True, mgr=False)
    for kind, part, technician_id in sorted(person_digested):
        tickets = per_person[(kind, part, technician_id)]
        title, body, sms_body = digest_text(kind, [t.ticket_number for t in tickets], part=part)
        add(kind=kind, ticket_id=None, title=title, body=body, sms_body=sms_body,
            urgent=urgent_for(ROUTES[kind], tickets), disp=False, mgr=False,
            **{"tech" if part == TECHNICIAN else "prev": technician_id})
    if not fields["kind"]:
        return 0
    dialect = db.session.get_bind().dialect.name
    returning = sms_on or bool(cfg.get("TELEGRAM_BOT_TOKEN"))  # pending rows only then
    params = {
        "now": UTCDateTime().process_bind_param(now, None), "dispatcher": Role.DISPATCHER.value,
        "manager": Role.STORE_MANAGER.value, "in_app": IN_APP.value, "telegram": TELEGRAM.value, "sms": SMS.value,
        "sent": SENT.value, "pending": PENDING.value, "telegram_on": bool(cfg.get("TELEGRAM_BOT_TOKEN")),
        "sms_on": sms_on,
    }
    if dialect == "postgresql":
        params.update(fields)
    else:
        params["alerts"] = json.dumps(list(zip(*(fields[f] for f in _ALERT_FIELDS))), separators=(",", ":"))
        params["now"] = params["now"].strftime("%Y-%m-%d %H:%M:%S.%f")
    result = db.session.execute(text(_outbox_insert_sql(dialect, returning)), params)
    if returning:
        rows = result.all()
        enqueue_after_commit([rid for rid, status in rows if status == PENDING.value])
        return len(rows)
    return result.rowcount


# --- queueing after commit ---------------------------------------------------------

# The job layer tells us how to queue one delivery (app/tasks.py registers
# app.jobs.notifications.deliver_notification at start): this module never imports it.
_deliver = None


def set_delivery_queue(deliver) -> None:
    """Register `deliver(notification_id, probe)`, which queues one delivery task."""
    global _deliver
    _deliver = deliver


def enqueue_now(ids: list[str], *, probe: bool = False) -> None:
    """Put one delivery task per row on the queue. Never raises: a row whose task
    could not be queued is picked up by the relay."""
    if not ids:
        return
    if _deliver is None:
        log.error("no delivery queue registered; the relay will queue %d notification(s)", len(ids))
        return
    for notification_id in ids:
        try:
            _deliver(notification_id, probe)
        except Exception:  # noqa: BLE001  (the queue may be down; the outbox row is safe)
            log.exception("could not queue delivery of notification %s", notification_id)


def enqueue_after_commit(ids: list[str]) -> None:
    """Queue delivery once the surrounding transaction has committed (app.transaction)."""
    if not ids:
        return
    ids = list(ids)
    on_commit(lambda: enqueue_now(ids))


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
        if (row.kind in ASSIGNMENT_KINDS and ticket is not None and user.technician_id
                and ticket.assigned_technician_id == user.technician_id and ticket.status == TicketStatus.ASSIGNED):
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
    channel = "Telegram" if row.channel == TELEGRAM else "SMS"
    if uncertain:
        title = f"{channel} message to {user.name} may not have arrived"
        body = (f"“{row.title}” was sent by {channel}, which never confirmed it: {error.rstrip('.')}. "
                f"Please check with {user.name} another way.")
    else:
        title = f"{channel} message to {user.name} failed"
        body = (f"“{row.title}” could not be delivered by {channel}: {error.rstrip('.')}. "
                f"Please reach {user.name} another way.")
    body += f" Ticket: {ticket.ticket_number}." if ticket else ""
    for dispatcher in db.session.execute(
        select(User).where(User.role == Role.DISPATCHER, User.is_active_user.is_(True))
    ).scalars():
        db.session.add(Notification(
            id=new_id(), user_id=dispatcher.id, ticket_id=row.ticket_id, channel=IN_APP, kind=DELIVERY_FAILED,
            title=title[:300], body=body, status=SENT, attempts=0, sent_at=now, created_at=now,
        ))


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
        raise ValidationError("Invalid cursor", {"cursor": "Invalid cursor."})


def list_in_app(user, *, unread_only: bool = False, limit: int = 50,
                cursor: dict | None = None) -> tuple[list[Notification], dict | None]:
    """The user's own in-app notifications, newest first, keyset-paginated:
    (rows, cursor for the next page or None)."""
    stmt = select(Notification).where(Notification.user_id == user.id, Notification.channel == IN_APP)
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
        raise NotFound("Notification not found")
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
        raise NotFound("Notification not found")
    if row.status != FAILED:
        raise InvalidTransition("Only a failed message can be retried")
    now = clock.now()
    row.status = PENDING
    row.next_attempt_at = now
    row.queued_at = now
    row.created_at = now  # a fresh day before giving up again
    db.session.flush()
    enqueue_after_commit([row.id])
    return row


# --- Telegram: linking and the buttons ---------------------------------------------

def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def start_telegram_link(user) -> str:
    """A fresh one-time code for https://t.me/<bot>?start=<code> (older unused codes die)."""
    db.session.execute(
        TelegramLinkCode.__table__.delete().where(TelegramLinkCode.user_id == user.id,
                                                  TelegramLinkCode.used_at.is_(None))
    )
    code = secrets.token_urlsafe(24)
    now = clock.now()
    db.session.add(TelegramLinkCode(user_id=user.id, code_hash=_code_hash(code), created_at=now,
                                    expires_at=now + LINK_CODE_TTL))
    db.session.flush()
    return code


def telegram_deep_link(code: str) -> str | None:
    bot = (current_app.config.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@")
    return f"https://t.me/{bot}?start={code}" if bot else None


def link_code_valid(user, code: str | None) -> bool:
    if not code or len(code) > 64:
        return False
    return db.session.execute(
        select(TelegramLinkCode.id).where(
            TelegramLinkCode.user_id == user.id, TelegramLinkCode.code_hash == _code_hash(code),
            TelegramLinkCode.used_at.is_(None), TelegramLinkCode.expires_at > clock.now(),
        )
    ).first() is not None


def link_telegram_chat(code: str, chat_id: str) -> User | None:
    """`/start <code>` from a private chat: store the chat id on the code's user. The code
    works once and only before it expires (None otherwise). A chat belongs to one user:
    a chat another user holds raises Conflict, and nothing changes (the code stays
    usable, e.g. from the user's own chat)."""
    if not isinstance(code, str) or not code or len(code) > 64 or not chat_id:
        return None
    now = clock.now()
    row = db.session.execute(
        select(TelegramLinkCode).where(TelegramLinkCode.code_hash == _code_hash(code))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if _chat_held_by_other(chat_id, user.id):
        raise Conflict("This Telegram chat is linked to another Evercold account")
    try:
        with db.session.begin_nested():
            used = db.session.execute(
                update(TelegramLinkCode).where(
                    TelegramLinkCode.id == row.id, TelegramLinkCode.used_at.is_(None),
                    TelegramLinkCode.expires_at > now,
                ).values(used_at=now).execution_options(synchronize_session=False)
            ).rowcount
            if used == 1:
                user.telegram_chat_id = chat_id
                user.notify_telegram = True
                db.session.flush()
    except IntegrityError:  # another user linked the same chat at the same moment
        raise Conflict("This Telegram chat is linked to another Evercold account")
    return user if used == 1 else None


def _chat_held_by_other(chat_id: str, user_id: str) -> bool:
    return db.session.execute(
        select(User.id).where(User.telegram_chat_id == chat_id, User.id != user_id).limit(1)
    ).first() is not None


def unlink_telegram(user) -> None:
    """Forget the user's chat; Telegram messages not yet sent are cancelled at claim time."""
    user.telegram_chat_id = None
    db.session.flush()


def user_for_chat(chat_id: str) -> User | None:
    """The one active user linked to this chat. An unknown chat, a chat of a deactivated
    user, or a chat that matches several users (the database forbids it; refused anyway)
    has none: nothing runs for it."""
    if not chat_id:
        return None
    found = list(db.session.execute(
        select(User).where(User.telegram_chat_id == chat_id).limit(2)
    ).scalars())
    if len(found) != 1 or not found[0].is_active:
        return None
    return found[0]


@dataclass(frozen=True)
class ButtonOutcome:
    answer: str  # the short text of answerCallbackQuery
    footer: str | None = None  # appended to the message when it is edited (plain text)
    edit: bool = False  # edit the message (the buttons go away)


def press_button(from_chat_id: str, data: str, message_chat_id: str | None = None) -> ButtonOutcome:
    """Accept / Decline pressed in Telegram: the same services, access rules and status
    machine as the pages, run as the one user linked to the presser's chat. Our buttons
    are only ever sent to private chats: a press seen in any other chat runs nothing."""
    from app.services import tickets as ticket_service

    parsed = telegram.parse_callback_data(data)
    if parsed is None:
        return ButtonOutcome("This button is not recognised.")
    action, ticket_id = parsed
    if message_chat_id is not None and message_chat_id != from_chat_id:
        return ButtonOutcome("This button only works in your own chat with the bot; nothing was changed.")
    user = user_for_chat(from_chat_id)
    if user is None:
        return ButtonOutcome("This Telegram account is not linked to Evercold. Link it from your profile page.")
    try:
        ticket = ticket_service.get_ticket(ticket_id, for_update=True)
    except NotFound:
        return ButtonOutcome("This ticket no longer exists.", "This ticket no longer exists.", edit=True)
    if user.role != Role.TECHNICIAN or not access.can_read_ticket(user, ticket):
        return ButtonOutcome("This button is not for you; nothing was changed.")
    if ticket.assigned_technician_id != user.technician_id:
        note = "This ticket has been reassigned to another technician. Nothing to do, thank you."
        return ButtonOutcome(note, note, edit=True)
    if ticket.status != TicketStatus.ASSIGNED:
        note = ("You have already accepted this ticket." if ticket.status == TicketStatus.IN_PROGRESS
                else f"This ticket is no longer waiting for an answer (it is {ticket.status.value}).")
        return ButtonOutcome(note, note, edit=True)
    try:
        with db.session.begin_nested():
            if action == telegram.ACCEPT:
                ticket_service.accept(ticket, user)
            else:
                ticket_service.decline(ticket, "Declined from Telegram", user)
    except (InvalidTransition, Forbidden, ValidationError) as exc:
        return ButtonOutcome(f"Nothing was changed: {exc.message}", f"Nothing was changed: {exc.message}", edit=True)
    from app.services.timefmt import local_str

    when = local_str(clock.now(), "%d %b %H:%M")
    if action == telegram.ACCEPT:
        return ButtonOutcome("Accepted. The ticket is yours.", f"✅ Accepted by you at {when}.", edit=True)
    return ButtonOutcome("Declined. The dispatchers have been told.",
                         f"✖ Declined at {when}. The dispatchers have been told.", edit=True)


def edited_message_html(user_chat_id: str, message_id, fallback_text: str, footer: str) -> str:
    """The message as it was sent (re-rendered from its outbox row, without buttons)
    plus the outcome; the callback's own text when the row is gone."""
    row = db.session.execute(
        select(Notification).join(User, User.id == Notification.user_id).where(
            Notification.channel == TELEGRAM, Notification.external_id == str(message_id),
            User.telegram_chat_id == user_chat_id,
        ).order_by(Notification.created_at.desc()).limit(1)
    ).scalar_one_or_none()
    footer_html = f"<i>{telegram.esc(footer)}</i>"
    if row is not None:
        return telegram.render(row.title, row.body, ticket_link(row.ticket_id, row.kind), link_text(row.kind),
                               footer_html)
    return f"{telegram.esc(fallback_text)}\n\n{footer_html}"
