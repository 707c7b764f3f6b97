"""analytics indexes

Closed tickets by closing time, timeline events by kind and time, completions by
decision time: what bench/analytics_bench.py needs at a million tickets (the cost, the
repeat faults and the technician activity of a period).

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        # Cost and repeat faults: tickets closed in a period.
        batch_op.create_index("ix_service_tickets_closed_at", ["closed_at"], unique=False)
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        # Technician activity: assignments, acceptances, declines, escalations in a period.
        batch_op.create_index("ix_ticket_events_kind_at", ["kind", "at"], unique=False)
    with op.batch_alter_table("service_completions", schema=None) as batch_op:
        # Cost (approval closes the ticket at the decision time) and rejection rates.
        batch_op.create_index("ix_service_completions_decided_at", ["decided_at"], unique=False)


def downgrade():
    with op.batch_alter_table("service_completions", schema=None) as batch_op:
        batch_op.drop_index("ix_service_completions_decided_at")
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_events_kind_at")
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_service_tickets_closed_at")
