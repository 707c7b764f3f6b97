"""notifications delivery: attempt time, per-user listing index, Telegram link codes

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_attempt_at", app.models.types.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_notifications_user_channel_created", ["user_id", "channel", "created_at"],
                              unique=False)

    op.create_table(
        "telegram_link_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", app.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_telegram_link_codes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_telegram_link_codes_code_hash")),
    )
    with op.batch_alter_table("telegram_link_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_link_codes_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("telegram_link_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_link_codes_user_id"))
    op.drop_table("telegram_link_codes")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_channel_created")
        batch_op.drop_column("last_attempt_at")
