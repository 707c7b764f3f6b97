"""fewer indexes on tickets and events

Every index of `service_tickets` is written again whenever a ticket's technician
changes (PostgreSQL cannot make that a heap-only update), so an index nobody reads
slows every assignment, acceptance and escalation. Dropped:

- ix_service_tickets_status and ix_service_tickets_assigned_technician_id: the first
  column of ix_service_tickets_status_created and ix_service_tickets_tech_status, which
  answer the same lookups;
- ix_service_tickets_priority: four values, always asked for together with a status;
- ix_service_tickets_updated_at: no query looks tickets up by it (the board's change
  stamp is an aggregate over the tickets it shows);
- ix_service_tickets_subcategory_id: no query looks tickets up by subcategory alone
  (the app never deletes a subcategory, so the foreign key needs no index);
- ix_service_tickets_response_due_at and ix_service_tickets_resolution_due_at: only
  open tickets are compared with their due times (the board's "overdue only", the SLA
  sweep), and ix_service_tickets_status_created finds those: a few thousand among
  100,000, or all of them when everything is open, when a scan is cheaper anyway;
- ix_ticket_events_kind: the first column of ix_ticket_events_kind_at;
- ix_ticket_events_at: events are read per ticket (ix_ticket_events_ticket_at) or per
  kind and period (analytics, ix_ticket_events_kind_at), never by time alone.

And two made partial, so that open tickets (which have neither) write no entry:
ix_service_tickets_closed_at (closed tickets by closing time, for analytics; a range
on closed_at implies it is not NULL, so the queries still use it) and
ix_service_tickets_external_id (tickets created through the API by another system).

The SLA catch-up sweep of bench/sla_sweep.py (20,000 escalations) writes 9 x 20,000
fewer index entries for tickets (16 -> 7 per ticket) and 2 x 20,000 fewer for events.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TICKET_INDEXES = {
    "ix_service_tickets_status": ["status"],
    "ix_service_tickets_assigned_technician_id": ["assigned_technician_id"],
    "ix_service_tickets_priority": ["priority"],
    "ix_service_tickets_updated_at": ["updated_at"],
    "ix_service_tickets_subcategory_id": ["subcategory_id"],
    "ix_service_tickets_response_due_at": ["response_due_at"],
    "ix_service_tickets_resolution_due_at": ["resolution_due_at"],
}


PARTIAL = {"ix_service_tickets_closed_at": "closed_at", "ix_service_tickets_external_id": "external_id"}


def upgrade():
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        for name in TICKET_INDEXES:
            batch_op.drop_index(name)
        for name, column in PARTIAL.items():
            batch_op.drop_index(name)
            where = sa.text(f"{column} IS NOT NULL")
            batch_op.create_index(name, [column], unique=False, postgresql_where=where, sqlite_where=where)
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_events_kind")
        batch_op.drop_index("ix_ticket_events_at")


def downgrade():
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_events_kind", ["kind"], unique=False)
        batch_op.create_index("ix_ticket_events_at", ["at"], unique=False)
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        for name, column in PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [column], unique=False)
        for name, columns in TICKET_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
