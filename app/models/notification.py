"""The notifications outbox: one row per recipient and channel, written in the
business transaction and delivered later by the worker.

Delivery states: pending -> sending (claimed by one worker, with a lease held in
`next_attempt_at`) -> sent | failed | cancelled; a transient error puts the row
back to pending with `next_attempt_at` set by the back-off. In-app rows are born
sent (reading them is the delivery)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.enums import NotificationChannel, NotificationStatus, enum_column
from app.models.types import UTCDateTime, new_id
from app import clock


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_channel_read", "user_id", "channel", "read_at"),
        Index("ix_notifications_user_channel_created", "user_id", "channel", "created_at"),
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("service_tickets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[NotificationChannel] = mapped_column(enum_column(NotificationChannel))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    # pending: not before this time (back-off); sending: the claim's lease expires then.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a delivery task was last put on the queue for this row (the relay re-queues
    # rows whose task seems lost).
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The channel's id for the sent message (Telegram message_id, SMS gateway id).
    external_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)

    user: Mapped["User"] = relationship()  # noqa: F821
    ticket: Mapped["ServiceTicket | None"] = relationship()  # noqa: F821


class TelegramLinkCode(db.Model):
    """A one-time code for the deep link https://t.me/<bot>?start=<code>.

    Only the code's SHA-256 is stored; it works once, within its lifetime."""

    __tablename__ = "telegram_link_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
