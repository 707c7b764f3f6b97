"""The SLA escalation sweep. What a deadline is, when a clock turns amber and whether
it was met live in the SLA clock (services/sla_clock.py); the sweep asks it.

The sweep (`escalate_overdue`) runs every minute in the worker, from `flask sla
escalate` and from the cron endpoint. It is set-based and works in the database: one
`INSERT ... SELECT` stages every ticket that needs something (with what each rule does
to it) in a temporary table of the sweep's connection; one UPDATE applies every rule;
the events, the new assignees and the outbox rows are each one `INSERT ... SELECT`
(ids and JSON made in SQL); Python reads the staged tickets once, for the result and
the alert texts. So a sweep costs the same handful of statements for 10 tickets or
100,000, and the tickets of a catch-up never travel to Python and back.

It is safe to run twice at once: on PostgreSQL the staging SELECT locks the rows it
takes (`FOR UPDATE SKIP LOCKED`, a concurrent sweep skips them), on SQLite the
CLI/worker/cron transaction holds the write lock from BEGIN; and the UPDATE only
touches a ticket whose version is still the staged one, so a ticket is never
escalated or alerted twice. The caller commits once: a sweep that fails half-way
leaves every ticket untouched. A big backlog reaches dispatchers and technicians as
digests (notifications.notify_many).
"""
from __future__ import annotations

import gc
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.schema import CreateTable

from flask import current_app
from flask_babel import lazy_gettext as _l

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
from app import clock
from app.services import bulk, sla_clock

log = logging.getLogger(__name__)


# Due times, warning moments, the running clock and met/breached live in the SLA clock
# (services/sla_clock.py); the sweep below asks it.

# --- the sweep ----------------------------------------------------------------------

# Why a ticket with an overdue response could not go to the secondary (event data and
# the dispatchers' alert).
# Lazy: each alert's text is made in its recipients' languages (notifications.outbox).
NO_SECONDARY_REASONS = {
    "none": _l("The branch has no secondary technician"),
    "same_technician": _l("The secondary technician is the one already assigned"),
    TechnicianStatus.ON_LEAVE.value: _l("The secondary technician is on leave"),
    TechnicianStatus.INACTIVE.value: _l("The secondary technician is inactive"),
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
    pause_alerts: list[str] = field(default_factory=list)  # paused longer than PAUSE_ALERT_HOURS
    alerts: int = 0

    def summary(self) -> dict:
        """The CLI's JSON: {escalatedCount, escalated, alerts, pauseAlerts} (pauseAlerts:
        the ticket numbers whose long pause was reported in this sweep)."""
        return {"escalatedCount": len(self.escalated), "escalated": list(self.escalated), "alerts": self.alerts,
                "pauseAlerts": list(self.pause_alerts)}


_T = ServiceTicket.__table__
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SQLITE_JULIAN_EPOCH_MS = 210866760000000  # julianday('1970-01-01') * 86,400,000

# The sweep's working set: one row per ticket some rule applies to, what the rule does
# to it and what the alerts need, kept in a temporary table of the sweep's own
# connection (emptied at the start of each sweep, and at commit on PostgreSQL).
# Every write of the sweep is then ONE statement reading this table, so the 20,000
# tickets of a catch-up never travel to Python and back.
_STAGE = Table(
    "sla_sweep_stage", MetaData(),
    Column("id", String(32), primary_key=True),
    Column("version", Integer, nullable=False),  # the ticket's version when staged
    # to_secondary | no_secondary (both: level 1) | level2 | NULL (only alerts below)
    Column("action", String(20)),
    Column("warn", Integer, nullable=False),
    Column("new_overdue", Integer, nullable=False),
    Column("resolution", Integer, nullable=False),
    Column("prev_id", String(32)),  # the technician assigned when staged
    Column("secondary_id", String(32)),
    Column("secondary_name", Technician.__table__.c.name.type),  # the same type as the name
    Column("reason", String(20)),  # why not to the secondary (NO_SECONDARY_REASONS)
    Column("pause_long", Integer, nullable=False),  # paused longer than PAUSE_ALERT_HOURS, not yet told
    prefixes=["TEMPORARY"],
)
_S = _STAGE.c


def _create_stage(dialect: str) -> None:
    ddl = str(CreateTable(_STAGE).compile(dialect=db.session.get_bind().dialect)).strip()
    ddl = ddl.replace("CREATE TEMPORARY TABLE", "CREATE TEMPORARY TABLE IF NOT EXISTS", 1)
    db.session.execute(text(ddl + (" ON COMMIT DELETE ROWS" if dialect == "postgresql" else "")))
    # What an earlier sweep left: in the same transaction (the demo data runs several),
    # or on SQLite committed on this connection.
    db.session.execute(_STAGE.delete())


def _epoch_ms(col, dialect: str):
    """A stored (naive UTC) timestamp as whole milliseconds since 1970, in SQL: the
    warning and level-2 rules compare durations between two columns of the same row."""
    if dialect == "postgresql":
        # date_part is double precision; EXTRACT is numeric since PostgreSQL 14 (slow
        # arithmetic over every open ticket).
        return func.floor(func.date_part("epoch", col) * 1000)
    # SQLite keeps julian days as integer milliseconds internally: round() recovers them.
    return func.round(func.julianday(col) * 86400000.0) - _SQLITE_JULIAN_EPOCH_MS


def pause_alert_hours() -> float:
    """How long a pause may last (wall-clock hours) before the dispatchers hear of it."""
    return float(current_app.config.get("PAUSE_ALERT_HOURS", 48))


def _rules(now: datetime, dialect: str) -> dict:
    """Each rule as a SQL condition on the ticket row."""
    now_ms = (now - _EPOCH) // timedelta(milliseconds=1)
    created, due = _epoch_ms(_T.c.created_at, dialect), _epoch_ms(_T.c.response_due_at, dialect)
    window = due - created
    unanswered = _T.c.first_response_at.is_(None)
    at = _at(now)
    return {
        # The response clock turned amber (sla_clock), not yet due, not yet warned.
        "warn": and_(
            sla_clock.sql_response_warning_due(now, _T.c),
            _T.c.escalation_level == 0, _T.c.response_warned_at.is_(None),
        ),
        # Past responseDueAt, still ASSIGNED and unanswered: to the secondary (level 1).
        "escalate": and_(
            _T.c.status == TicketStatus.ASSIGNED, unanswered, _T.c.escalation_level == 0,
            _T.c.response_due_at < at,
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
            _T.c.response_due_at < at,
        ),
        # Open, not paused, past resolutionDueAt: tell the dispatchers once. A paused
        # ticket's resolution clock stands still (services/pauses.py); on resume its due
        # time moves, and this rule looks at the moved one.
        "resolution": and_(
            _T.c.status.in_(OPEN_STATUSES), _T.c.paused_at.is_(None), _T.c.resolution_alerted_at.is_(None),
            _T.c.resolution_due_at < at,
        ),
        # Paused for longer than PAUSE_ALERT_HOURS (wall clock): tell the dispatchers once
        # per pause (resuming clears pause_alerted_at).
        "pause_long": and_(
            _T.c.paused_at.is_not(None), _T.c.pause_alerted_at.is_(None),
            _T.c.paused_at < _at(now - timedelta(hours=pause_alert_hours())),
        ),
    }


def _stage_candidates(now: datetime, dialect: str) -> int:
    """ONE `INSERT ... SELECT`: every open ticket some rule applies to, with what the
    rule does (the secondary decided in SQL: ACTIVE and not the same person), locked
    on PostgreSQL. Returns the number of tickets staged."""
    rules = _rules(now, dialect)
    tba = TechnicianBranchAssignment.__table__
    sec = Technician.__table__.alias("secondary")
    eligible = and_(sec.c.id.is_not(None), sec.c.status == TechnicianStatus.ACTIVE,
                    sec.c.id != func.coalesce(_T.c.assigned_technician_id, ""))
    flag = lambda cond: case((cond, 1), else_=0)  # noqa: E731
    stmt = (
        select(
            _T.c.id, _T.c.version,
            case((and_(rules["escalate"], eligible), "to_secondary"), (rules["escalate"], "no_secondary"),
                 (rules["level2"], "level2")),
            flag(rules["warn"]), flag(rules["new_overdue"]), flag(rules["resolution"]),
            _T.c.assigned_technician_id, sec.c.id, sec.c.name,
            case((and_(rules["escalate"], ~eligible),
                  case((sec.c.id.is_(None), "none"),
                       (sec.c.id == func.coalesce(_T.c.assigned_technician_id, ""), "same_technician"),
                       else_=sec.c.status))),
            flag(rules["pause_long"]),
        )
        .select_from(
            _T.outerjoin(tba, and_(tba.c.branch_id == _T.c.branch_id, tba.c.is_primary.is_(False),
                                   tba.c.end_date.is_(None)))
            .outerjoin(sec, sec.c.id == tba.c.technician_id)
        )
        .where(_T.c.status.in_(OPEN_STATUSES), or_(*rules.values()))
    )
    if dialect == "postgresql":
        # Rows another sweep (or a user's write) holds are skipped, not waited for: the
        # next sweep, a minute later, takes them if they still need it.
        stmt = stmt.with_for_update(of=_T, skip_locked=True)
    columns = ["id", "version", "action", "warn", "new_overdue", "resolution", "prev_id", "secondary_id",
               "secondary_name", "reason", "pause_long"]
    insert = _STAGE.insert().from_select(columns, stmt).execution_options(preserve_rowcount=True)
    return db.session.execute(insert).rowcount


def _apply(now: datetime, staged: int) -> None:
    """ONE UPDATE for every rule, guarded by the version each ticket had when staged (a
    ticket changed in between is left alone and dropped from the stage: no event, no
    alert; the next sweep looks at it again)."""
    at = _at(now)
    level1 = _S.action.in_(["to_secondary", "no_secondary"])
    stmt = (
        update(_T)
        .where(_T.c.id == _S.id, _T.c.version == _S.version)
        .values(
            assigned_technician_id=case((_S.action == "to_secondary", _S.secondary_id),
                                        else_=_T.c.assigned_technician_id),
            escalation_level=case((level1, 1), (_S.action == "level2", 2), else_=_T.c.escalation_level),
            escalated_at=case((level1, at), else_=_T.c.escalated_at),
            response_alerted_at=case((or_(level1, _S.new_overdue == 1), func.coalesce(_T.c.response_alerted_at, at)),
                                     else_=_T.c.response_alerted_at),
            response_warned_at=case((_S.warn == 1, at), else_=_T.c.response_warned_at),
            resolution_alerted_at=case((_S.resolution == 1, at), else_=_T.c.resolution_alerted_at),
            pause_alerted_at=case((_S.pause_long == 1, at), else_=_T.c.pause_alerted_at),
            # Every sweep change counts as a change for optimistic locking (version_id_col).
            version=_T.c.version + 1, updated_at=at,
        )
    )
    applied = db.session.execute(stmt.returning(_T.c.id)).scalars().all()
    if len(applied) != staged:
        # Rare (PostgreSQL locks the staged rows; SQLite holds the write lock): one more
        # statement, with the applied ids in one JSON parameter.
        param = bindparam("applied", json.dumps(applied), type_=String)
        ids = (func.json_array_elements_text(cast(param, JSON)) if db.session.get_bind().dialect.name == "postgresql"
               else func.json_each(param)).table_valued("value")
        db.session.execute(_STAGE.delete().where(_S.id.not_in(select(ids.c.value))))


# The sweep's events, one SELECT each from the stage (s) and its ticket (t): kind,
# condition, the JSON data as (key, SQL value) pairs.
_EVENTS = (
    ("escalated", "s.action = 'to_secondary'",
     (("level", "1"), ("technicianId", "s.secondary_id"), ("technicianName", "s.secondary_name"),
      ("previousTechnicianId", "s.prev_id"), ("automatic", "{true}"))),
    ("escalation_no_secondary", "s.action = 'no_secondary'",
     (("level", "1"), ("technicianId", "s.prev_id"), ("secondaryTechnicianId", "s.secondary_id"),
      ("reason", "s.reason"))),
    ("escalation_level2", "s.action = 'level2'", (("level", "2"), ("technicianId", "s.prev_id"))),
    ("sla_response_warning", "s.warn = 1", (("responseDueAt", "{due}"), ("technicianId", "s.prev_id"))),
    ("sla_response_overdue", "s.new_overdue = 1", (("responseDueAt", "{due}"),)),
    ("sla_resolution_overdue", "s.resolution = 1", ()),
    ("sla_pause_long", "s.pause_long = 1", (("reason", "t.pause_reason"), ("pausedAt", "{paused}"))),
)


def _insert_events(now: datetime, dialect: str) -> None:
    """The sweep's TicketEvents (no actor: the system, all at `now`) in ONE
    `INSERT ... SELECT` from the stage: ids and JSON data made by the database."""
    if dialect == "postgresql":
        build, true, at = "json_build_object", "true", "CAST(:at AS TIMESTAMP)"
        due = """to_char(t.response_due_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        paused = """to_char(t.paused_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
    else:
        build, true, at = "json_object", "json('true')", ":at"
        due = "strftime('%Y-%m-%dT%H:%M:%SZ', t.response_due_at)"
        paused = "strftime('%Y-%m-%dT%H:%M:%SZ', t.paused_at)"
    def source(pairs) -> str:
        # The ticket row only where the data needs it (a due time, the pause); the stage
        # drives the join (CROSS JOIN keeps SQLite from scanning every ticket instead).
        if any(value.startswith(("{", "t.")) and value != "{true}" for _, value in pairs):
            return f"{_STAGE.name} s CROSS JOIN service_tickets t WHERE t.id = s.id AND"
        return f"{_STAGE.name} s WHERE"

    selects = " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, s.id AS ticket_id, "
        + f"{build}(" + ", ".join(f"'{key}', {value}" for key, value in pairs).format(true=true, due=due, paused=paused)
        + f") AS data FROM {source(pairs)} {cond}"
        for kind, cond, pairs in _EVENTS)
    stamp = UTCDateTime().process_bind_param(now, None)
    db.session.execute(text(
        f"INSERT INTO {TicketEvent.__tablename__} (id, ticket_id, at, kind, actor_id, data) "
        f"SELECT {bulk.sql_new_id(dialect)}, e.ticket_id, {at}, e.kind, NULL, e.data FROM ({selects}) AS e"),
        {"at": stamp if dialect == "postgresql" else stamp.strftime("%Y-%m-%d %H:%M:%S.%f")})


def _insert_assignees(dialect: str) -> None:
    """The new technician may read the ticket from now on, like any past assignee."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(TicketAssignee.__table__)
        .from_select(["ticket_id", "technician_id"],
                     select(_S.id, _S.secondary_id).where(_S.action == "to_secondary"))
        .on_conflict_do_nothing())


def _raw(col, name: str | None = None):
    """The column as the driver returns it (no per-row type processing: 20,000 rows x
    a few timestamps and enums cost more in Python than the SELECT in the database);
    _TicketView converts what a text reads."""
    return type_coerce(col, String).label(name or col.name)


def _staged_rows():
    """What the results and the alerts need, one row per ticket the sweep changed."""
    branch = CustomerBranch.__table__
    sub = IssueSubcategory.__table__
    assigned = Technician.__table__.alias("assigned")
    stmt = (
        select(_S.id, _S.action, _S.warn, _S.new_overdue, _S.resolution, _S.prev_id, _S.secondary_id,
               _S.secondary_name, _S.reason, assigned.c.name.label("assigned_name"),
               _T.c.ticket_number, _raw(_T.c.status), _raw(_T.c.priority), _T.c.description, _T.c.branch_id,
               _raw(_T.c.first_response_at), _raw(_T.c.response_due_at), _raw(_T.c.resolution_due_at),
               branch.c.branch_code, branch.c.branch_name, sub.c.name.label("subcategory_name"),
               _S.pause_long, _raw(_T.c.paused_at), _raw(_T.c.pause_reason))
        .select_from(
            # Outer joins (every staged ticket has all of these) keep the stage driving
            # the query: SQLite knows nothing of a temporary table's size.
            _STAGE.outerjoin(_T, _T.c.id == _S.id)
            .outerjoin(branch, branch.c.id == _T.c.branch_id)
            .outerjoin(sub, sub.c.id == _T.c.subcategory_id)
            .outerjoin(assigned, assigned.c.id == _S.prev_id))
        .order_by(_T.c.response_due_at, _T.c.ticket_number)
    )
    return db.session.execute(stmt).all()


# Positions in a staged row (reading 20,000 rows by position, not by name, saves ~0.1 s).
(_ID, _ACTION, _WARN, _NEW_OVERDUE, _RESOLUTION, _PREV, _SECONDARY, _SECONDARY_NAME, _REASON, _ASSIGNED_NAME,
 _NUMBER, _STATUS_, _PRIORITY_, _DESCRIPTION, _BRANCH_ID, _FIRST_RESPONSE, _RESPONSE_DUE, _RESOLUTION_DUE,
 _BRANCH_CODE, _BRANCH_NAME, _SUBCATEGORY, _PAUSE_LONG, _PAUSED_AT, _PAUSE_REASON) = range(24)


_UTC = UTCDateTime()
_PRIORITY = {p.value: p for p in TicketPriority}
_STATUS = {s.value: s for s in TicketStatus}


class _TicketView:
    """What an alert needs (see notifications.notify_many and ticket_text), without ORM
    objects. Cheap to make (a backlog makes 20,000 and, digested, reads few of them):
    the due times are converted and the branch, subcategory and technician objects
    built only when a text asks for them."""

    __slots__ = ("_row", "id", "ticket_number", "priority", "branch_id", "assigned_technician_id",
                 "_technician_name")

    def __init__(self, row, technician_id: str | None, technician_name: str | None):
        self._row, self.id, self.ticket_number, self.branch_id = row, row[_ID], row[_NUMBER], row[_BRANCH_ID]
        self.priority = _PRIORITY[row[_PRIORITY_]]
        self.assigned_technician_id, self._technician_name = technician_id, technician_name

    status = property(lambda self: _STATUS[self._row[_STATUS_]])
    description = property(lambda self: self._row[_DESCRIPTION])
    first_response_at = property(lambda self: _UTC.process_result_value(self._row[_FIRST_RESPONSE], None))
    response_due_at = property(lambda self: _UTC.process_result_value(self._row[_RESPONSE_DUE], None))
    resolution_due_at = property(lambda self: _UTC.process_result_value(self._row[_RESOLUTION_DUE], None))
    branch = property(lambda self: SimpleNamespace(branch_code=self._row[_BRANCH_CODE],
                                                   branch_name=self._row[_BRANCH_NAME]))
    subcategory = property(lambda self: SimpleNamespace(name=self._row[_SUBCATEGORY]))

    @property
    def assigned_technician(self):
        if not self.assigned_technician_id:
            return None
        return SimpleNamespace(id=self.assigned_technician_id, name=self._technician_name)


def _at(now: datetime):
    """`now` as a bound UTC timestamp (typed, so both backends store it alike)."""
    return literal(now, UTCDateTime())


@contextmanager
def _no_cyclic_gc():
    """A catch-up makes ~100,000 short-lived objects (rows, views, alerts), none in a
    reference cycle: reference counting frees them all, and the cyclic collector would
    only walk the whole heap again and again while they pile up (0.1-0.2 s of a
    20,000-ticket sweep, measured). It is switched back on at once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def escalate_overdue(now: datetime | None = None) -> SweepResult:
    """One SLA sweep at `now` (default: the clock). Rules, each applied once per ticket:

    - ASSIGNED, no response, past responseDueAt, level 0: to the branch's current
      secondary if ACTIVE and not the same person (level 1, event `escalated`, alert
      `ticket_escalated` to both technicians and the dispatchers); otherwise it stays,
      level 1 too, and the dispatchers get `sla_no_secondary`;
    - level 1, still ASSIGNED and unanswered one more response window after the
      escalation: level 2, `sla_response_level2` to the dispatchers;
    - NEW past responseDueAt: `sla_new_overdue` (dispatchers), once;
    - open, not paused, past resolutionDueAt: `sla_resolution_overdue` (dispatchers), once;
    - paused longer than PAUSE_ALERT_HOURS (wall clock): `sla_pause_long` (dispatchers),
      once per pause;
    - the response clock turned amber (sla_clock: the stored `response_warn_at`) with no
      response: the assigned
      technician is warned (`sla_response_warning`), or the dispatchers for a NEW
      ticket (`sla_response_warning_new`), once.

    Set-based, in a constant number of statements whatever the number of tickets: the
    tickets are staged (one `INSERT ... SELECT`, locked on PostgreSQL), then changed by
    ONE UPDATE, their events and new assignees written by one `INSERT ... SELECT` each,
    read back once for the results and the alerts, and the outbox written by one more
    statement (notifications.notify_many). Only flushes; the caller commits (one
    transaction per sweep: a sweep that fails half-way leaves every ticket untouched).
    """
    with _no_cyclic_gc():
        return _sweep(now or clock.now())


def _sweep(now: datetime) -> SweepResult:
    from app.services.notifications import notify_many

    db.session.flush()  # pending ORM changes first: the sweep writes with Core statements
    dialect = db.session.get_bind().dialect.name
    _create_stage(dialect)
    result = SweepResult()
    staged = _stage_candidates(now, dialect)
    if not staged:
        return result
    _apply(now, staged)
    _insert_events(now, dialect)
    _insert_assignees(dialect)
    rows = _staged_rows()

    alerts: list[tuple[str, _TicketView, dict]] = []
    for row in rows:
        (_, action, warn, new_overdue, resolution, prev_id, secondary_id, secondary_name, reason, assigned_name,
         number, status) = row[:_STATUS_ + 1]
        if action == "to_secondary":
            alerts.append(("ticket_escalated", _TicketView(row, secondary_id, secondary_name),
                           {"previous_technician_id": prev_id}))
            result.escalated.append(number)
        elif action == "no_secondary":
            alerts.append(("sla_no_secondary", _TicketView(row, prev_id, assigned_name),
                           {"reason": NO_SECONDARY_REASONS[reason]}))
            result.no_secondary.append(number)
        elif action == "level2":
            alerts.append(("sla_response_level2", _TicketView(row, prev_id, assigned_name), {}))
            result.level2.append(number)
        if warn:
            kind = "sla_response_warning" if status == TicketStatus.ASSIGNED else "sla_response_warning_new"
            alerts.append((kind, _TicketView(row, prev_id, assigned_name), {}))
            result.warned.append(number)
        if new_overdue:
            alerts.append(("sla_new_overdue", _TicketView(row, None, None), {}))
            result.new_overdue.append(number)
        if resolution:
            alerts.append(("sla_resolution_overdue", _TicketView(row, prev_id, assigned_name), {}))
            result.resolution_overdue.append(number)
        if row[_PAUSE_LONG]:
            alerts.append(("sla_pause_long", _TicketView(row, prev_id, assigned_name),
                           {"pause_reason": row[_PAUSE_REASON],
                            "paused_at": _UTC.process_result_value(row[_PAUSED_AT], None)}))
            result.pause_alerts.append(number)

    notify_many(alerts, now=now)
    result.alerts = len(alerts)
    _expire_loaded({row[_ID] for row in rows})
    if result.alerts:
        log.info("sla sweep at %s: escalated=%d no_secondary=%d level2=%d warned=%d new_overdue=%d "
                 "resolution_overdue=%d pause_long=%d", _iso(now), len(result.escalated), len(result.no_secondary),
                 len(result.level2), len(result.warned), len(result.new_overdue), len(result.resolution_overdue),
                 len(result.pause_alerts))
    return result


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
