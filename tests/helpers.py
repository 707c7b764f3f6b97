"""Helpers shared across test folders that are not fixtures."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

#: statements that only steer the transaction or the connection: not what a page costs
TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")


@contextmanager
def count_statements(engine=None, *, only=(), skip=(), keep=None):
    """with count_statements() as statements: ... collects the SQL sent through `engine`
    (the app's by default; executemany counts once), in order.

    `only`: count just statements starting with one of these keywords (e.g. ("SELECT",));
    `skip`: never count those starting with one of these (e.g. TRANSACTION_CONTROL);
    `keep(statement)`: any further test a statement must pass to be counted."""
    if engine is None:
        from app.extensions import db

        engine = db.engine
    statements: list[str] = []

    def _before(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip().upper()
        if only and not head.startswith(tuple(only)):
            return
        if skip and head.startswith(tuple(skip)):
            return
        if keep is None or keep(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _before)
