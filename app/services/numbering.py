"""Ticket numbers: TKT-YYYYMM-NNNNN, sequential per month, never reused.

One counter row per month is bumped with a single UPSERT ... RETURNING in the
ticket's own transaction: concurrent creators serialise on that row, and a rolled
back ticket rolls its number back too, so no number is skipped or handed out twice
(a sequence would skip; the plan's count+1 would duplicate).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import TicketCounter


def next_ticket_number(at: datetime) -> str:
    period = at.strftime("%Y%m")
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketCounter.__table__
    stmt = (
        insert(table)
        .values(period=period, last_value=1)
        .on_conflict_do_update(index_elements=[table.c.period], set_={"last_value": table.c.last_value + 1})
        .returning(table.c.last_value)
    )
    value = db.session.execute(stmt).scalar_one()
    return f"TKT-{period}-{value:05d}"
