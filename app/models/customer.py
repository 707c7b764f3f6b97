"""Customers (retail chains) and their branches (stores)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, new_id
from app import clock


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    branches: Mapped[list["CustomerBranch"]] = relationship(back_populates="customer")


class CustomerBranch(db.Model):
    __tablename__ = "customer_branches"
    __table_args__ = (Index("ix_customer_branches_customer_code", "customer_id", "branch_code", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    branch_code: Mapped[str] = mapped_column(String(50), index=True)
    branch_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    contact_person: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The working calendar its SLA minutes count in (None: around the clock; migration 0017).
    calendar_id: Mapped[str | None] = mapped_column(ForeignKey("working_calendars.id", ondelete="SET NULL"),
                                                    index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    customer: Mapped[Customer] = relationship(back_populates="branches")
    calendar: Mapped["WorkingCalendar | None"] = relationship()  # noqa: F821
