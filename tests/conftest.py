"""Test fixtures: a real database per backend (SQLite always; PostgreSQL where
reachable, and always in CI), emptied after each test; huey in immediate mode; a
movable clock; test clients that each keep to their own signed-in user.

Tests that take the `app` fixture (directly or through `client`, `api`, `db_session`
...) run once per backend. Mark a test `sqlite_only` or `postgres_only` to pin it.
Outside CI an unreachable PostgreSQL deselects its tests (they do not run, and say
so in the summary); with CI=true they run and fail.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from datetime import datetime, timezone

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient

os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(tempfile.gettempdir(), f"evercold-test-huey-{os.getpid()}.db"))
os.environ.pop("REDIS_URL", None)  # the app under test queues in immediate mode

CI = os.environ.get("CI", "").lower() == "true"

from app.i18n import compile_catalogues  # noqa: E402

compile_catalogues()  # `make test` compiled them already; a bare `pytest` may not have
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pg_address(url: str) -> tuple[str, int]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


PG_UP = _reachable(*_pg_address(PG_URL))  # the server the suite will use, wherever it is


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite", "postgresql"]
        if metafunc.definition.get_closest_marker("sqlite_only"):
            backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("postgres_only"):
            backends = ["postgresql"]
        metafunc.parametrize("backend", backends, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    if PG_UP or CI:
        return
    keep, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("backend") == "postgresql":
            dropped.append(item)
        elif item.get_closest_marker("postgres_only"):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def backend(request):
    return request.param


def _reset_pg_schema(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestConfig

    tmp = tmp_path_factory.mktemp(f"app-{backend}")
    if backend == "sqlite":
        uri = f"sqlite:///{tmp / 'test.db'}"
    else:
        uri = PG_URL
        _reset_pg_schema(uri)
    application = create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": uri,
        "UPLOAD_DIR": str(tmp / "uploads"),
    })
    application.test_client_class = UserClient  # the `client` fixture, app.test_client() anywhere
    with application.app_context():
        upgrade()  # the real migrations, on each backend
    yield application
    from app.extensions import db

    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clock_reset():
    from app import clock

    clock.set_now(None)
    yield
    clock.set_now(None)


def empty_database(application) -> None:
    """What a test left behind goes: every row, the rate-limit counters, the uploads."""
    from app.extensions import db, limiter

    with application.app_context():
        db.session.rollback()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            # DELETE, children first, on both backends: on PostgreSQL a TRUNCATE of every
            # table costs ~0.45 s per test, DELETE of the few rows a test made ~0.01 s.
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
        db.session.remove()
        try:
            limiter.reset()
        except Exception:
            pass
    shutil.rmtree(application.config["UPLOAD_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _clean_state(request):
    yield
    if "app" not in request.fixturenames:
        return
    empty_database(request.getfixturevalue("app"))


@pytest.fixture
def ctx(app):
    """An app context with a clean session; commit with db.session.commit()."""
    with app.app_context():
        yield
        from app.extensions import db

        db.session.rollback()
        db.session.remove()


@pytest.fixture
def client(app):
    return new_client(app)


class UserClient(FlaskClient):
    """A test client whose every request finds its user from its own session cookie.

    A request made while the test holds an app context (`ctx`, `world` ...) reuses that
    context and its `g`, where Flask-Login caches the request's user: without this, the
    user of one client's request would answer another client's next request (and the
    language one request chose, another's)."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("_flask_babel", None)  # and Flask-Babel's language, chosen per request
        return super().open(*args, **kwargs)


def new_client(app) -> UserClient:
    """A signed-out UserClient of any app (also one a test makes with create_app)."""
    return UserClient(app, app.response_class, use_cookies=True)


def sign_in(client, user):
    """Sign `client` in as `user` through the real login form."""
    from tests.factories import PASSWORD

    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def signed_in(app):
    """signed_in(user) -> a new test client with that user's session."""
    return lambda user: sign_in(new_client(app), user)


@pytest.fixture
def freeze(ctx):
    """Freeze the clock: freeze(datetime) or freeze("2026-11-24T09:00:00Z")."""
    from app import clock

    def _freeze(value):
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        clock.set_now(value)
        return value

    return _freeze


@pytest.fixture
def limiter_clock(monkeypatch):
    """limiter_clock(seconds): move the rate limiter's now forward (the `limits`
    package's memory storage and strategies read time.time()); nothing else moves."""
    import time
    from types import SimpleNamespace

    import limits.storage.memory
    import limits.strategies

    offset = [0.0]
    fake = SimpleNamespace(time=lambda: time.time() + offset[0], monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(limits.strategies, "time", fake)

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


@pytest.fixture
def world(ctx):
    """A small, committed world: categories, a customer with two branches, technicians,
    and a user of every role (see tests/factories.py)."""
    from tests.factories import build_world

    return build_world()


@pytest.fixture
def api(client, ctx):
    """api.as_(user).get/post/patch/delete(path, json=...) with a bearer token."""
    from tests.factories import ApiClient

    return ApiClient(client)
