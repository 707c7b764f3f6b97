"""a trigram index for ticket search (PostgreSQL)

Search (`q` on the board, the ticket list and GET /api/tickets) matches a substring of
the ticket number, the external id or the description, in any case. As ILIKE '%word%'
over three columns it read every ticket: 140-175 ms at 100k tickets, seconds at 1M.

pg_trgm's GIN index answers ILIKE '%word%' from the trigrams of the word. One index
over the three fields joined by U+001F (services/ticket_queries.SEARCH_DOCUMENT, which
must stay the same text as below) costs one index entry set per ticket write instead of
three. docs/search.md has the figures and what changes for 1-2 character queries.

The extension must be allowed: CREATE EXTENSION needs a superuser, or (PostgreSQL 13+)
a database owner, pg_trgm being a trusted extension. If it cannot be created the
migration stops with a message that says what to ask for; nothing else changes.

SQLite has no index for this: search scans (docs/search.md).

Revision ID: 0012
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_service_tickets_search"
DOCUMENT = ("((((ticket_number::text || chr(31)) || COALESCE(external_id, ''::character varying)::text)"
    " || chr(31)) || description)")


def _ensure_pg_trgm(bind) -> None:
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return
    if not bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        raise RuntimeError(
            "Migration 0012 needs the PostgreSQL extension pg_trgm, which this server does not have. "
            "Install the PostgreSQL contrib package on the database server, then run the upgrade again.")
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        raise RuntimeError(
            "Migration 0012 needs the PostgreSQL extension pg_trgm and this database user may not create it "
            f"({str(exc.orig).splitlines()[0]}). Ask the database administrator to run "
            "CREATE EXTENSION pg_trgm; in this database (or to make this user the database's owner), "
            "then run the upgrade again.") from None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _ensure_pg_trgm(bind)
    # IF NOT EXISTS: on a big table the index may have been built beforehand, CONCURRENTLY
    # (docs/search.md), so that writes did not wait for it.
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON service_tickets USING gin ({DOCUMENT} gin_trgm_ops)")
    # Statistics of the indexed expression, which PostgreSQL gathers only from now on: without
    # them the planner guesses 100 matches for every word and reads all ~130,000 tickets of
    # a common word at 1M (0.65 s) where walking the newest ones fills a page in 1 ms.
    op.execute("ANALYZE service_tickets")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    # pg_trgm stays: other objects may use it, and dropping it needs the rights creating it did.
