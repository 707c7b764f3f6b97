"""Service tickets, their timeline, photos and the monthly number counter."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.enums import ApprovalStatus, PauseReason, PhotoType, TicketPriority, TicketSource, TicketStatus, enum_column
from app.models.types import UTCDateTime, new_id
from app import clock


class TicketCounter(db.Model):
    """Last number handed out per month (`YYYYMM`); updated in the ticket's transaction."""

    __tablename__ = "ticket_counters"

    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


# What ticket search matches on PostgreSQL (services/ticket_queries.search_condition): the
# three fields, joined by a separator nobody types. The same text as migration 0012's index.
SEARCH_DOCUMENT = ("((((ticket_number::text || chr(31)) || COALESCE(external_id, ''::character varying)::text)"
    " || chr(31)) || description)")


class ServiceTicket(db.Model):
    __tablename__ = "service_tickets"
    __table_args__ = (
        Index("ix_service_tickets_status_created", "status", "created_at"),
        Index("ix_service_tickets_tech_status", "assigned_technician_id", "status"),
        # Partial (migration 0004): open tickets, the ones that change all day, have
        # neither, so their updates write no entry here.
        Index("ix_service_tickets_closed_at", "closed_at",  # analytics (migration 0003)
              postgresql_where=text("closed_at IS NOT NULL"), sqlite_where=text("closed_at IS NOT NULL")),
        Index("ix_service_tickets_external_id", "external_id",
              postgresql_where=text("external_id IS NOT NULL"), sqlite_where=text("external_id IS NOT NULL")),
        # Ticket search (migration 0012, docs/search.md): pg_trgm's GIN index over the number,
        # external id and description joined by U+001F; PostgreSQL only.
        Index("ix_service_tickets_search", text(SEARCH_DOCUMENT), postgresql_using="gin",
              postgresql_ops={"expr": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        # One unit's tickets, newest first; on PostgreSQL covering what the unit's summary
        # reads (migration 0018, the unit page). Tickets without a unit are not in it.
        Index("ix_service_tickets_equipment_created", "equipment_id", "created_at",
              postgresql_include=["id", "status", "source"],
              postgresql_where=text("equipment_id IS NOT NULL"), sqlite_where=text("equipment_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ticket_number: Mapped[str] = mapped_column(String(20), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100))

    branch_id: Mapped[str] = mapped_column(ForeignKey("customer_branches.id", ondelete="CASCADE"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_role: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(50))

    category_id: Mapped[str] = mapped_column(ForeignKey("issue_categories.id"), index=True)
    # No index (migration 0004): no query looks tickets up by subcategory alone, and
    # the app never deletes a subcategory (the foreign key needs no index).
    subcategory_id: Mapped[str] = mapped_column(ForeignKey("issue_subcategories.id"))
    description: Mapped[str] = mapped_column(Text)

    # Indexed by ix_service_tickets_tech_status (technician first).
    assigned_technician_id: Mapped[str | None] = mapped_column(ForeignKey("technicians.id", ondelete="SET NULL"))
    dispatcher_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # Indexed by ix_service_tickets_status_created (status first). Priority has four
    # values and is always asked for with a status: no index of its own (migration 0004).
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus), default=TicketStatus.NEW)
    priority: Mapped[TicketPriority] = mapped_column(enum_column(TicketPriority), default=TicketPriority.NORMAL)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrival_distance_m: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)

    # SLA: stored at creation (and on a priority change); the sweep reads these.
    # Not indexed (migration 0004): only open tickets are ever compared with their due
    # times, and ix_service_tickets_status_created finds those.
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When each clock turns amber (services/sla_clock.py computes and moves them with
    # the due times): SLA_WARNING_FRACTION of the window, stored because under a working
    # calendar that is a share of working time, which SQL cannot derive.
    response_warn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_warn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The unit the ticket is about (optional; migration 0015), where it came from, and the
    # maintenance plan that opened it (no foreign key until the plans' table exists).
    # Indexed with its created_at (ix_service_tickets_equipment_created, migration 0018).
    equipment_id: Mapped[str | None] = mapped_column(ForeignKey("equipment.id", ondelete="SET NULL"))
    source: Mapped[TicketSource] = mapped_column(enum_column(TicketSource), default=TicketSource.DISPATCHER,
                                                 server_default=TicketSource.DISPATCHER.value)
    maintenance_plan_id: Mapped[str | None] = mapped_column(String(32))

    # The resolution clock's pause (migration 0017; services/pauses.py): set while paused,
    # with the reason; `paused_minutes_total` is the working time of the ticket's past
    # pauses (its resolution due time already moved by it); `pause_alerted_at` marks the
    # one alert of a pause longer than PAUSE_ALERT_HOURS. The pauses themselves: ticket_pauses.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pause_reason: Mapped[PauseReason | None] = mapped_column(enum_column(PauseReason))
    paused_minutes_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pause_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    internal_notes: Mapped[str | None] = mapped_column(Text)
    store_notes: Mapped[str | None] = mapped_column(Text)

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    branch: Mapped["CustomerBranch"] = relationship()  # noqa: F821
    category: Mapped["IssueCategory"] = relationship()  # noqa: F821
    subcategory: Mapped["IssueSubcategory"] = relationship()  # noqa: F821
    assigned_technician: Mapped["Technician | None"] = relationship()  # noqa: F821
    equipment: Mapped["Equipment | None"] = relationship()  # noqa: F821
    completions: Mapped[list["ServiceCompletion"]] = relationship(  # noqa: F821
        back_populates="ticket", order_by="ServiceCompletion.completed_at"
    )
    photos: Mapped[list["TicketPhoto"]] = relationship(
        back_populates="ticket", order_by="TicketPhoto.created_at"
    )

    # Optimistic locking: a stale PATCH (or a concurrent writer) gets 409, not a lost update.
    __mapper_args__ = {"version_id_col": version}

    @property
    def completion(self):
        """The current completion: the pending or approved one, else the latest rejected
        (not merely the last by time: two submissions can share a timestamp)."""
        live = [c for c in self.completions if c.approval_status != ApprovalStatus.REJECTED]
        return (live or self.completions or [None])[-1]


class TicketEvent(db.Model):
    """One fact on a ticket's timeline (who, when, what)."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket_at", "ticket_id", "at"),
        Index("ix_ticket_events_kind_at", "kind", "at"),  # analytics (migration 0003)
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("service_tickets.id", ondelete="CASCADE"))
    # Read per ticket (ix_ticket_events_ticket_at) or per kind (ix_ticket_events_kind_at).
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped["User | None"] = relationship()  # noqa: F821


class TicketPhoto(db.Model):
    __tablename__ = "ticket_photos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("service_tickets.id", ondelete="CASCADE"), index=True)
    completion_id: Mapped[str | None] = mapped_column(
        ForeignKey("service_completions.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[PhotoType] = mapped_column(enum_column(PhotoType))
    caption: Mapped[str | None] = mapped_column(String(300))
    storage_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    ticket: Mapped[ServiceTicket] = relationship(back_populates="photos")


class TicketAssignee(db.Model):
    """Every technician a ticket was ever assigned to: they may still read it."""

    __tablename__ = "ticket_assignees"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("service_tickets.id", ondelete="CASCADE"), primary_key=True)
    technician_id: Mapped[str] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), primary_key=True, index=True
    )
