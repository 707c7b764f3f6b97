"""working calendars and pauses of the resolution clock

`working_calendars` (name, IANA timezone, week of working intervals, holidays, country);
`customer_branches.calendar_id` (NULL: around the clock); the ticket's pause state
(`paused_at`, `pause_reason`, `paused_minutes_total`, `pause_alerted_at`) and every pause
in `ticket_pauses` (API.md, "Working calendars" and "Pausing the resolution clock").
Existing branches get no calendar and existing tickets keep their due times.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

REASONS = ("WAITING_PARTS", "NO_ACCESS", "STORE_REQUEST", "PRODUCT_BEING_MOVED", "OTHER")


def _reason(name):
    return sa.Column(name, sa.Enum(*REASONS, name="pausereason", native_enum=False, length=20), nullable=True)


def upgrade():
    op.create_table(
        "working_calendars",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("week", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("customer_branches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key("fk_customer_branches_calendar_id_working_calendars", "working_calendars",
                                    ["calendar_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_customer_branches_calendar_id", ["calendar_id"])

    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", app.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(_reason("pause_reason"))
        batch_op.add_column(sa.Column("paused_minutes_total", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("pause_alerted_at", app.models.types.UTCDateTime(), nullable=True))

    op.create_table(
        "ticket_pauses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Enum(*REASONS, name="pausereason", native_enum=False, length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("paused_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("paused_by_id", sa.String(length=32), nullable=True),
        sa.Column("technician_id", sa.String(length=32), nullable=True),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("resumed_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("resumed_by_id", sa.String(length=32), nullable=True),
        sa.Column("paused_minutes", sa.Integer(), nullable=True),
        sa.Column("wall_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["service_tickets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["paused_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resumed_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["branch_id"], ["customer_branches.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_pauses_ticket_paused", "ticket_pauses", ["ticket_id", "paused_at"])
    op.create_index("ix_ticket_pauses_paused_at", "ticket_pauses", ["paused_at"])


def downgrade():
    op.drop_index("ix_ticket_pauses_paused_at", table_name="ticket_pauses")
    op.drop_index("ix_ticket_pauses_ticket_paused", table_name="ticket_pauses")
    op.drop_table("ticket_pauses")
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_column("pause_alerted_at")
        batch_op.drop_column("paused_minutes_total")
        batch_op.drop_column("pause_reason")
        batch_op.drop_column("paused_at")
    with op.batch_alter_table("customer_branches", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_branches_calendar_id")
        batch_op.drop_constraint("fk_customer_branches_calendar_id_working_calendars", type_="foreignkey")
        batch_op.drop_column("calendar_id")
    op.drop_table("working_calendars")
