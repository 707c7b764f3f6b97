"""covering indexes for one unit's tickets and their completions (the unit page)

The unit page of a unit with a long history (3,333 tickets in bench/equipment.py, 1M
tickets) read every one of its tickets from the heap for the summary aggregate, probed
the completions' heap once per ticket, walked the whole tickets-by-date index to find the
unit's latest past tickets, and hash-joined a year of everybody's completions for the
costs by month (bench/RESULTS.md, "Unit page: covering indexes (migration 0018)").

- `ix_service_tickets_equipment_created` on service_tickets (equipment_id, created_at),
  replacing `ix_service_tickets_equipment_id` (0015): a unit's tickets newest first
  (the page's open and past lists stop after their limit), and on PostgreSQL
  INCLUDE (id, status, source), so the summary (count, open, faults in 90 days) and the
  join to completions are answered from the index alone. Partial: tickets without a
  unit are not in it (they pay nothing on insert). It still serves `equipment_id = ?`
  (the foreign key's ON DELETE SET NULL, the QR report's open ticket).
- `ix_service_completions_ticket_id` (0001) rebuilt on PostgreSQL with
  INCLUDE (approval_status, completed_at, decided_at, parts_cost, labor_cost, total_cost):
  the unit's approved work (last service, cost in 12 months, costs by month) from the
  index alone. Same key, same name; SQLite keeps the plain index.

No HOT update is lost: `status` is indexed already (ix_service_tickets_status_created),
as is `decided_at` (ix_service_completions_decided_at), and approval_status, costs,
created_at and source do not change after the decision / creation.
SQLite: the plain (equipment_id, created_at) index (SQLite has no INCLUDE).

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TICKET_INCLUDE = ["id", "status", "source"]
COMPLETION_INCLUDE = ["approval_status", "completed_at", "decided_at", "parts_cost", "labor_cost", "total_cost"]


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_index("ix_service_tickets_equipment_created", "service_tickets", ["equipment_id", "created_at"],
                    postgresql_include=TICKET_INCLUDE,
                    postgresql_where=sa.text("equipment_id IS NOT NULL"),
                    sqlite_where=sa.text("equipment_id IS NOT NULL"))
    op.drop_index("ix_service_tickets_equipment_id", table_name="service_tickets")
    if postgres:
        op.drop_index("ix_service_completions_ticket_id", table_name="service_completions")
        op.create_index("ix_service_completions_ticket_id", "service_completions", ["ticket_id"],
                        postgresql_include=COMPLETION_INCLUDE)
        op.execute("ANALYZE service_tickets")
        op.execute("ANALYZE service_completions")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.drop_index("ix_service_completions_ticket_id", table_name="service_completions")
        op.create_index("ix_service_completions_ticket_id", "service_completions", ["ticket_id"])
    op.create_index("ix_service_tickets_equipment_id", "service_tickets", ["equipment_id"])
    op.drop_index("ix_service_tickets_equipment_created", table_name="service_tickets")
