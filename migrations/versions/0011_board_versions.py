"""the board's change counters

`board_versions`: one row per branch, and "*" for what every board shows, bumped in
the same transaction as any change a board could show (services/board_version.py).
The idle board poll reads their sum instead of aggregating the tickets.

Revision ID: 0011
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "board_versions",
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_board_versions")),
    )
    # A row per existing branch now, so no writer has to insert one under load.
    op.execute(table.insert().from_select(
        ["scope", "version"], sa.select(sa.column("id"), sa.literal(0)).select_from(sa.table("customer_branches"))))
    op.execute(table.insert().values(scope="*", version=0))


def downgrade():
    op.drop_table("board_versions")
