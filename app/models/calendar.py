"""Working calendars (API.md, "Working calendars"; docs/calendars.md) and the pauses of a
ticket's resolution clock (API.md, "Pausing the resolution clock").

A calendar is a named week of working intervals in one IANA timezone, with explicit
holidays and, optionally, a country whose public holidays (the `holidays` library) count
too. A branch points to one (`customer_branches.calendar_id`) or to none: around the
clock. What working time is, and the due-time arithmetic over it, live in
services/calendars.py; the SLA clock (services/sla_clock.py) asks it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.enums import PauseReason, enum_column
from app.models.types import UTCDateTime, new_id

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkingCalendar(db.Model):
    __tablename__ = "working_calendars"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))  # an IANA name, e.g. "Asia/Tashkent"
    # {"mon": [["08:00", "20:00"]], ..., "sun": []}: validated by services/calendars.py
    # (HH:MM, 24:00 only as an end, each interval ends after it starts, no overlaps).
    week: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)  # ["2026-12-08", ...] ISO dates
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2, or None
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class TicketPause(db.Model):
    """One pause of a ticket's resolution clock: who paused it, why, and (once resumed)
    who resumed it and how many working minutes it lasted. Append-only in spirit: a
    resumed pause is history (the timeline carries the same facts)."""

    __tablename__ = "ticket_pauses"
    __table_args__ = (
        Index("ix_ticket_pauses_ticket_paused", "ticket_id", "paused_at"),
        Index("ix_ticket_pauses_paused_at", "paused_at"),  # the pauses report by period
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("service_tickets.id", ondelete="CASCADE"))
    reason: Mapped[PauseReason] = mapped_column(enum_column(PauseReason))
    note: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    paused_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The ticket's technician when it was paused (the report groups by technician).
    technician_id: Mapped[str | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"))
    branch_id: Mapped[str] = mapped_column(ForeignKey("customer_branches.id", ondelete="CASCADE"))
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resumed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Working minutes (the branch calendar's; wall-clock minutes for CRITICAL or no calendar)
    # the resolution due time moved by on resume; wall-clock minutes for the report too.
    paused_minutes: Mapped[int | None] = mapped_column(Integer)
    wall_minutes: Mapped[int | None] = mapped_column(Integer)

    ticket: Mapped["ServiceTicket"] = relationship()  # noqa: F821
