"""the SLA warning moments, stored next to the due times

`response_warn_at` and `resolution_warn_at`: when each SLA clock of a ticket turns
amber (SLA_WARNING_FRACTION of its window). services/sla_clock.py computes them with the
due times and moves them with them; every reader (board, technician queue, sweep,
analytics, filters) compares with these columns. Stored, not derived in SQL, because
under a working calendar the share of a window is a share of working time.

Existing tickets get createdAt + SLA_WARNING_FRACTION (the environment's, default 0.75)
x (due - createdAt): exactly what every reader computed until now.

Revision ID: 0006
Revises: 0005
"""
import os

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _fraction() -> float:
    try:
        return float(os.environ.get("SLA_WARNING_FRACTION") or 0.75)
    except ValueError:
        return 0.75


def upgrade():
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_warn_at", app.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolution_warn_at", app.models.types.UTCDateTime(), nullable=True))
    fraction = _fraction()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(
            "UPDATE service_tickets SET "
            "response_warn_at = created_at + (response_due_at - created_at) * CAST(:f AS double precision), "
            "resolution_warn_at = created_at + (resolution_due_at - created_at) * CAST(:f AS double precision)"
        ).bindparams(f=fraction))
    else:
        # SQLite keeps the naive UTC text SQLAlchemy writes: 'YYYY-MM-DD HH:MM:SS.ffffff'.
        def moment(due: str) -> str:
            return (f"strftime('%Y-%m-%d %H:%M:%f', julianday(created_at) + "
                    f"(julianday({due}) - julianday(created_at)) * :f) || '000'")
        op.execute(sa.text(
            f"UPDATE service_tickets SET response_warn_at = {moment('response_due_at')}, "
            f"resolution_warn_at = {moment('resolution_due_at')}"
        ).bindparams(f=fraction))
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.alter_column("response_warn_at", existing_type=app.models.types.UTCDateTime(), nullable=False)
        batch_op.alter_column("resolution_warn_at", existing_type=app.models.types.UTCDateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_column("resolution_warn_at")
        batch_op.drop_column("response_warn_at")
