"""The one hook for work that must wait for the transaction's outcome.

Services only flush; whoever owns the transaction (the request edge, a task, a CLI
command, a test) commits or rolls back. What must happen only once the writes are
permanent (queue a delivery, delete the files of deleted rows, tell Telegram) is
registered with `on_commit`; what must be undone if they are not (delete a file written
for a row that never came to be) with `on_rollback`. Both run once, right after the
session's commit or rollback, whoever triggered it, and are then forgotten.

A callback runs right after the commit (in a request: once the edge's commit has
returned; elsewhere inside SQLAlchemy's after-commit event) or inside the rollback: it
must not use the session that just finished (queue work, touch files or storage, or open its own app
context for a small transaction of its own). A callback that fails is logged; it cannot
undo a commit that has happened.

`transaction_cache(name)` is a dict that lives as long as the current transaction (a
memo a service may keep between statements, dropped at commit or rollback).

The listeners are installed by `init_app` (from create_app), never at import.
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import g, has_request_context
from sqlalchemy import event

from app.extensions import db

log = logging.getLogger(__name__)

_ON_COMMIT = "transaction_on_commit"
_ON_ROLLBACK = "transaction_on_rollback"
_CACHES = "transaction_caches"


def _info() -> dict:
    # Begin the session's transaction if it has none yet (it would on its first
    # statement anyway): then a rollback before any statement still ends it, and what
    # was registered cannot leak into the next transaction.
    session = db.session()
    if not session.in_transaction():
        session.begin()
    return session.info


def on_commit(fn: Callable[[], object]) -> None:
    """Run `fn()` once the current transaction has committed (never if it rolls back)."""
    _info().setdefault(_ON_COMMIT, []).append(fn)


def on_rollback(fn: Callable[[], object]) -> None:
    """Run `fn()` if the current transaction rolls back (never if it commits)."""
    _info().setdefault(_ON_ROLLBACK, []).append(fn)


def transaction_cache(name: str) -> dict:
    """A dict kept until the current transaction ends."""
    return _info().setdefault(_CACHES, {}).setdefault(name, {})


def _run(callbacks, when: str) -> None:
    for fn in callbacks or ():
        try:
            fn()
        except Exception:  # noqa: BLE001  (the transaction's outcome stands; say what failed)
            log.exception("a callback %s failed", when)


def _after_commit(session) -> None:
    session.info.pop(_ON_ROLLBACK, None)
    session.info.pop(_CACHES, None)
    callbacks = session.info.pop(_ON_COMMIT, None)
    if not callbacks:
        return
    if has_request_context():
        # The request edge runs them once its commit has returned (run_committed): a
        # task run at once (tests' immediate mode) then finds the commit complete.
        g.setdefault("transaction_committed", []).extend(callbacks)
    else:
        _run(callbacks, "after commit")


def run_committed() -> None:
    """The request edge, right after its commit: run what the commit made due."""
    _run(g.pop("transaction_committed", None), "after commit")


def _after_soft_rollback(session, previous_transaction) -> None:
    # Every Session.rollback() of the outermost transaction, also one that had not yet
    # sent anything to the database (so nothing registered leaks into the next one);
    # not a savepoint's.
    if previous_transaction.nested or previous_transaction.parent is not None:
        return
    session.info.pop(_ON_COMMIT, None)
    session.info.pop(_CACHES, None)
    _run(session.info.pop(_ON_ROLLBACK, None), "after rollback")


def init_app(app) -> None:
    """Install the two listeners on the app's session (once per process)."""
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_soft_rollback", _after_soft_rollback)
