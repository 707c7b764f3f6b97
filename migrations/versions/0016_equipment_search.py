"""trigram indexes for equipment search (PostgreSQL)

`q` on GET /api/equipment matches a substring of the asset tag, name, serial number,
manufacturer or model, in any case (ILIKE '%word%' on each, OR-ed). Without an index a
word that few units have reads every unit: 50 ms p50, 91 ms p95 at 20,000 units
(bench/equipment.py, bench/RESULTS.md "Equipment (issue 18)"). pg_trgm's GIN index on
each of the five columns lets PostgreSQL answer from the trigrams (a BitmapOr of the
five); a common word still walks the asset-tag order and stops at the page's end.
Units are written rarely, so five small indexes cost little. pg_trgm is there since
0012 (its check is repeated: a database may have dropped it). SQLite: no change.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = ("asset_tag", "name", "serial_number", "manufacturer", "model")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if not bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    for column in COLUMNS:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_equipment_{column}_trgm ON equipment "
                   f"USING gin ({column} gin_trgm_ops)")
    op.execute("ANALYZE equipment")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_equipment_{column}_trgm")
