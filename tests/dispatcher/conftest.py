"""Fixtures for the dispatcher workspace: signed-in clients and a query counter."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from flask import g
from flask.testing import FlaskClient

from tests.factories import PASSWORD


class UserClient(FlaskClient):
    """A test client whose every request finds its user from its own session cookie.

    Tests hold an app context open, and a request reuses it, so Flask-Login's cached
    `g._login_user` would otherwise leak from one client's request into another's."""

    def open(self, *args, **kwargs):
        try:
            g.pop("_login_user", None)
        except RuntimeError:  # no app context: nothing cached
            pass
        return super().open(*args, **kwargs)


def new_client(app) -> UserClient:
    return UserClient(app, app.response_class, use_cookies=True)


def sign_in(client, user):
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def as_dispatcher(app, world):
    return sign_in(new_client(app), world.dispatcher)


@pytest.fixture
def signed_in(app):
    """signed_in(user) -> a test client with that user's session."""
    return lambda user: sign_in(new_client(app), user)


@pytest.fixture
def stranger(app):
    """A client that is not signed in."""
    return new_client(app)


def page_queries(statements):
    """What a page costs, leaving out the signed-in user's (re)loading, which the test
    session's identity map makes come and go."""
    return [s for s in statements if not s.startswith("SELECT users.")]


@contextmanager
def count_queries(engine):
    """Collects the SELECTs sent to the database (transaction control not counted)."""
    statements: list[str] = []

    def _before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _before)


@pytest.fixture
def queries(app):
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    return lambda: count_queries(engine)
