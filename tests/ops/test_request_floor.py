"""The request floor (issue 16, item 5): what every request pays. A request that never
touches the database opens no ORM session; Flask-Limiter checks only where a limit
is; the session cookie is re-signed once a minute, not on every poll; the idle
board poll still answers fast and right when the database goes away and comes back."""
from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.conftest import new_client, sign_in
from tests.helpers import count_statements
from tests.ops.pgproxy import PgProxy

COOKIE = "session"


@pytest.fixture
def app_with(app):
    """app_with(SETTING=value, ...) -> an app like `app` (same database) with settings changed."""
    from app import create_app

    made = []

    def _make(**overrides):
        other = create_app({**{k: v for k, v in app.config.items() if k.isupper()}, **overrides})
        made.append(other)
        return other

    yield _make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def test_a_request_that_needs_no_database_opens_no_session_and_sends_nothing(app):
    begun = []

    def _begun(session, transaction):
        begun.append(transaction)

    with app.app_context():
        engine = db.engine
    event.listen(db.session, "after_transaction_create", _begun)
    try:
        with count_statements(engine) as sent:
            r = new_client(app).get("/healthz")
    finally:
        event.remove(db.session, "after_transaction_create", _begun)
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    assert r.headers["X-Request-Id"] and r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert sent == [] and begun == []  # no session, no transaction to commit at the edge


def test_the_limiter_checks_only_where_a_limit_is_and_sign_in_is_still_throttled(app, world):
    from app.extensions import limiter

    check = type(limiter)._check_request_limit
    assert not any(getattr(f, "__func__", None) is check for f in app.before_request_funcs[None])
    # Sign-in failures are still counted and throttled (the decorated limits).
    client = new_client(app)
    try:
        codes = [client.post("/login", data={"email": world.manager.email, "password": "wrong"}).status_code
                 for _ in range(12)]
    finally:
        with app.app_context():
            try:
                limiter.reset()  # the next test signs in from the same address
            except Exception:  # noqa: BLE001  (a storage an earlier test took away; it resets its own)
                pass
    assert codes[-1] == 429, codes


def _aged_cookie(app, cookie: str, seconds_ago: int) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(cookie)
    signer = serializer.make_signer(serializer.salt)
    signer.get_timestamp = lambda: int(time.time()) - seconds_ago
    return signer.sign(serializer.dump_payload(data)).decode()


def _sets_cookie(r) -> bool:
    return any(h.startswith(COOKIE + "=") for h in r.headers.getlist("Set-Cookie"))


def test_the_session_cookie_is_re_signed_once_a_minute_not_on_every_request(app, app_with, world):
    client = sign_in(new_client(app), world.dispatcher)
    assert client.get("/dispatcher/tickets").status_code == 200  # the page's CSRF token is in it now
    cookie = client.get_cookie(COOKIE).value

    fresh = new_client(app)
    fresh.set_cookie(COOKIE, _aged_cookie(app, cookie, 5))
    r = fresh.get("/dispatcher/tickets")
    assert r.status_code == 200 and not _sets_cookie(r)  # signed 5 s ago: nothing to move

    minute = new_client(app)
    minute.set_cookie(COOKIE, _aged_cookie(app, cookie, 61))
    r = minute.get("/dispatcher/tickets")
    assert r.status_code == 200 and _sets_cookie(r)  # the idle limit restarts from now
    assert minute.get("/dispatcher/tickets").status_code == 200

    every = app_with(SESSION_REFRESH_SECONDS=0)  # Flask's own way: every answer
    each = new_client(every)
    each.set_cookie(COOKIE, _aged_cookie(every, cookie, 1))
    assert _sets_cookie(each.get("/dispatcher/tickets"))


def test_a_changed_session_is_always_sent(app, world):
    client = sign_in(new_client(app), world.dispatcher)
    assert client.get("/dispatcher/tickets").status_code == 200
    r = client.post("/logout")
    assert r.status_code == 302 and _sets_cookie(r)
    assert client.get("/dispatcher/tickets").status_code == 302


def test_the_json_access_line_keeps_its_fields_and_its_clock():
    from app.logging_setup import JsonFormatter

    fmt = JsonFormatter()
    lines = []
    for created, msecs in ((1_800_000_000.25, 250), (1_800_000_000.999, 999), (1_800_000_001.004, 4)):
        record = logging.LogRecord("evercold.request", logging.INFO, __file__, 1, "%s %s %s",
                                   ("GET", "/healthz", 200), None)
        record.created, record.msecs = created, msecs
        for key, value in {"request_id": "abc", "method": "GET", "path": "/healthz", "status": 200,
                           "ms": 0.4, "remote": "127.0.0.1"}.items():
            setattr(record, key, value)
        lines.append(json.loads(fmt.format(record)))
    assert [line["ts"] for line in lines] == ["2027-01-15T08:00:00.250Z", "2027-01-15T08:00:00.999Z",
                                              "2027-01-15T08:00:01.004Z"]
    assert lines[0] | {"ts": None} == {"ts": None, "level": "INFO", "logger": "evercold.request",
                                       "msg": "GET /healthz 200", "request_id": "abc", "method": "GET",
                                       "path": "/healthz", "status": 200, "ms": 0.4, "remote": "127.0.0.1"}


# --- the idle poll when the database goes away ------------------------------------------

LIMITS = {"DB_CONNECT_TIMEOUT": 1, "DB_STATEMENT_TIMEOUT": 1, "DB_ANSWER_GRACE": 1,
          "DB_PING_TIMEOUT": 1, "DB_READY_TIMEOUT": 1}
FAST = 6.0


@pytest.mark.postgres_only
@pytest.mark.parametrize("fault", ["freeze", "stop"])
def test_the_idle_poll_answers_the_503_fast_while_the_database_is_down_and_204_again_after(app, world, fault):
    """The poll's one statement is its own ping: a dead or frozen connection fails it
    within the ping's limit, and the poll takes the ordinary path (the 503 page)."""
    from app import create_app

    proxy = PgProxy()
    config = {k: app.config[k] for k in app.config if k.isupper()}
    config.update(LIMITS, SQLALCHEMY_ENGINE_OPTIONS={}, SQLALCHEMY_DATABASE_URI=proxy.url(
        database=app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]))
    other = create_app(config)
    try:
        client = sign_in(new_client(other), world.dispatcher)
        page = client.get("/dispatcher/tickets", headers={"HX-Request": "true"}).get_data(as_text=True)
        stamp = page.split('data-stamp="', 1)[1].split('"', 1)[0]
        poll = f"/dispatcher/tickets/poll?stamp={stamp}"
        assert client.get(poll).status_code == 204

        getattr(proxy, fault)()
        started = time.monotonic()
        r = client.get(poll)
        assert r.status_code == 503 and time.monotonic() - started < FAST

        proxy.resume()
        deadline = time.monotonic() + 10
        while (r := client.get(poll)).status_code != 204 and time.monotonic() < deadline:
            pass
        assert r.status_code == 204
    finally:
        proxy.close()
        with other.app_context():
            db.engine.dispose()
