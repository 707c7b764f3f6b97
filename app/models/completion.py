"""A technician's record of the work done, and the store manager's decision on it."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.enums import ApprovalStatus, enum_column
from app.models.types import UTCDateTime, new_id
from app import clock

Money = Numeric(12, 2)


class ServiceCompletion(db.Model):
    """One submission of finished work. A rejected ticket is completed again with a new
    row, so the earlier one stays on record (the plan's one-per-ticket cannot)."""

    __tablename__ = "service_completions"
    __table_args__ = (
        Index("ix_service_completions_decided_at", "decided_at"),  # analytics (migration 0003)
        # A ticket's completions; on PostgreSQL covering what a unit's summary and costs by
        # month read, so a long history is answered from the index (migration 0018).
        Index("ix_service_completions_ticket_id", "ticket_id",
              postgresql_include=["approval_status", "completed_at", "decided_at", "parts_cost", "labor_cost",
                                  "total_cost"]),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("service_tickets.id", ondelete="CASCADE"))
    technician_id: Mapped[str | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"), index=True)
    completed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    completed_by: Mapped[str] = mapped_column(String(200))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)

    work_description: Mapped[str] = mapped_column(Text)
    labor_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    labor_cost_per_hour: Mapped[Decimal] = mapped_column(Money)
    parts_cost: Mapped[Decimal] = mapped_column(Money)
    labor_cost: Mapped[Decimal] = mapped_column(Money)
    total_cost: Mapped[Decimal] = mapped_column(Money)

    signature_key: Mapped[str | None] = mapped_column(String(200))
    signed_by: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    approval_status: Mapped[ApprovalStatus] = mapped_column(
        enum_column(ApprovalStatus), default=ApprovalStatus.PENDING, index=True
    )
    approval_notes: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    ticket: Mapped["ServiceTicket"] = relationship(back_populates="completions")  # noqa: F821
    parts: Mapped[list["CompletionPart"]] = relationship(
        back_populates="completion", order_by="CompletionPart.position", cascade="all, delete-orphan"
    )
    photos: Mapped[list["TicketPhoto"]] = relationship(order_by="TicketPhoto.created_at")  # noqa: F821


class CompletionPart(db.Model):
    __tablename__ = "completion_parts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    completion_id: Mapped[str] = mapped_column(ForeignKey("service_completions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)

    completion: Mapped[ServiceCompletion] = relationship(back_populates="parts")
