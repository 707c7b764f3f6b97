"""Sign-in on the page: failures are throttled per account (10 in 15 minutes, then 429
even with the right password) and per address (30 a minute), an unknown email and a
wrong password get the same answer, and `next` never sends anyone off the site.
(The token endpoint's side of the shared counters is in tests/api/test_auth.py.)"""
from urllib.parse import quote

import pytest

from tests.factories import PASSWORD
from tests.security.conftest import new_client


def _login(client, email, password, next_=None, **kw):
    path = "/login" + (f"?next={quote(next_, safe='')}" if next_ is not None else "")
    return client.post(path, data={"email": email, "password": password}, **kw)


def test_ten_failures_lock_the_account_even_for_the_right_password(app, world):
    client = new_client(app)
    for _ in range(10):
        assert _login(client, world.manager.email, "wrong-password").status_code == 401
    r = _login(client, world.manager.email, PASSWORD)
    assert r.status_code == 429
    assert "Too many attempts" in r.get_data(as_text=True)
    assert client.get("/store").status_code == 302  # not signed in
    # from another address too: the counter belongs to the account
    other = _login(new_client(app), world.manager.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 429
    # another account is not affected
    assert _login(new_client(app), world.tech.email, PASSWORD).status_code == 302


@pytest.mark.parametrize("variant", ["MANAGER@example.com", "  manager@example.com  ", "Manager@Example.COM"])
def test_spelling_the_email_differently_counts_against_the_same_account(app, world, variant):
    client = new_client(app)
    for i in range(10):
        email = variant if i % 2 else world.manager.email
        _login(client, email, "wrong-password", environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
    assert _login(client, world.manager.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code == 429


def test_thirty_failures_a_minute_lock_the_address(app, world):
    client = new_client(app)
    for i in range(30):
        assert _login(client, f"nobody{i}@example.com", "x").status_code == 401
    assert _login(client, world.tech.email, PASSWORD).status_code == 429
    # a forged X-Forwarded-For does not give the same address a fresh counter
    assert _login(client, world.tech.email, PASSWORD, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # another address signs in normally
    assert _login(new_client(app), world.tech.email, PASSWORD,
                  environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 302


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(app, world):
    unknown = _login(new_client(app), "nobody@example.com", "wrong-password")
    wrong = _login(new_client(app), world.manager.email, "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    # the same page, but for the email typed back into the form
    assert unknown.get_data(as_text=True).replace("nobody@example.com", world.manager.email) == \
        wrong.get_data(as_text=True)
    assert "Invalid email or password" in wrong.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "http://evil.com/store", "/\\evil.com", "\\\\evil.com", "javascript:alert(1)",
    "/\t/evil.com", "/\n/evil.com", " //evil.com", "///evil.com", "https:/evil.com", "//evil.com/%2e%2e",
    "data:text/html,<script>alert(1)</script>", "/store\r\nSet-Cookie: x=1",
])
def test_next_never_leads_off_the_site(app, world, target):
    r = _login(new_client(app), world.manager.email, PASSWORD, next_=target)
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location == "/store", location  # the role's home instead


@pytest.mark.parametrize("target", ["/tickets/create", "/store?tab=open", "/notifications"])
def test_a_same_site_next_is_followed(app, world, target):
    r = _login(new_client(app), world.manager.email, PASSWORD, next_=target)
    assert r.status_code == 302 and r.headers["Location"] == target


def test_the_login_page_is_not_cached_and_cannot_be_framed(client):
    r = client.get("/login")
    assert r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert 'autocomplete="current-password"' in r.get_data(as_text=True) or \
        'type="password"' in r.get_data(as_text=True)
