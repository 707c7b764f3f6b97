"""Keep files and rows together: files written in a transaction that rolls back are
deleted; files whose rows were deleted go once the transaction commits."""
from sqlalchemy import event
from sqlalchemy.orm import Session


def _drain(session, name):
    items = session.info.pop(name, None) or []
    for storage, key in items:
        try:
            storage.delete(key)
        except Exception:  # pragma: no cover - a leftover file is logged, not fatal
            import logging

            logging.getLogger(__name__).exception("could not delete %s", key)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    session.info.pop("last_event_at", None)  # see services.tickets.record_event
    session.info.pop("files_on_rollback", None)
    _drain(session, "files_on_commit")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop("last_event_at", None)
    session.info.pop("files_on_commit", None)
    _drain(session, "files_on_rollback")
