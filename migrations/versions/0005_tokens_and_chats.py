"""tokens that end, and one user per Telegram chat

API tokens gain a kind (`login`: from POST /api/auth/token, expires; `service`: named,
issued by an admin for another system, never expires), a name (service tokens) and an
expiry (login tokens). See docs/tokens.md.

Data, on the way up:
- Login tokens that exist already get an expiry of 90 days (the API_TOKEN_DAYS default)
  from the time of this migration, so a client that used one keeps working long enough
  for its operator to move it to a service token; none lives for ever any more.
- Tokens of users who are deactivated now are revoked: deactivation ends tokens for good,
  and a reactivation after this migration must not bring them back.
- `users.telegram_chat_id` becomes unique. A chat id shared by several users (possible
  before: anybody could PATCH any chat id onto themselves) is cleared on EVERY user who
  shares it, so nobody keeps a contested chat: whoever owns the chat links it again with
  the bot's /start deep link from the profile page. Telegram messages not yet sent to
  them are cancelled when the worker claims them (the chat is gone).

Revision ID: 0005
Revises: 0004
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TOKEN_DAYS = 90  # the API_TOKEN_DAYS default at the time of this migration

users = sa.table("users", sa.column("id", sa.String), sa.column("telegram_chat_id", sa.String),
                 sa.column("is_active", sa.Boolean))
tokens = sa.table("api_tokens", sa.column("user_id", sa.String), sa.column("kind", sa.String),
                  sa.column("expires_at", sa.DateTime), sa.column("revoked_at", sa.DateTime))


def upgrade():
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # the columns hold naive UTC

    # One user per chat: nobody keeps a chat that several users claim (see above).
    shared = (sa.select(users.c.telegram_chat_id).where(users.c.telegram_chat_id.is_not(None))
              .group_by(users.c.telegram_chat_id).having(sa.func.count() > 1))
    op.execute(users.update().where(users.c.telegram_chat_id.in_(shared)).values(telegram_chat_id=None))
    op.execute(users.update().where(users.c.telegram_chat_id == "").values(telegram_chat_id=None))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_telegram_chat_id")
        batch_op.create_index("ix_users_telegram_chat_id", ["telegram_chat_id"], unique=True)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "kind", sa.Enum("login", "service", name="tokenkind", native_enum=False, length=20),
            server_default="login", nullable=False))
        batch_op.add_column(sa.Column("name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("expires_at", app.models.types.UTCDateTime(), nullable=True))

    op.execute(tokens.update().where(tokens.c.expires_at.is_(None), tokens.c.kind == "login")
               .values(expires_at=now + timedelta(days=TOKEN_DAYS)))
    inactive = sa.select(users.c.id).where(users.c.is_active.is_(sa.false()))
    op.execute(tokens.update().where(tokens.c.revoked_at.is_(None), tokens.c.user_id.in_(inactive))
               .values(revoked_at=now))


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("name")
        batch_op.drop_column("kind")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_telegram_chat_id")
        batch_op.create_index("ix_users_telegram_chat_id", ["telegram_chat_id"], unique=False)
