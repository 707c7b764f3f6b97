"""People who sign in, their branches, and their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.enums import Role, TokenKind, enum_column
from app.models.types import UTCDateTime, new_id
from app import clock

user_branches = Table(
    "user_branches",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("customer_branches.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    # Set only by the bot's /start deep link or by an admin; a chat belongs to one user.
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)
    notify_telegram: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # "en", "ru", "uz" (app/i18n.py); None: the browser's language on pages, DEFAULT_LOCALE
    # in messages. Set on the profile page or by PATCH /api/users/me.
    locale: Mapped[str | None] = mapped_column(String(8))
    notify_sms: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    technician_id: Mapped[str | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="SET NULL"), unique=True
    )
    is_active_user: Mapped[bool] = mapped_column("is_active", Boolean, default=True, server_default="1")
    # Bumped at logout / deactivation / password change: signed cookies cannot be revoked.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, onupdate=clock.now)

    technician: Mapped["Technician | None"] = relationship()  # noqa: F821
    branches: Mapped[list["CustomerBranch"]] = relationship(  # noqa: F821
        secondary=user_branches, order_by="CustomerBranch.branch_code"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.is_active_user)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        """Admins and dispatchers see every ticket."""
        return self.role in (Role.ADMIN, Role.DISPATCHER)


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 is stored (see docs/tokens.md).

    `login` tokens (POST /api/auth/token) expire at `expires_at` and end with a password
    change; `service` tokens (named, issued by an admin for another system) never expire.
    Both end when revoked, when the user is deactivated, or by DELETE /api/users/{id}/tokens."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind), default=TokenKind.LOGIN,
                                            server_default=TokenKind.LOGIN.value)
    name: Mapped[str | None] = mapped_column(String(100))  # service tokens: what uses it ("CRM")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # login tokens only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
