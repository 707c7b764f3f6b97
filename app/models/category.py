"""Issue categories and subcategories with their SLA minutes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.enums import TicketPriority
from app.models.types import UTCDateTime, new_id
from app import clock

# The plan's defaults (minutes).
SLA_DEFAULTS = {
    "sla_response_critical": 60,
    "sla_response_high": 240,
    "sla_response_normal": 1440,
    "sla_response_low": 2880,
    "sla_resolution_critical": 240,
    "sla_resolution_high": 1440,
    "sla_resolution_normal": 2880,
    "sla_resolution_low": 4320,
}
SLA_FIELDS = tuple(SLA_DEFAULTS)


class IssueCategory(db.Model):
    __tablename__ = "issue_categories"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The name in other languages, {"ru": ..., "uz": ...}: what a reader of that language
    # sees (app/i18n.local_text); `name` stays what the API returns.
    name_translations: Mapped[dict | None] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    subcategories: Mapped[list["IssueSubcategory"]] = relationship(
        back_populates="category", order_by="IssueSubcategory.name"
    )

    @property
    def display_name(self) -> str:
        """The name in the reader's language (app/i18n.local_text)."""
        from app.i18n import local_text

        return local_text(self.name, self.name_translations)


class IssueSubcategory(db.Model):
    __tablename__ = "issue_subcategories"
    __table_args__ = (UniqueConstraint("category_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    category_id: Mapped[str] = mapped_column(ForeignKey("issue_categories.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_translations: Mapped[dict | None] = mapped_column(JSON)  # as IssueCategory's
    description: Mapped[str | None] = mapped_column(Text)
    sla_response_critical: Mapped[int] = mapped_column(Integer, default=60)
    sla_response_high: Mapped[int] = mapped_column(Integer, default=240)
    sla_response_normal: Mapped[int] = mapped_column(Integer, default=1440)
    sla_response_low: Mapped[int] = mapped_column(Integer, default=2880)
    sla_resolution_critical: Mapped[int] = mapped_column(Integer, default=240)
    sla_resolution_high: Mapped[int] = mapped_column(Integer, default=1440)
    sla_resolution_normal: Mapped[int] = mapped_column(Integer, default=2880)
    sla_resolution_low: Mapped[int] = mapped_column(Integer, default=4320)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    category: Mapped[IssueCategory] = relationship(back_populates="subcategories")

    @property
    def display_name(self) -> str:
        """The name in the reader's language (app/i18n.local_text)."""
        from app.i18n import local_text

        return local_text(self.name, self.name_translations)

    def response_minutes(self, priority: TicketPriority) -> int:
        return getattr(self, f"sla_response_{TicketPriority(priority).value.lower()}")

    def resolution_minutes(self, priority: TicketPriority) -> int:
        return getattr(self, f"sla_resolution_{TicketPriority(priority).value.lower()}")
