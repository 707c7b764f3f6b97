"""The login throttle's windows end: an account locked after 10 failures signs in again
once its 15 minutes have passed, an address after its minute. The rate limiter's clock
(the `limits` package's memory storage and strategies read `time.time()`) is moved, not
waited for (tests/conftest.py's limiter_clock)."""
from __future__ import annotations

from tests.factories import PASSWORD


def _login(client, email, password, **kw):
    return client.post("/login", data={"email": email, "password": password}, **kw)


def test_a_locked_account_signs_in_again_after_fifteen_minutes(app, world, limiter_clock):
    client = app.test_client()
    for _ in range(10):
        assert _login(client, world.manager.email, "wrong-password").status_code == 401
    assert _login(client, world.manager.email, PASSWORD).status_code == 429

    limiter_clock(14 * 60)
    assert _login(client, world.manager.email, PASSWORD).status_code == 429  # still inside the window
    limiter_clock(60 + 1)
    assert _login(client, world.manager.email, PASSWORD).status_code == 302


def test_a_locked_address_signs_in_again_after_a_minute(app, world, limiter_clock):
    client = app.test_client()
    for i in range(30):
        assert _login(client, f"nobody{i}@example.com", "x").status_code == 401
    assert _login(client, world.tech.email, PASSWORD).status_code == 429

    limiter_clock(61)
    assert _login(client, world.tech.email, PASSWORD).status_code == 302


def test_a_refused_sign_in_says_when_to_try_again(app, world, limiter_clock):
    """429 answers carry Retry-After (seconds until the window lets the account in), on
    the page and the API alike."""
    client = app.test_client()
    for _ in range(10):
        assert _login(client, world.manager.email, "wrong-password").status_code == 401
    page = _login(client, world.manager.email, PASSWORD)
    api = client.post("/api/auth/token", json={"email": world.manager.email, "password": PASSWORD})
    for r in (page, api):
        assert r.status_code == 429
        assert 0 < int(r.headers["Retry-After"]) <= 15 * 60, r.headers
    assert api.is_json and "try again" in api.get_json()["error"]
