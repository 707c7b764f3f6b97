"""The order of a history (a ticket's timeline, a unit's history): one rule for both."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.transaction import transaction_cache


def next_at(at_column, owner_column, owner_id: str) -> datetime:
    """When the owner's next line happens: now, or 1 µs after its latest line when the
    clock has not moved past it (a frozen test clock, a coarse or corrected system
    clock), so a history keeps the order things happened in. The latest is read once a
    transaction, then remembered (`at_column`: e.g. TicketEvent.at; `owner_column`:
    TicketEvent.ticket_id)."""
    at = clock.now()
    latest = transaction_cache(f"latest {at_column}")
    if owner_id not in latest:
        latest[owner_id] = db.session.execute(select(func.max(at_column)).where(owner_column == owner_id)).scalar()
    if latest[owner_id] is not None and at <= latest[owner_id]:
        at = latest[owner_id] + timedelta(microseconds=1)
    latest[owner_id] = at
    return at
