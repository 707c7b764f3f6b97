"""SLA: due times from the subcategory and priority, breach rules, and the escalation
sweep.

Due times are stored on the ticket at creation (and on a priority change), so later
edits of a subcategory's minutes apply to new tickets only.

The sweep (`escalate_overdue`) runs every minute in the worker, from `flask sla
escalate` and from the cron endpoint. It is set-based: one SELECT finds every ticket
that needs something, then one batched statement per kind of change writes it, so a
sweep costs the same handful of statements for 10 tickets or 100,000. It is safe to run
twice at once: on PostgreSQL the SELECT locks the rows it takes (`FOR UPDATE SKIP
LOCKED`, a concurrent sweep skips them), on SQLite the CLI/worker/cron transaction
holds the write lock from BEGIN; and every UPDATE repeats its condition (`WHERE
escalation_level = 0 ...`) so a ticket is never escalated or alerted twice. The
caller commits once: a sweep that fails half-way leaves every ticket untouched.
The rows that follow the changes are made by the database, not built row by row here:
the events (`INSERT ... SELECT` with ids and JSON data made in SQL), the new
assignees, and the outbox (notifications.notify_many: one text per alert, fanned out
to recipients and channels in SQL; a big backlog reaches dispatchers as one digest).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import Float, String, and_, any_, bindparam, case, cast, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    CustomerBranch,
    IssueSubcategory,
    ServiceTicket,
    Technician,
    TechnicianBranchAssignment,
    TechnicianStatus,
    TicketAssignee,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from app.models.types import UTCDateTime
from app.services import bulk, clock

log = logging.getLogger(__name__)


def due_times(subcategory: IssueSubcategory, priority: TicketPriority, created_at: datetime) -> tuple[datetime, datetime]:
    """(responseDueAt, resolutionDueAt) = createdAt + the subcategory's minutes for the priority."""
    return (
        created_at + timedelta(minutes=subcategory.response_minutes(priority)),
        created_at + timedelta(minutes=subcategory.resolution_minutes(priority)),
    )


def response_breached(ticket: ServiceTicket, now: datetime | None = None) -> bool:
    """Met when the technician accepted by responseDueAt; breached once it passes unmet."""
    now = now or clock.now()
    if ticket.first_response_at is not None:
        return ticket.first_response_at > ticket.response_due_at
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        return ticket.closed_at > ticket.response_due_at
    return now > ticket.response_due_at


def resolution_breached(ticket: ServiceTicket, now: datetime | None = None) -> bool:
    """Met when the completion finally approved was submitted by resolutionDueAt."""
    now = now or clock.now()
    if ticket.status in (TicketStatus.COMPLETED, TicketStatus.CLOSED) and ticket.completed_at is not None:
        return ticket.completed_at > ticket.resolution_due_at
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        return ticket.closed_at > ticket.resolution_due_at
    return now > ticket.resolution_due_at


# --- the sweep ----------------------------------------------------------------------

# Why a ticket with an overdue response could not go to the secondary (event data and
# the dispatchers' alert).
NO_SECONDARY_REASONS = {
    "none": "The branch has no secondary technician",
    "same_technician": "The secondary technician is the one already assigned",
    TechnicianStatus.ON_LEAVE.value: "The secondary technician is on leave",
    TechnicianStatus.INACTIVE.value: "The secondary technician is inactive",
}


@dataclass
class SweepResult:
    """What one sweep did. `alerts` counts the alerts raised (one per ticket and kind,
    whatever the number of recipients), escalation notices included."""

    escalated: list[str] = field(default_factory=list)  # ticket numbers now with the secondary
    no_secondary: list[str] = field(default_factory=list)
    level2: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    new_overdue: list[str] = field(default_factory=list)
    resolution_overdue: list[str] = field(default_factory=list)
    alerts: int = 0

    def summary(self) -> dict:
        """The CLI's JSON: {escalatedCount, escalated, alerts}."""
        return {"escalatedCount": len(self.escalated), "escalated": list(self.escalated), "alerts": self.alerts}


_T = ServiceTicket.__table__
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SQLITE_JULIAN_EPOCH_MS = 210866760000000  # julianday('1970-01-01') * 86,400,000


def _epoch_ms(col, dialect: str):
    """A stored (naive UTC) timestamp as whole milliseconds since 1970, in SQL: the
    warning and level-2 rules compare durations between two columns of the same row."""
    if dialect == "postgresql":
        return func.floor(func.extract("epoch", col) * 1000)
    # SQLite keeps julian days as integer milliseconds internally: round() recovers them.
    return func.round(func.julianday(col) * 86400000.0) - _SQLITE_JULIAN_EPOCH_MS


def _id_in(col, ids: list[str], dialect: str):
    """`col IN ids` with the whole set in ONE parameter (an array on PostgreSQL, a JSON
    array on SQLite), so the statement is the same for 10 ids or 100,000."""
    if dialect == "postgresql":
        return col == any_(bindparam(None, list(ids), type_=ARRAY(String)))
    values = func.json_each(bindparam(None, json.dumps(list(ids)), type_=String)).table_valued("value")
    return col.in_(select(values.c.value))


def _pairs(rows: list[tuple[str, str]], dialect: str):
    """A derived table (ticket_id, technician_id) from one parameter per column."""
    if dialect == "postgresql":
        return func.unnest(
            bindparam(None, [r[0] for r in rows], type_=ARRAY(String)),
            bindparam(None, [r[1] for r in rows], type_=ARRAY(String)),
        ).table_valued("ticket_id", "technician_id").render_derived(name="v")
    values = func.json_each(bindparam(None, json.dumps(rows), type_=String)).table_valued("value")
    return select(
        func.json_extract(values.c.value, "$[0]").label("ticket_id"),
        func.json_extract(values.c.value, "$[1]").label("technician_id"),
    ).subquery("v")


def _rules(now: datetime, dialect: str, fraction: float) -> dict:
    """Each rule as a SQL condition on the ticket row (and its current secondary)."""
    now_ms = (now - _EPOCH) // timedelta(milliseconds=1)
    created, due = _epoch_ms(_T.c.created_at, dialect), _epoch_ms(_T.c.response_due_at, dialect)
    window = due - created
    unanswered = _T.c.first_response_at.is_(None)
    return {
        # Three quarters (SLA_WARNING_FRACTION) of the response window gone, not yet due.
        "warn": and_(
            _T.c.status.in_([TicketStatus.NEW, TicketStatus.ASSIGNED]), unanswered,
            _T.c.escalation_level == 0, _T.c.response_warned_at.is_(None), _T.c.response_due_at >= now,
            cast(literal(now_ms) - created, Float) >= cast(window, Float) * fraction,
        ),
        # Past responseDueAt, still ASSIGNED and unanswered: to the secondary (level 1).
        "escalate": and_(
            _T.c.status == TicketStatus.ASSIGNED, unanswered, _T.c.escalation_level == 0,
            _T.c.response_due_at < now,
        ),
        # Level 1 and still unanswered one more response window after the escalation.
        "level2": and_(
            _T.c.status == TicketStatus.ASSIGNED, unanswered, _T.c.escalation_level == 1,
            _T.c.escalated_at.is_not(None),
            literal(now_ms) - _epoch_ms(_T.c.escalated_at, dialect) > window,
        ),
        # Nobody has it and it is past responseDueAt: tell the dispatchers once.
        "new_overdue": and_(
            _T.c.status == TicketStatus.NEW, unanswered, _T.c.response_alerted_at.is_(None),
            _T.c.response_due_at < now,
        ),
        # Open past resolutionDueAt: tell the dispatchers once.
        "resolution": and_(
            _T.c.status.in_(OPEN_STATUSES), _T.c.resolution_alerted_at.is_(None), _T.c.resolution_due_at < now,
        ),
    }


def _candidates(now: datetime, dialect: str, fraction: float):
    """ONE SELECT: every open ticket some rule applies to, with what the alerts and the
    escalation need (branch, subcategory, the branch's current secondary), locked."""
    rules = _rules(now, dialect, fraction)
    branch = CustomerBranch.__table__
    sub = IssueSubcategory.__table__
    tba = TechnicianBranchAssignment.__table__
    tech = Technician.__table__.alias("secondary")
    assigned = Technician.__table__.alias("assigned")
    stmt = (
        select(
            _T.c.id, _T.c.ticket_number, _T.c.status, _T.c.priority, _T.c.description, _T.c.branch_id,
            _T.c.assigned_technician_id, _T.c.first_response_at, _T.c.response_due_at,
            _T.c.resolution_due_at, _T.c.escalation_level,
            branch.c.branch_code, branch.c.branch_name, sub.c.name.label("subcategory_name"),
            assigned.c.name.label("assigned_name"),
            tech.c.id.label("secondary_id"), tech.c.name.label("secondary_name"),
            tech.c.status.label("secondary_status"),
            *[case((cond, 1), else_=0).label(name) for name, cond in rules.items()],
        )
        .select_from(
            _T.join(branch, branch.c.id == _T.c.branch_id)
            .join(sub, sub.c.id == _T.c.subcategory_id)
            .outerjoin(tba, and_(tba.c.branch_id == _T.c.branch_id, tba.c.is_primary.is_(False),
                                 tba.c.end_date.is_(None)))
            .outerjoin(tech, tech.c.id == tba.c.technician_id)
            .outerjoin(assigned, assigned.c.id == _T.c.assigned_technician_id)
        )
        .where(_T.c.status.in_(OPEN_STATUSES), or_(*rules.values()))
        .order_by(_T.c.response_due_at, _T.c.ticket_number)
    )
    if dialect == "postgresql":
        # Rows another sweep (or a user's write) holds are skipped, not waited for: the
        # next sweep, a minute later, takes them if they still need it.
        stmt = stmt.with_for_update(of=_T, skip_locked=True)
    return db.session.execute(stmt).all()


class _TicketView:
    """What the alert text needs (see notifications.ticket_text), without ORM objects."""

    __slots__ = ("id", "ticket_number", "priority", "status", "description", "first_response_at",
                 "response_due_at", "resolution_due_at", "branch_id", "branch", "subcategory",
                 "assigned_technician_id", "assigned_technician")

    def __init__(self, row, technician_id: str | None, technician, shared: dict):
        self.id, self.ticket_number, self.priority, self.status = row.id, row.ticket_number, row.priority, row.status
        self.description, self.first_response_at = row.description, row.first_response_at
        self.response_due_at, self.resolution_due_at = row.response_due_at, row.resolution_due_at
        self.branch_id = row.branch_id
        # Branches and subcategories repeat across a backlog: one small object each.
        self.branch = shared.get(("b", row.branch_id)) or shared.setdefault(
            ("b", row.branch_id), SimpleNamespace(branch_code=row.branch_code, branch_name=row.branch_name))
        self.subcategory = shared.get(("s", row.subcategory_name)) or shared.setdefault(
            ("s", row.subcategory_name), SimpleNamespace(name=row.subcategory_name))
        self.assigned_technician_id = technician_id
        self.assigned_technician = technician


def _at(now: datetime):
    """`now` as a bound UTC timestamp (typed, so both backends store it alike)."""
    return literal(now, UTCDateTime())


def _bump(now: datetime) -> dict:
    """Every sweep UPDATE counts as a change for optimistic locking (version_id_col)."""
    return {"version": _T.c.version + 1, "updated_at": now}


def _guarded_update(ids: list[str], guard, values: dict, dialect: str) -> set[str]:
    """UPDATE the tickets in `ids` that still satisfy `guard`; the ids actually changed."""
    if not ids:
        return set()
    stmt = update(_T).where(_id_in(_T.c.id, ids, dialect), guard).values(**values).returning(_T.c.id)
    return set(db.session.execute(stmt).scalars())


def escalate_overdue(now: datetime | None = None) -> SweepResult:
    """One SLA sweep at `now` (default: the clock). Rules, each applied once per ticket:

    - ASSIGNED, no response, past responseDueAt, level 0: to the branch's current
      secondary if ACTIVE and not the same person (level 1, event `escalated`, alert
      `ticket_escalated` to both technicians and the dispatchers); otherwise it stays,
      level 1 too, and the dispatchers get `sla_no_secondary`;
    - level 1, still ASSIGNED and unanswered one more response window after the
      escalation: level 2, `sla_response_level2` to the dispatchers;
    - NEW past responseDueAt: `sla_new_overdue` (dispatchers), once;
    - open past resolutionDueAt: `sla_resolution_overdue` (dispatchers), once;
    - SLA_WARNING_FRACTION of the response window gone with no response: the assigned
      technician is warned (`sla_response_warning`), or the dispatchers for a NEW
      ticket (`sla_response_warning_new`), once.

    A constant number of statements whatever the number of tickets. Only flushes; the
    caller commits (one transaction per sweep).
    """
    from app.services.notifications import notify_many

    now = now or clock.now()
    db.session.flush()  # pending ORM changes first: the sweep writes with Core statements
    dialect = db.session.get_bind().dialect.name
    fraction = float(current_app.config.get("SLA_WARNING_FRACTION", 0.75))
    rows = _candidates(now, dialect, fraction)
    result = SweepResult()
    if not rows:
        return result

    to_secondary: list[tuple[str, str]] = []
    no_secondary: list[str] = []
    level2: list[str] = []
    warn: list[str] = []
    new_overdue: list[str] = []
    resolution: list[str] = []
    for row in rows:
        if row.escalate:
            if (row.secondary_id and row.secondary_status == TechnicianStatus.ACTIVE
                    and row.secondary_id != row.assigned_technician_id):
                to_secondary.append((row.id, row.secondary_id))
            else:
                no_secondary.append(row.id)
        elif row.level2:
            level2.append(row.id)
        if row.warn:
            warn.append(row.id)
        if row.new_overdue:
            new_overdue.append(row.id)
        if row.resolution:
            resolution.append(row.id)

    unanswered_assigned = and_(_T.c.status == TicketStatus.ASSIGNED, _T.c.first_response_at.is_(None))
    escalated: dict[str, str] = {}
    if to_secondary:
        v = _pairs(to_secondary, dialect)
        stmt = (
            update(_T)
            .where(_T.c.id == v.c.ticket_id, unanswered_assigned, _T.c.escalation_level == 0)
            .values(assigned_technician_id=v.c.technician_id, escalation_level=1, escalated_at=now,
                    response_alerted_at=func.coalesce(_T.c.response_alerted_at, _at(now)), **_bump(now))
            .returning(_T.c.id, _T.c.assigned_technician_id)
        )
        escalated = dict(db.session.execute(stmt).all())
    stayed = _guarded_update(
        no_secondary, and_(unanswered_assigned, _T.c.escalation_level == 0),
        {"escalation_level": 1, "escalated_at": now,
         "response_alerted_at": func.coalesce(_T.c.response_alerted_at, _at(now)), **_bump(now)}, dialect)
    raised = _guarded_update(
        level2, and_(unanswered_assigned, _T.c.escalation_level == 1),
        {"escalation_level": 2, **_bump(now)}, dialect)
    warned = _guarded_update(
        warn, and_(_T.c.first_response_at.is_(None), _T.c.response_warned_at.is_(None)),
        {"response_warned_at": now, **_bump(now)}, dialect)
    alerted_new = _guarded_update(
        new_overdue, and_(_T.c.status == TicketStatus.NEW, _T.c.response_alerted_at.is_(None)),
        {"response_alerted_at": now, **_bump(now)}, dialect)
    alerted_resolution = _guarded_update(
        resolution, and_(_T.c.status.in_(OPEN_STATUSES), _T.c.resolution_alerted_at.is_(None)),
        {"resolution_alerted_at": now, **_bump(now)}, dialect)

    events: list[tuple[str, str, dict]] = []
    alerts: list[tuple[str, _TicketView, dict]] = []
    shared: dict = {}

    def view(row, technician_id: str | None, technician_name: str | None) -> _TicketView:
        technician = None
        if technician_id:
            technician = shared.get(("t", technician_id)) or shared.setdefault(
                ("t", technician_id), SimpleNamespace(id=technician_id, name=technician_name))
        return _TicketView(row, technician_id, technician, shared)

    def event(row, kind: str, technician_id=None, technician_name=None, previous_id=None, secondary_id=None,
              reason=None):
        # The event's data is built by the database (see _EVENT_DATA), from these fields.
        events.append((row.id, kind, technician_id, technician_name, previous_id, secondary_id, reason))

    for row in rows:
        if row.id in escalated:
            new_tech = escalated[row.id]
            event(row, "escalated", technician_id=new_tech, technician_name=row.secondary_name,
                  previous_id=row.assigned_technician_id)
            alerts.append(("ticket_escalated", view(row, new_tech, row.secondary_name),
                           {"previous_technician_id": row.assigned_technician_id}))
            result.escalated.append(row.ticket_number)
        elif row.id in stayed:
            reason = ("none" if not row.secondary_id
                      else "same_technician" if row.secondary_id == row.assigned_technician_id
                      else TechnicianStatus(row.secondary_status).value)
            event(row, "escalation_no_secondary", technician_id=row.assigned_technician_id,
                  secondary_id=row.secondary_id, reason=reason)
            alerts.append(("sla_no_secondary", view(row, row.assigned_technician_id, row.assigned_name),
                           {"reason": NO_SECONDARY_REASONS[reason]}))
            result.no_secondary.append(row.ticket_number)
        elif row.id in raised:
            event(row, "escalation_level2", technician_id=row.assigned_technician_id)
            alerts.append(("sla_response_level2", view(row, row.assigned_technician_id, row.assigned_name), {}))
            result.level2.append(row.ticket_number)
        if row.id in warned:
            event(row, "sla_response_warning", technician_id=row.assigned_technician_id)
            kind = "sla_response_warning" if row.status == TicketStatus.ASSIGNED else "sla_response_warning_new"
            alerts.append((kind, view(row, row.assigned_technician_id, row.assigned_name), {}))
            result.warned.append(row.ticket_number)
        if row.id in alerted_new:
            event(row, "sla_response_overdue")
            alerts.append(("sla_new_overdue", view(row, None, None), {}))
            result.new_overdue.append(row.ticket_number)
        if row.id in alerted_resolution:
            event(row, "sla_resolution_overdue")
            alerts.append(("sla_resolution_overdue", view(row, row.assigned_technician_id, row.assigned_name), {}))
            result.resolution_overdue.append(row.ticket_number)

    _insert_events(events, now, dialect)
    if escalated:
        # The new technician may read the ticket from now on, like any past assignee.
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        assignees = TicketAssignee.__table__
        db.session.execute(
            insert(assignees)
            .from_select(["ticket_id", "technician_id"],
                         select(_T.c.id, _T.c.assigned_technician_id)
                         .where(_id_in(_T.c.id, list(escalated), dialect)))
            .on_conflict_do_nothing()
        )
    notify_many(alerts, now=now)
    result.alerts = len(alerts)
    _expire_loaded(set(escalated) | stayed | raised | warned | alerted_new | alerted_resolution)
    if result.alerts:
        log.info("sla sweep at %s: escalated=%d no_secondary=%d level2=%d warned=%d new_overdue=%d "
                 "resolution_overdue=%d", _iso(now), len(result.escalated), len(result.no_secondary),
                 len(result.level2), len(result.warned), len(result.new_overdue), len(result.resolution_overdue))
    return result


# The data of each sweep event, as (key, SQL value) pairs: built by the database from
# the event's fields (v.*) and its ticket's row (t.*), same keys as before.
_EVENT_DATA = {
    "escalated": (("level", "1"), ("technicianId", "v.tech"), ("technicianName", "v.tech_name"),
                  ("previousTechnicianId", "v.prev"), ("automatic", "{true}")),
    "escalation_no_secondary": (("level", "1"), ("technicianId", "v.tech"), ("secondaryTechnicianId", "v.secondary"),
                                ("reason", "v.reason")),
    "escalation_level2": (("level", "2"), ("technicianId", "v.tech")),
    "sla_response_warning": (("responseDueAt", "{due}"), ("technicianId", "v.tech")),
    "sla_response_overdue": (("responseDueAt", "{due}"),),
    "sla_resolution_overdue": (),
}
_EVENT_FIELDS = ("ticket_id", "kind", "tech", "tech_name", "prev", "secondary", "reason")


def _insert_events(events: list[tuple], now: datetime, dialect: str) -> None:
    """The sweep's TicketEvents (no actor: the system, all at `now`) in ONE
    `INSERT ... SELECT`: ids and the JSON data are made by the database from one
    parameter per field (arrays on PostgreSQL, one JSON array on SQLite)."""
    if not events:
        return
    if dialect == "postgresql":
        source = ("unnest(" + ", ".join(f"CAST(:{f} AS TEXT[])" for f in _EVENT_FIELDS) + ") AS v("
                  + ", ".join(_EVENT_FIELDS) + ")")
        build, true = "json_build_object", "true"
        due = """to_char(t.response_due_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        params = {f: list(column) for f, column in zip(_EVENT_FIELDS, zip(*events))}
        at = "CAST(:at AS TIMESTAMP)"
    else:
        source = ("(SELECT " + ", ".join(f"json_extract(j.value, '$[{i}]') AS {f}" for i, f in enumerate(_EVENT_FIELDS))
                  + " FROM json_each(:events) AS j) AS v")
        build, true = "json_object", "json('true')"
        due = "strftime('%Y-%m-%dT%H:%M:%SZ', t.response_due_at)"
        params = {"events": json.dumps(events, separators=(",", ":"))}
        at = ":at"
    cases = " ".join(
        f"WHEN '{kind}' THEN {build}(" + ", ".join(f"'{key}', {value}" for key, value in pairs) + ")"
        for kind, pairs in _EVENT_DATA.items()).format(true=true, due=due)
    stamp = UTCDateTime().process_bind_param(now, None)
    params["at"] = stamp if dialect == "postgresql" else stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    db.session.execute(text(
        f"INSERT INTO {TicketEvent.__tablename__} (id, ticket_id, at, kind, actor_id, data) "
        f"SELECT {bulk.sql_new_id(dialect)}, v.ticket_id, {at}, v.kind, NULL, CASE v.kind {cases} END "
        f"FROM {source} JOIN service_tickets t ON t.id = v.ticket_id"), params)


def _expire_loaded(ticket_ids: set[str]) -> None:
    """Tickets this session already holds were changed behind the ORM's back: reload
    them on next access (their version moved on)."""
    if not ticket_ids:
        return
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, ServiceTicket) and obj.id in ticket_ids:
            db.session.expire(obj)


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None
