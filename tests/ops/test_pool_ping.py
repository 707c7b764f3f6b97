"""The check of a pooled PostgreSQL connection before each request (db_timeouts' ping)
leaves the connection as it found it: no transaction opened and rolled back, so psycopg
keeps the statements it prepared for the queries every page repeats."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db


@pytest.mark.postgres_only
def test_the_check_before_each_request_keeps_the_prepared_statements_of_the_connection(app):
    with app.app_context():
        db.engine.dispose()  # one fresh connection, reused by every checkout below
        for _ in range(8):  # psycopg prepares a query on its 5th run on one connection
            with db.engine.connect() as conn:  # a checkout, checked as a request's is
                conn.execute(text("SELECT count(*) FROM users WHERE is_active")).scalar()
                conn.commit()  # as the request edge does
        with db.engine.connect() as conn:
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
            conn.commit()
        assert prepared >= 1
