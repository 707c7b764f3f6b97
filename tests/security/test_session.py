"""The session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS; a fresh session at
sign-in; signing out ends it for good (a copied cookie is refused afterwards); an idle
session expires (the signed cookie's timestamp is checked, and renewed on each request)."""
import time

import pytest

from tests.factories import PASSWORD
from tests.security.conftest import new_client, sign_in

COOKIE = "session"


def _set_cookie_header(r) -> str:
    headers = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    assert headers, "no session cookie set"
    return headers[-1]


def _attrs(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_plain_http(app, world):
    r = new_client(app).post("/login", data={"email": world.tech.email, "password": PASSWORD})
    assert r.status_code == 302
    attrs = _attrs(_set_cookie_header(r))
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "secure" not in attrs  # plain http in development: a Secure cookie would never come back


@pytest.mark.parametrize("setting", [{"SESSION_COOKIE_SECURE": True}, {"PREFERRED_URL_SCHEME": "https"}],
                         ids=["SESSION_COOKIE_SECURE", "PREFERRED_URL_SCHEME=https"])
def test_session_cookie_is_secure_when_served_over_https(app_with, world, setting):
    secure_app = app_with(**setting)
    client = new_client(secure_app)
    r = client.post("/login", data={"email": world.tech.email, "password": PASSWORD},
                    base_url="https://localhost")
    assert r.status_code == 302
    attrs = _attrs(_set_cookie_header(r))
    assert {"secure", "httponly", "samesite=lax"} <= attrs
    # and the cookie works over https
    assert client.get("/tech/dashboard", base_url="https://localhost").status_code == 200


def test_signing_in_starts_a_fresh_session(app, world):
    client = new_client(app)
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker before sign-in"
    before = client.get_cookie(COOKIE).value
    sign_in(client, world.dispatcher)
    after = client.get_cookie(COOKIE).value
    assert after != before
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s.get("_user_id")


def test_signing_out_makes_a_copied_cookie_useless(app, world):
    client = sign_in(new_client(app), world.dispatcher)
    stolen = client.get_cookie(COOKIE).value
    assert client.post("/logout").status_code == 302
    assert client.get("/dispatcher/tickets").status_code == 302  # signed out here

    replay = new_client(app)
    replay.set_cookie(COOKIE, stolen)
    r = replay.get("/dispatcher/tickets")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def _aged_cookie(app, cookie: str, seconds_ago: int) -> str:
    """The same signed session, signed `seconds_ago` (Flask checks the signature's
    timestamp against PERMANENT_SESSION_LIFETIME)."""
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(cookie)
    signer = serializer.make_signer(serializer.salt)
    signer.get_timestamp = lambda: int(time.time()) - seconds_ago
    return signer.sign(serializer.dump_payload(data)).decode()


def test_an_idle_session_expires_and_an_active_one_is_renewed(app, world):
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    client = sign_in(new_client(app), world.manager)
    cookie = client.get_cookie(COOKIE).value

    recent = new_client(app)
    recent.set_cookie(COOKIE, _aged_cookie(app, cookie, lifetime - 60))
    r = recent.get("/store")
    assert r.status_code == 200
    renewed = _set_cookie_header(r)  # every answer re-signs it: the idle clock restarts
    assert "expires=" in renewed.lower()
    assert recent.get_cookie(COOKIE).value != _aged_cookie(app, cookie, lifetime - 60)

    idle = new_client(app)
    idle.set_cookie(COOKIE, _aged_cookie(app, cookie, lifetime + 60))
    r = idle.get("/store")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_the_idle_timeout_follows_the_setting(app_with, world):
    short = app_with(PERMANENT_SESSION_LIFETIME=300)
    client = sign_in(new_client(short), world.manager)
    cookie = client.get_cookie(COOKIE).value
    stale = new_client(short)
    stale.set_cookie(COOKIE, _aged_cookie(short, cookie, 301))
    assert stale.get("/store").status_code == 302
    fresh = new_client(short)
    fresh.set_cookie(COOKIE, _aged_cookie(short, cookie, 200))
    assert fresh.get("/store").status_code == 200


def test_a_tampered_cookie_is_refused(app, world):
    client = sign_in(new_client(app), world.manager)
    value = client.get_cookie(COOKIE).value
    forged = new_client(app)
    forged.set_cookie(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert forged.get("/store").status_code == 302


def test_a_remembered_cookie_still_expires_when_its_idle_time_has_passed(app, world, monkeypatch):
    """The outcome of checking a cookie is remembered per cookie string (app/session_cookie.py):
    the same cookie sent again after its idle lifetime has passed is refused all the same."""
    from app import session_cookie

    lifetime = int(app.permanent_session_lifetime.total_seconds())
    client = sign_in(new_client(app), world.manager)
    cookie = client.get_cookie(COOKIE).value
    replay = new_client(app)
    replay.set_cookie(COOKIE, cookie)
    assert replay.get("/store").status_code == 200  # checked once, remembered
    later = time.time() + lifetime + 60
    monkeypatch.setattr(session_cookie, "_now", lambda: later)
    stale = new_client(app)
    stale.set_cookie(COOKIE, cookie)
    r = stale.get("/store")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_a_forged_cookie_is_refused_after_the_real_one_was_remembered(app, world):
    client = sign_in(new_client(app), world.manager)
    value = client.get_cookie(COOKIE).value
    assert client.get("/store").status_code == 200
    forged = new_client(app)
    forged.set_cookie(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert forged.get("/store").status_code == 302
    assert client.get("/store").status_code == 200


def test_a_flashed_message_is_shown_once_though_cookies_are_remembered(app, world):
    """Flask changes the list of flashed messages in place: a session holding one is never
    shared between requests, so the message shows once and is gone on the next page."""
    client = sign_in(new_client(app), world.manager)
    cookie = client.get_cookie(COOKIE).value
    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", "Saved: only once")]
    first = client.get("/store").get_data(as_text=True)
    assert "Saved: only once" in first
    assert "Saved: only once" not in client.get("/store").get_data(as_text=True)
    again = new_client(app)
    again.set_cookie(COOKIE, cookie)
    assert "Saved: only once" not in again.get("/store").get_data(as_text=True)
