"""SQLite as a real multi-user database: WAL, a busy timeout, foreign keys, a page
cache of SQLITE_CACHE_MIB per connection, and write transactions that take the lock
up front.

In WAL mode a transaction that reads and then writes fails at once with "database
is locked" if another writer committed in between (the busy timeout does not help).
Taking the write lock at BEGIN (BEGIN IMMEDIATE) makes writers queue instead.
"""
from sqlalchemy import event


def install_sqlite_pragmas(app):
    from app.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    with app.app_context():
        engine = db.engine
    cache_kib = int(app.config.get("SQLITE_CACHE_MIB", 32)) * 1024

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # A page cache of its own per connection (SQLite's default is 2 MiB: a big
        # write spills pages to the WAL before commit), and temporary tables (the SLA
        # sweep's working set) in memory, not in a file.
        cur.execute(f"PRAGMA cache_size=-{cache_kib}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()
        # Unicode case folding for ticket search (services/ticket_queries.search_condition):
        # SQLite's lower() and LIKE fold ASCII only, PostgreSQL's ILIKE folds 'Холодильник'.
        dbapi_conn.create_function("evercold_fold", 1, _fold, deterministic=True)

    outside = app.config.get("SQLITE_BEGIN_OUTSIDE_REQUEST", "IMMEDIATE")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(f"BEGIN {_begin_mode(outside)}")


def _fold(value):
    return value.lower() if isinstance(value, str) else value


def _begin_mode(outside: str) -> str:
    """Reads (GET/HEAD) begin deferred so they never wait for writers; everything
    else takes the write lock at BEGIN. Tests read deferred outside requests."""
    from flask import g, has_request_context, request

    if has_request_context():
        if g.get("sqlite_immediate"):  # a GET that writes (the cron sweep) opts in
            return "IMMEDIATE"
        return "DEFERRED" if request.method in ("GET", "HEAD", "OPTIONS") else "IMMEDIATE"
    return outside
