"""Fixtures for the dispatcher workspace: signed-in clients and a query counter
(`signed_in` comes from tests/conftest.py)."""
from __future__ import annotations

import pytest

from tests.conftest import new_client, sign_in
from tests.helpers import count_statements


@pytest.fixture
def as_dispatcher(app, world):
    return sign_in(new_client(app), world.dispatcher)


@pytest.fixture
def stranger(app):
    """A client that is not signed in."""
    return new_client(app)


def page_queries(statements):
    """What a page costs, leaving out the signed-in user's (re)loading, which the test
    session's identity map makes come and go."""
    return [s for s in statements if not s.startswith("SELECT users.")]


@pytest.fixture
def queries(app):
    """queries() -> a context manager collecting the SELECTs sent (transaction control
    not counted)."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    return lambda: count_statements(engine, only=("SELECT",))
