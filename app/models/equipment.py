"""Units of equipment (a cold room, a display case, a condensing unit), their report token
and their history. Repairs happen to a unit: tickets, the refrigerant logbook, maintenance
plans and temperature alarms point here (API.md, "Equipment"; docs/equipment.md)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.enums import EquipmentKind, enum_column
from app.models.types import UTCDateTime, new_id


class Equipment(db.Model):
    __tablename__ = "equipment"
    __table_args__ = (
        # A branch's units in asset-tag order (the list, the labels sheet, the store's picker).
        Index("ix_equipment_branch_tag", "branch_id", "asset_tag"),
        # A sensor names one unit (temperature alarms find the unit by it).
        Index("ux_equipment_sensor_id", "sensor_id", unique=True,
              postgresql_where=text("sensor_id IS NOT NULL"), sqlite_where=text("sensor_id IS NOT NULL")),
        # Search (`q`, migration 0016): pg_trgm's GIN index on each searched column; PostgreSQL only.
        # (As expressions, like the tickets' search index: SQLite has none of them and
        # autogenerate leaves expression indexes alone.)
        *(Index(f"ix_equipment_{c}_trgm", text(c), postgresql_using="gin", postgresql_ops={"expr": "gin_trgm_ops"})
          .ddl_if(dialect="postgresql") for c in ("asset_tag", "name", "serial_number", "manufacturer", "model")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    branch_id: Mapped[str] = mapped_column(ForeignKey("customer_branches.id", ondelete="CASCADE"))
    # Stored in capitals (services/equipment.py): "cr-01" and "CR-01" are one label.
    asset_tag: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[EquipmentKind] = mapped_column(enum_column(EquipmentKind))
    name: Mapped[str] = mapped_column(String(200))
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    installed_on: Mapped[date | None] = mapped_column(Date)
    # An ASHRAE name from models/refrigerants.GWP (its one table), or None.
    refrigerant: Mapped[str | None] = mapped_column(String(10))
    charge_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    leak_detection: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    replacement_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    sensor_id: Mapped[str | None] = mapped_column(String(100))
    setpoint_c: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The secret of the unit's public report URL (APP_BASE_URL/r/<token>), kept as it is:
    # the URL is printed on the unit's label and shown again whenever a label is reprinted,
    # so it must be recoverable (docs/equipment.md says why that is acceptable). A new one
    # replaces it, and the old URL then finds nothing.
    report_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    branch: Mapped["CustomerBranch"] = relationship()  # noqa: F821

    @property
    def gwp(self) -> int | None:
        from app.models.refrigerants import gwp

        return gwp(self.refrigerant)

    @property
    def co2e_tonnes(self) -> Decimal | None:
        from app.models.refrigerants import co2e_tonnes

        return co2e_tonnes(self.charge_kg, self.refrigerant)


class EquipmentEvent(db.Model):
    """One fact in a unit's history: created, edited (which fields, from what to what),
    moved to another branch, its report token replaced. Never edited or deleted."""

    __tablename__ = "equipment_events"
    __table_args__ = (Index("ix_equipment_events_unit_at", "equipment_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped["User | None"] = relationship()  # noqa: F821
