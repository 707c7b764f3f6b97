"""a technician's own labour rate

`technicians.labor_rate`: the rate per hour (in CURRENCY) a dispatcher sets for one
technician; NULL means the company's rate (DEFAULT_LABOR_RATE). The technician's
completion form uses it read-only (docs/time-and-money.md). No data moves: every
existing technician keeps the company's rate.

Revision ID: 0008
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.add_column(sa.Column("labor_rate", sa.Numeric(10, 2), nullable=True))


def downgrade():
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_column("labor_rate")
