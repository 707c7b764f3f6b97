"""The database down or frozen (issue 13, items 8 and 9): signed-in pages answer the
503 page fast instead of a bare 500 or a hang, /readyz says the database is what is
down, the API answers JSON, and everything works again once the database is back.

The faults are played by a TCP relay in front of the suite's PostgreSQL
(tests/ops/pgproxy.py), with small limits so the test stays short."""
from __future__ import annotations

import time

import pytest

from app.extensions import db
from tests.conftest import new_client, sign_in
from tests.ops.pgproxy import PgProxy

LIMITS = {"DB_CONNECT_TIMEOUT": 1, "DB_STATEMENT_TIMEOUT": 1, "DB_ANSWER_GRACE": 1,
          "DB_PING_TIMEOUT": 1, "DB_READY_TIMEOUT": 1}
FAST = 6.0  # seconds: ping (1) + a new connection (1) + rendering, with room for a busy machine


@pytest.fixture
def proxied(app, world):
    """A second app on the same database, reached through the relay."""
    from app import create_app

    proxy = PgProxy()
    config = {k: app.config[k] for k in app.config if k.isupper()}
    config.update(LIMITS, SQLALCHEMY_DATABASE_URI=proxy.url(database=app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]),
                  SQLALCHEMY_ENGINE_OPTIONS={})
    other = create_app(config)
    yield other, proxy
    proxy.close()
    with other.app_context():
        db.engine.dispose()


def _timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


@pytest.mark.postgres_only
@pytest.mark.parametrize("fault", ["freeze", "stop"])
def test_signed_in_pages_answer_the_503_page_fast_while_the_database_is_down_and_work_again_after(
        proxied, world, fault):
    other, proxy = proxied
    client = sign_in(new_client(other), world.dispatcher)
    assert client.get("/dispatcher/tickets").status_code == 200

    getattr(proxy, fault)()
    r, took = _timed(lambda: client.get("/dispatcher/tickets?status=NEW"))
    body = r.get_data(as_text=True)
    assert r.status_code == 503, body[:300]
    assert took < FAST, f"the page waited {took:.1f} s for a {fault} database"
    assert "temporarily unavailable" in body and "Try again" in body
    assert 'href="/dispatcher/tickets?status=NEW"' in body  # "Try again" reloads the same page
    assert "Traceback" not in body and "psycopg" not in body
    assert r.headers["Retry-After"]

    # The API answers JSON, never an HTML page or a hang.
    r, took = _timed(lambda: client.get("/api/tickets", headers={"Authorization": "Bearer nope"}))
    assert r.status_code == 503 and r.is_json and "try again" in r.get_json()["error"]
    assert took < FAST

    proxy.resume()
    deadline = time.monotonic() + 10
    while True:  # the pool drops the dead connections; the next request opens fresh ones
        r = client.get("/dispatcher/tickets")
        if r.status_code == 200 or time.monotonic() > deadline:
            break
    assert r.status_code == 200
    assert world.dispatcher.name in r.get_data(as_text=True)  # still signed in


@pytest.mark.postgres_only
def test_readyz_says_the_database_is_down_within_its_limit_when_it_is_frozen(proxied):
    other, proxy = proxied
    client = new_client(other)
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["checks"]["database"] == "ok"

    proxy.freeze()
    r, took = _timed(lambda: client.get("/readyz"))
    assert r.status_code == 503
    assert r.get_json()["checks"] == {"database": "unavailable", "queue": "ok"}
    assert took < FAST, f"/readyz waited {took:.1f} s"

    proxy.resume()
    assert client.get("/readyz").status_code == 200


@pytest.mark.postgres_only
def test_a_statement_longer_than_the_limit_is_cancelled_by_the_server_and_answers_503(proxied, world):
    """Not frozen, just slow: PostgreSQL's own statement_timeout ends it."""
    from sqlalchemy import text

    other, _ = proxied
    with other.test_request_context("/"):
        with pytest.raises(Exception) as caught:
            db.session.execute(text("SELECT pg_sleep(3)"))
        assert "statement timeout" in str(caught.value)
        db.session.rollback()
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the connection is still good
