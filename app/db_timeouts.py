"""Time limits on PostgreSQL, so a page fails fast with the 503 page when the database is
down or frozen instead of hanging for as long as the database does.

Three limits, all settings (docs/operations.md, "Database time limits"):

- ``DB_CONNECT_TIMEOUT`` (seconds, default 3): libpq's ``connect_timeout``, the whole
  connection set-up. A stopped or unreachable server fails a new connection in that time.
- ``DB_STATEMENT_TIMEOUT`` (seconds, default 10; the worker uses
  ``DB_JOB_STATEMENT_TIMEOUT``, default 120; 0 switches it off): PostgreSQL's own
  ``statement_timeout``, given at connect. A statement that runs longer is cancelled by
  the server, and the request answers 503.
- The answer limit. A *frozen* server (SIGSTOP, a stalled VM, a network path that drops
  packets while the kernel still acknowledges them) cancels nothing: the client would
  wait forever. So the connection itself stops waiting for an answer after the
  statement limit plus ``DB_ANSWER_GRACE`` (default 2 s), closes the socket (SQLAlchemy
  sees a disconnect and drops the pool) and raises ``OperationalError``. The check of a
  pooled connection before each request (the "ping") waits at most ``DB_PING_TIMEOUT``
  (default 2 s), and the readiness probe's query ``DB_READY_TIMEOUT`` (default 2 s).

Commands run from the ``flask`` CLI (migrations, demo data, backups) get no statement
limit: an operator is watching them, and a migration may legitimately take minutes.
SQLite is a local file with its own busy timeout; none of this applies to it.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import event, exc

_IDLE = psycopg.pq.TransactionStatus.IDLE
_override: contextvars.ContextVar[float | None] = contextvars.ContextVar("db_answer_limit", default=None)
_first_statement_pings: contextvars.ContextVar[bool] = contextvars.ContextVar("db_first_statement_pings",
                                                                              default=False)


@contextmanager
def answer_limit(seconds: float):
    """Wait at most `seconds` for the database inside this block (connect included)."""
    token = _override.set(seconds)
    try:
        yield
    finally:
        _override.reset(token)


@contextmanager
def first_statement_pings(app):
    """For a block that sends one short statement and can do without it: no separate
    ping at checkout; the statement itself waits only DB_PING_TIMEOUT, so a dead or
    frozen server fails it as fast as the ping would (OperationalError; SQLAlchemy
    drops the dead connection, and the caller falls back to its ordinary path)."""
    ping = float(app.config.get("DB_PING_TIMEOUT") or 2)
    token = _first_statement_pings.set(True)
    try:
        with answer_limit(_override.get() or ping):
            yield
    finally:
        _first_statement_pings.reset(token)


class GuardedConnection(psycopg.Connection):
    """A psycopg connection that stops waiting for a server that does not answer."""

    answer_seconds: float | None = None  # set at connect; None: wait as long as it takes

    def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
        if timeout is None:
            timeout = _override.get() or self.answer_seconds
        try:
            return super().wait(gen, interval, timeout)
        except pg_errors._WaitTimeout:
            # The server said nothing: the protocol state is unknown, so the connection
            # can never be used again. Closing it makes SQLAlchemy treat this as a
            # disconnect (psycopg dialect: connection.closed) and drop the pool.
            self.close()
            raise psycopg.OperationalError(f"The database did not answer within {timeout:g} s") from None


def _in_cli() -> bool:
    import click

    return click.get_current_context(silent=True) is not None


def install(app, engine) -> None:
    """Make `engine` (PostgreSQL) open guarded connections with the app's limits."""
    if engine.dialect.name != "postgresql":
        return
    cfg = app.config
    connect_timeout = float(cfg.get("DB_CONNECT_TIMEOUT") or 0)
    statement = float(cfg.get("DB_STATEMENT_TIMEOUT") or 0)
    grace = float(cfg.get("DB_ANSWER_GRACE") or 2)
    ping = float(cfg.get("DB_PING_TIMEOUT") or 2)

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, conn_rec, cargs, cparams):
        limit = 0.0 if _in_cli() else statement
        override = _override.get()
        timeout = connect_timeout
        if override:
            timeout = min(timeout, override) if timeout else override
        if timeout:
            cparams["connect_timeout"] = max(1, int(round(timeout)))  # libpq counts whole seconds
        if limit:
            options = cparams.get("options", "")
            cparams["options"] = f"{options} -c statement_timeout={int(limit * 1000)}".strip()
        conn = GuardedConnection.connect(*cargs, **cparams)
        conn.answer_seconds = (limit + grace) if limit else None
        conn_rec.info["evercold_fresh"] = True
        return conn

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, connection_record, connection_proxy):
        # Our own pre-ping (pool_pre_ping is off for PostgreSQL): the same ";" as
        # SQLAlchemy's, but it waits DB_PING_TIMEOUT, not the statement limit.
        if connection_record.info.pop("evercold_fresh", False) or _first_statement_pings.get():
            return
        # In autocommit, as SQLAlchemy's own ping: no transaction opened, so no ROLLBACK,
        # which would make psycopg forget the connection's prepared statements.
        try:
            with answer_limit(_override.get() or ping):
                if dbapi_connection.info.transaction_status == _IDLE and not dbapi_connection.autocommit:
                    # One round trip: ";" outside a transaction (no BEGIN before it, no
                    # ROLLBACK after it), then back to how the pool handed it out.
                    dbapi_connection.autocommit = True
                    try:
                        dbapi_connection.execute(";")
                    finally:
                        if not dbapi_connection.closed:
                            dbapi_connection.autocommit = False
                else:
                    dbapi_connection.execute(";")
                    dbapi_connection.rollback()  # back to idle, as the pool handed it out
        except psycopg.Error as error:
            # The pool throws this connection away and tries a new one.
            raise exc.DisconnectionError(str(error)) from error
