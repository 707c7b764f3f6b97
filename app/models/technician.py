"""Technicians and their branch territories (primary / secondary)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Float, ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.enums import TechnicianStatus, enum_column
from app.models.types import UTCDateTime, new_id
from app import clock


class Technician(db.Model):
    __tablename__ = "technicians"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[TechnicianStatus] = mapped_column(
        enum_column(TechnicianStatus), default=TechnicianStatus.ACTIVE, index=True
    )
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    last_location_update: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Labour rate per hour in CURRENCY, set by dispatchers; None: the company's rate
    # (services/technicians.labor_rate_for).
    labor_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    branch_assignments: Mapped[list["TechnicianBranchAssignment"]] = relationship(
        back_populates="technician", order_by="TechnicianBranchAssignment.assigned_date"
    )


class TechnicianBranchAssignment(db.Model):
    """A technician's territory. `end_date` NULL means current.

    A branch has at most one current primary and one current secondary: a partial
    unique index enforces it (the plan's unique(technician, branch, isPrimary) would
    forbid ever re-assigning the same person after an assignment ended).
    """

    __tablename__ = "technician_branch_assignments"
    __table_args__ = (
        Index(
            "uq_current_branch_role",
            "branch_id",
            "is_primary",
            unique=True,
            sqlite_where=text("end_date IS NULL"),
            postgresql_where=text("end_date IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("customer_branches.id", ondelete="CASCADE"), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    service_territory: Mapped[str | None] = mapped_column(String(200))
    assigned_date: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    start_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    technician: Mapped[Technician] = relationship(back_populates="branch_assignments")
    branch: Mapped["CustomerBranch"] = relationship()  # noqa: F821
