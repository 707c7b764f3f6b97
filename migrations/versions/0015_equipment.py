"""equipment: units, their history, and the ticket's unit, source and plan

`equipment` (one row per unit, with its report token), `equipment_events` (its history),
and on `service_tickets`: `equipment_id` (nullable, indexed), `source` (where the ticket
came from) and `maintenance_plan_id` (nullable; its foreign key comes with the plans'
table). docs/equipment.md has the decisions.

Existing tickets get a `source` from who created them: a store manager's are STORE; a
dispatcher's or admin's are API when that user holds a service token (the account another
system uses), else DISPATCHER; a ticket with no recorded creator is DISPATCHER when a
dispatcher handled it, else SYSTEM.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KINDS = ("COLD_ROOM", "DISPLAY_CASE", "FREEZER", "CONDENSING_UNIT", "ICE_MACHINE", "OTHER")
SOURCES = ("STORE", "DISPATCHER", "API", "QR", "ALARM", "PLAN", "SYSTEM")


def upgrade():
    op.create_table(
        "equipment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("asset_tag", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.Enum(*KINDS, name="equipmentkind", native_enum=False, length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("manufacturer", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("serial_number", sa.String(length=100), nullable=True),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("refrigerant", sa.String(length=10), nullable=True),
        sa.Column("charge_kg", sa.Numeric(10, 3), nullable=True),
        sa.Column("leak_detection", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("replacement_cost", sa.Numeric(12, 2), nullable=True),
        sa.Column("sensor_id", sa.String(length=100), nullable=True),
        sa.Column("setpoint_c", sa.Numeric(5, 1), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("report_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["customer_branches.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset_tag"),
        sa.UniqueConstraint("report_token"),
    )
    op.create_index("ix_equipment_branch_tag", "equipment", ["branch_id", "asset_tag"])
    op.create_index("ux_equipment_sensor_id", "equipment", ["sensor_id"], unique=True,
                    postgresql_where=sa.text("sensor_id IS NOT NULL"), sqlite_where=sa.text("sensor_id IS NOT NULL"))

    op.create_table(
        "equipment_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("equipment_id", sa.String(length=32), nullable=False),
        sa.Column("at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["equipment_id"], ["equipment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_equipment_events_unit_at", "equipment_events", ["equipment_id", "at"])

    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("equipment_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column(
            "source", sa.Enum(*SOURCES, name="ticketsource", native_enum=False, length=20),
            server_default="DISPATCHER", nullable=False))
        batch_op.add_column(sa.Column("maintenance_plan_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key("fk_service_tickets_equipment_id_equipment", "equipment",
                                    ["equipment_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_service_tickets_equipment_id", ["equipment_id"])

    # Where the existing tickets came from, by their creator's role (see the docstring).
    op.execute(sa.text(
        "UPDATE service_tickets SET source = CASE "
        " WHEN created_by_id IS NULL THEN (CASE WHEN dispatcher_id IS NULL THEN 'SYSTEM' ELSE 'DISPATCHER' END)"
        " WHEN (SELECT role FROM users WHERE users.id = service_tickets.created_by_id) = 'store_manager'"
        "  THEN 'STORE'"
        " WHEN EXISTS (SELECT 1 FROM api_tokens WHERE api_tokens.user_id = service_tickets.created_by_id"
        "  AND api_tokens.kind = 'service') THEN 'API'"
        " ELSE 'DISPATCHER' END"))


def downgrade():
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_service_tickets_equipment_id")
        batch_op.drop_constraint("fk_service_tickets_equipment_id_equipment", type_="foreignkey")
        batch_op.drop_column("maintenance_plan_id")
        batch_op.drop_column("source")
        batch_op.drop_column("equipment_id")
    op.drop_index("ix_equipment_events_unit_at", table_name="equipment_events")
    op.drop_table("equipment_events")
    op.drop_index("ux_equipment_sensor_id", table_name="equipment")
    op.drop_index("ix_equipment_branch_tag", table_name="equipment")
    op.drop_table("equipment")
