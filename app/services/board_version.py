"""The board's change counters (models/board_version.py): what lets an idle board poll
answer "nothing changed" from one small read instead of aggregating the tickets.

Every transaction that changes something a dispatcher's board shows bumps the counter
of each branch it touched, in the same transaction, right before its commit: a rolled
back change bumps nothing, and a committed one is never missed, whoever made it (a
page, the API, the SLA sweep, a CLI command, a test) because the bump is a session
hook, not a call each service has to remember.

What counts (a change invisible to a filtered board may still count; nothing a board
shows may be missed): a ticket created, changed or deleted; a timeline event added; a
completion added or decided (the "sent back" flag); a branch renamed or deleted; and
for every board at once ("*"): a technician's or subcategory's name.

Contention: the counters are bumped with one statement right before COMMIT, rows in a
fixed order, so a writer holds a counter's row lock only for the moment of its commit,
two writers on different branches never wait for each other, and two transactions
cannot deadlock on them (neither waits for anything else once it holds a counter).
"""
from __future__ import annotations

from itertools import chain

from sqlalchemy import ColumnElement, event, func, inspect, literal_column, select, text
from sqlalchemy.orm import Session

from flask import current_app

from app import db_timeouts
from app.extensions import db
from app.models import (
    BoardVersion,
    CustomerBranch,
    IssueSubcategory,
    ServiceCompletion,
    ServiceTicket,
    Technician,
    TicketEvent,
)
from app.models.board_version import ALL_BRANCHES

_SCOPES = "board_version_scopes"
_TABLE = BoardVersion.__table__


def version_query(branch_id=None):
    """The board's version as a scalar subquery: the sum of every counter, or of the
    branch's and "*" for a board filtered to one branch (`branch_id` an id, or a bound
    parameter for one in a statement built once)."""
    stmt = select(func.coalesce(func.sum(BoardVersion.version), 0))
    if isinstance(branch_id, ColumnElement) or branch_id:
        stmt = stmt.where(BoardVersion.scope.in_((branch_id, ALL_BRANCHES)))
    return stmt.scalar_subquery()


def current(branch_id: str | None = None) -> int:
    return int(db.session.execute(select(version_query(branch_id))).scalar() or 0)


_POLL_SQL = ("SELECT (SELECT coalesce(sum(version), 0) FROM board_versions{where}) AS board_version,"
             " role, is_active, session_version FROM users WHERE id = {user}")
_POLL_ALL = text(_POLL_SQL.format(where="", user=":user_id"))
_POLL_BRANCH = text(_POLL_SQL.format(where=" WHERE scope IN (:branch_id, '*')", user=":user_id"))
# PostgreSQL (psycopg): the driver's own SQL, nothing to compile per request.
_PG_POLL_ALL = _POLL_SQL.format(where="", user="%(user_id)s")
_PG_POLL_BRANCH = _POLL_SQL.format(where=" WHERE scope IN (%(branch_id)s, '*')", user="%(user_id)s")


def poll_read(user_id: str, branch_id: str | None = None):
    """The idle poll's one statement: the signed-in user's role and session checks with
    the board's version (a row with board_version, role, is_active, session_version),
    or None when the user is gone.

    It needs no transaction and no ORM session: one statement on a pooled connection.
    On PostgreSQL it runs in autocommit (no BEGIN and COMMIT round trips) and is its
    own liveness check (no ping at checkout) with the ping's short limit: a dead
    connection raises OperationalError, and the caller takes the ordinary path, which
    opens a fresh one."""
    engine = db.engine
    params = {"user_id": user_id}
    if branch_id:
        params["branch_id"] = branch_id
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            return conn.execute(_POLL_BRANCH if branch_id else _POLL_ALL, params).first()
    with db_timeouts.first_statement_pings(current_app), engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        raw.autocommit = True  # idle as the pool hands it out; set back before it goes back
        try:
            return conn.exec_driver_sql(_PG_POLL_BRANCH if branch_id else _PG_POLL_ALL, params).first()
        finally:
            if not raw.closed:
                raw.autocommit = False


# --- the writers' side -------------------------------------------------------------

def _changed(obj, *names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _ticket_branch(session: Session, ticket_id) -> str:
    ticket = session.identity_map.get(session.identity_key(ServiceTicket, ticket_id)) if ticket_id else None
    return ticket.branch_id if ticket is not None and ticket.branch_id else ALL_BRANCHES


def _scopes_of(session: Session, obj, deleted: bool) -> set[str]:
    if isinstance(obj, ServiceTicket):
        scopes = {obj.branch_id or ALL_BRANCHES}
        scopes.update(b for b in inspect(obj).attrs.branch_id.history.deleted if b)  # moved from
        return scopes
    if isinstance(obj, (TicketEvent, ServiceCompletion)):
        return {_ticket_branch(session, obj.ticket_id)}
    if isinstance(obj, CustomerBranch):
        return {obj.id} if deleted or _changed(obj, "branch_code", "branch_name") else set()
    if isinstance(obj, (Technician, IssueSubcategory)):
        return {ALL_BRANCHES} if deleted or _changed(obj, "name") else set()
    return set()


def _after_flush(session: Session, flush_context) -> None:
    scopes = set()
    for obj in chain(session.new, session.dirty):
        scopes |= _scopes_of(session, obj, False)
    for obj in session.deleted:
        scopes |= _scopes_of(session, obj, True)
    if scopes:
        session.info.setdefault(_SCOPES, set()).update(scopes)


_WATCHED = frozenset(t.name for t in (ServiceTicket.__table__, TicketEvent.__table__, ServiceCompletion.__table__))


def _on_execute(state) -> None:
    """A Core INSERT, UPDATE or DELETE of tickets, events or completions (the SLA
    sweep writes set-based): which branches it touched is not known here, so every
    board counts it."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _WATCHED:
            state.session.info.setdefault(_SCOPES, set()).add(ALL_BRANCHES)


def _before_commit(session: Session) -> None:
    session.flush()  # what is still pending adds its scopes first
    scopes = session.info.pop(_SCOPES, None)
    if not scopes:
        return
    rows = [{"scope": s, "version": 1} for s in sorted(scopes)]  # one order for every writer
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(_TABLE).values(rows)
    conn.execute(stmt.on_conflict_do_update(index_elements=[_TABLE.c.scope],
                                            set_={"version": _TABLE.c.version + literal_column("1")}))


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested or previous_transaction.parent is not None:
        return
    session.info.pop(_SCOPES, None)


def init_app(app) -> None:
    """Install the hooks on the app's session (once per process)."""
    if not event.contains(db.session, "after_flush", _after_flush):
        event.listen(db.session, "after_flush", _after_flush)
        event.listen(db.session, "before_commit", _before_commit)
        event.listen(db.session, "do_orm_execute", _on_execute)
        event.listen(db.session, "after_soft_rollback", _after_soft_rollback)
