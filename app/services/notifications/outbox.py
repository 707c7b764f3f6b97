"""Writing the outbox in the business transaction (one kind for one ticket, or a sweep's
alerts in one statement), and queueing deliveries once it has committed.

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.models import (
    Role,
    ServiceTicket,
    TicketPriority,
)
from app.models.types import UTCDateTime
from app import clock
from app.i18n import LOCALES, default_locale, force_locale, user_locale
from app.transaction import on_commit

log = logging.getLogger(__name__)
from app.services.notifications.routing import (
    CREATOR, DISPATCHERS, IN_APP, PENDING, PREVIOUS_TECHNICIAN, ROUTES, SENT, SMS, STORE_MANAGERS, TECHNICIAN, TELEGRAM,
    Route,
)
from app.services.notifications.texts import digest_text, sms_text, ticket_link, ticket_text, title_text


def notify(kind: str, ticket: ServiceTicket, actor=None, **extra) -> int:
    """Write the outbox rows for one event (same transaction as the change): the same
    routing and fan-out as a sweep's alerts (`notify_many`, one `INSERT ... SELECT`), so
    who is told what, on which channel, is written once.

    In-app always; Telegram when the recipient linked a chat and kept it on; SMS when
    the recipient has a phone, kept it on, and the event is urgent (an escalation or
    overdue alert, or a CRITICAL ticket someone must act on). The delivery tasks are
    queued only after the transaction commits: a rollback sends nothing. Returns the
    number of outbox rows written."""
    db.session.flush()  # the ticket's row first: the outbox rows point to it
    if CREATOR in ROUTES[kind].recipients and actor is not None and getattr(actor, "role", None) == Role.STORE_MANAGER:
        extra = {**extra, "creator_id": actor.id}
    if getattr(actor, "id", None):
        extra = {**extra, "actor_id": actor.id}
    return notify_many([(kind, ticket, extra)], digests=False)


# Digests (SLA sweep). A backlog caught up at once (the worker was down, a branch's
# technicians all on leave) must not bury anyone under one message per ticket:
# - dispatchers: more than SLA_DIGEST_THRESHOLD alerts of one kind in one sweep become
#   ONE message for the kind (the count, the first ticket numbers, a link to the board
#   filtered to overdue tickets);
# - a technician: more than SLA_TECHNICIAN_DIGEST_THRESHOLD alerts of one kind for that
#   person in one sweep (escalated to them, escalated away from them, response due soon)
#   become ONE message for them, linking to their queue. Up to the thresholds every
#   alert goes out on its own (with its Accept/Decline buttons in Telegram).
_OUTBOX_COLUMNS = ("id, user_id, ticket_id, channel, kind, title, body, status, attempts, sent_at, "
                   "next_attempt_at, queued_at, created_at")
# Each alert's texts, once per language (title_en, title_ru, ...): NULL in a language
# nobody reads; the statement picks the recipient's (users.locale, else DEFAULT_LOCALE).
_TEXTS = ("title", "body", "sms")
_TEXT_FIELDS = tuple(f"{t}_{lang}" for t in _TEXTS for lang in LOCALES)
_ALERT_FIELDS = ("kind", "ticket_id", *_TEXT_FIELDS, "urgent", "tech", "prev", "disp", "branch", "mgr",
                 "creator", "actor")
_BOOL_FIELDS = ("urgent", "disp", "mgr")


def _in_reader_language(text: str, default: str) -> str:
    """SQL: the alert's `text` ("title", "body", "sms") in the recipient's language: their
    `locale`, else (none set, or a language nobody was thought to read when the texts were
    made) the `default` language's, which is always made."""
    cases = " ".join(f"WHEN '{lang}' THEN r.{text}_{lang}" for lang in LOCALES)
    return f"coalesce(CASE r.locale {cases} END, r.{text}_{default})"


def _outbox_insert_sql(dialect: str, returning: bool, default: str = "en") -> str:
    """ONE `INSERT ... SELECT`: the alerts (one parameter per field: arrays on PostgreSQL,
    one JSON array on SQLite) joined to their recipients (technician, previous
    technician, dispatchers, the branch's store managers; active users only, each user
    once per alert; the store manager who reported the ticket for "ticket_created") and to
    the channels each recipient gets; ids made by the database; each row's words in its
    recipient's language (`default`: DEFAULT_LOCALE). The one fan-out: `notify` for one
    event and the sweep for thousands both write through it."""
    assert default in LOCALES  # it is written into the SQL
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
    # Nobody hears of their own action (the creator's confirmation excepted).
    not_actor = "u.id <> coalesce(a.actor, '')"
    sql = f"""
WITH a AS ({alerts}),
r AS (
  SELECT a.*, u.id AS user_id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram, u.locale
    FROM a JOIN users u ON u.technician_id = a.tech AND u.is_active = {true}
   WHERE {not_actor}
  UNION ALL
  SELECT a.*, u.id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram, u.locale
    FROM a JOIN users u ON u.technician_id = a.prev AND {not_tech} AND u.is_active = {true}
   WHERE {not_actor}
  UNION ALL
  SELECT a.*, u.id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram, u.locale
    FROM a JOIN users u ON a.disp = {true} AND u.role = :dispatcher AND u.is_active = {true}
   WHERE {not_tech} AND {not_prev} AND {not_actor}
  UNION ALL
  SELECT a.*, u.id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram, u.locale
    FROM a JOIN user_branches ub ON a.mgr = {true} AND ub.branch_id = a.branch
           JOIN users u ON u.id = ub.user_id AND u.role = :manager AND u.is_active = {true}
   WHERE {not_tech} AND {not_prev} AND {not_actor}
  UNION ALL
  SELECT a.*, u.id, u.phone, u.notify_sms, u.telegram_chat_id, u.notify_telegram, u.locale
    FROM a JOIN users u ON u.id = a.creator AND u.is_active = {true}
   WHERE {not_tech} AND {not_prev} AND NOT (a.mgr = {true} AND u.role = :manager)
     AND NOT (a.disp = {true} AND u.role = :dispatcher)
),
c(channel) AS (VALUES (:in_app), (:telegram), (:sms))
INSERT INTO notifications ({_OUTBOX_COLUMNS})
SELECT {new_id_sql}, r.user_id, r.ticket_id, c.channel, r.kind, {_in_reader_language("title", default)},
       CASE WHEN c.channel = :sms THEN {_in_reader_language("sms", default)}
            ELSE {_in_reader_language("body", default)} END,
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


def _languages(default: str, *, ask: bool) -> set[str]:
    """The languages an alert's texts are made in: the default one (DEFAULT_LOCALE) and
    those people read. One event (`ask` off) is written in all three: cheaper than a
    question to the database. A sweep's batch, which may hold thousands of alerts, asks
    which languages the active users read (one small statement, whatever the batch
    size), so that nobody's texts are made two times too many."""
    if not ask:
        return set(LOCALES)
    stored = db.session.execute(
        text("SELECT DISTINCT locale FROM users WHERE is_active = :yes"), {"yes": True}
    ).scalars()
    return {default, *(user_locale(value) for value in stored)}


def notify_many(alerts: list[tuple[str, object, dict]], now: datetime | None = None, *,
                digests: bool = True) -> int:
    """`notify` for a batch of events (the SLA sweep): (kind, ticket-like view, extra)
    each, in ONE statement whatever the batch size: the text of each alert is made once
    per language here (the same `ticket_text`/`sms_text` as `notify`), and the database
    fans the alerts out to their recipients and channels (`INSERT ... SELECT`, ids made
    in SQL), each recipient getting the words in their own language (`_languages`).
    The views need what `ticket_text`/`sms_text` read (no ORM objects); `extra`'s
    "creator_id" names the reporting store manager for a route to the creator, and
    "actor_id" the person whose action it was, who is not told (the creator's
    confirmation excepted). Unless
    `digests` is off (`notify`: one event), more than SLA_DIGEST_THRESHOLD
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
    digested = {kind for kind, tickets in per_kind.items() if digests and len(tickets) > threshold}
    person_digested = {key for key, tickets in per_person.items() if digests and len(tickets) > person_threshold}
    fields: dict[str, list] = {f: [] for f in _ALERT_FIELDS}
    makers = []  # per alert: () -> (title, body, sms) in the language in force

    def add(make, **values):
        for f in _ALERT_FIELDS:
            if f not in _TEXT_FIELDS:
                fields[f].append(values.get(f))
        makers.append(make)

    def urgent_for(route: Route, tickets) -> bool:
        return route.urgent or (route.critical_sms and any(t.priority == TicketPriority.CRITICAL for t in tickets))

    def alert_texts(kind, ticket, extra, with_sms):
        def make():
            title = title_text(kind, ticket.ticket_number)
            return (title, ticket_text(kind, ticket, extra),
                    sms_text(title, ticket, ticket_link(ticket.id, kind)) if with_sms else None)
        return make

    def digest_texts(kind, tickets, part=DISPATCHERS):
        return lambda: digest_text(kind, [t.ticket_number for t in tickets], part=part)

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
        creator = extra.get("creator_id") if CREATOR in route.recipients else None
        if not (tech or prev or disp or mgr or creator):
            continue  # nobody to tell one by one: no text to make
        urgent = urgent_for(route, (ticket,))
        add(alert_texts(kind, ticket, extra, sms_on and urgent),
            kind=kind, ticket_id=ticket.id, urgent=urgent, tech=tech, prev=prev, disp=disp,
            branch=ticket.branch_id if mgr else None, mgr=mgr, creator=creator, actor=extra.get("actor_id"))
    for kind in sorted(digested):
        tickets = per_kind[kind]
        add(digest_texts(kind, tickets), kind=kind, ticket_id=None, urgent=urgent_for(ROUTES[kind], tickets),
            disp=True, mgr=False)
    for kind, part, technician_id in sorted(person_digested):
        tickets = per_person[(kind, part, technician_id)]
        add(digest_texts(kind, tickets, part), kind=kind, ticket_id=None, urgent=urgent_for(ROUTES[kind], tickets),
            disp=False, mgr=False, **{"tech" if part == TECHNICIAN else "prev": technician_id})
    if not makers:
        return 0
    default = default_locale()
    languages = _languages(default, ask=digests)
    for lang in LOCALES:
        if lang not in languages:
            for t in _TEXTS:
                fields[f"{t}_{lang}"] = [None] * len(makers)
            continue
        title_f, body_f, sms_f = (fields[f"{t}_{lang}"] for t in _TEXTS)
        with force_locale(lang):
            for make in makers:
                title, body, sms_body = make()
                title_f.append(title)
                body_f.append(body)
                sms_f.append(sms_body)
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
    result = db.session.execute(text(_outbox_insert_sql(dialect, returning, default)), params)
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


