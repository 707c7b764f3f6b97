"""CSRF: with protection on (as in production), every state-changing page route
refuses a request without the token (400, nothing written) and accepts it with the
token, as a form field or as the X-CSRFToken header htmx sends from <body hx-headers>.
The JSON API accepts only bearer tokens: a signed-in session cookie gets 401 there."""
import json
import os
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.factories import PASSWORD
from tests.security.conftest import ACTORS, UserClient, build_scene
from tests.security.test_page_access_matrix import PAGES, TABLE

ALLOWED = (200, 201, 204, 302, 303, 422)
WRITES = [(name, next(a for i, a in enumerate(ACTORS) if a != "anon" and TABLE[name][i] in ALLOWED))
          for name, (method, _rule, _fn) in PAGES.items() if method in ("POST", "DELETE")
          and any(code in ALLOWED for code in TABLE[name][1:])]


class CsrfClient(UserClient):
    """A client of the CSRF-protected app that sends the page's token the way the
    browser would: `mode` "form" (hidden csrf_token field), "header" (htmx's
    X-CSRFToken) or None (no token at all)."""

    mode = None
    token = None

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if self.mode and self.token and method not in ("GET", "HEAD"):
            if self.mode == "header":
                headers = dict(kwargs.pop("headers", None) or {})
                headers.update({"X-CSRFToken": self.token, "HX-Request": "true"})
                kwargs["headers"] = headers
            else:
                data = kwargs.get("data")
                data = dict(data) if isinstance(data, dict) else {}
                data["csrf_token"] = self.token
                kwargs["data"] = data
        return super().open(*args, **kwargs)


def page_token(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r"""hx-headers='([^']+)'""", html)
    assert m, "no CSRF token on the page"
    value = m.group(1)
    return json.loads(value)["X-CSRFToken"] if value.startswith("{") else value


def csrf_sign_in(app, user) -> CsrfClient:
    c = CsrfClient(app, app.response_class, use_cookies=True)
    c.token = page_token(c.get("/login").get_data(as_text=True))
    c.mode = "form"
    r = c.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    # the page's token after sign-in (the session is new), read from <body hx-headers>
    html = c.get("/notifications").get_data(as_text=True)
    c.token = json.loads(re.search(r"""hx-headers='([^']+)'""", html).group(1))["X-CSRFToken"]
    return c


def snapshot(app) -> dict:
    """Every row of every table, and every stored file."""
    out = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            out[table.name] = sorted(map(repr, db.session.execute(sa.select(table)).all()))
        db.session.remove()
    folder = app.config["UPLOAD_DIR"]
    out["files"] = sorted(os.path.relpath(os.path.join(d, f), folder)
                          for d, _, fs in os.walk(folder) for f in fs)
    return out


@pytest.fixture
def csrf_app(app_with):
    return app_with(WTF_CSRF_ENABLED=True)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("route_name,actor", WRITES, ids=[f"{p}|{a}" for p, a in WRITES])
def test_a_state_change_without_the_token_is_refused_and_writes_nothing(csrf_app, world, backend, route_name, actor):
    scene = build_scene(world)
    client = csrf_sign_in(csrf_app, getattr(world, ACTORS[actor]))
    client.mode = None
    before = snapshot(csrf_app)
    r = PAGES[route_name][2](world, scene, client, actor)
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:200])
    assert "expired" in r.get_data(as_text=True)
    assert snapshot(csrf_app) == before


@pytest.mark.sqlite_only
@pytest.mark.parametrize("mode", ["form", "header"])
@pytest.mark.parametrize("route_name,actor", WRITES, ids=[f"{p}|{a}" for p, a in WRITES])
def test_a_state_change_with_the_token_goes_through(csrf_app, world, backend, route_name, actor, mode):
    scene = build_scene(world)
    client = csrf_sign_in(csrf_app, getattr(world, ACTORS[actor]))
    client.mode = mode
    r = PAGES[route_name][2](world, scene, client, actor)
    expected = TABLE[route_name][list(ACTORS).index(actor)]
    if mode == "header" and expected in (302, 303):
        # htmx asked: some routes answer a redirect as a 200 fragment or an HX-Redirect
        assert r.status_code in (200, 204, 302, 303), (r.status_code, r.get_data(as_text=True)[:200])
    else:
        assert r.status_code == expected, (r.status_code, r.get_data(as_text=True)[:200])


def test_a_token_from_another_session_is_refused(csrf_app, world):
    mine = csrf_sign_in(csrf_app, world.dispatcher)
    theirs = csrf_sign_in(csrf_app, world.dispatcher2)
    mine.token = theirs.token
    r = mine.post("/profile", data={"phone": "+998901110000"})
    assert r.status_code == 400


def test_sign_in_itself_needs_the_token(csrf_app, world):
    c = CsrfClient(csrf_app, csrf_app.response_class, use_cookies=True)
    r = c.post("/login", data={"email": world.tech.email, "password": PASSWORD})
    assert r.status_code == 400
    assert c.get("/tech/dashboard").status_code == 302  # not signed in


API_CALLS = [("GET", "/api/tickets"), ("GET", "/api/users/me"), ("POST", "/api/tickets"),
             ("PATCH", "/api/users/me"), ("GET", "/api/notifications"), ("POST", "/api/notifications/read-all"),
             ("GET", "/api/analytics/sla"), ("DELETE", "/api/auth/token")]


@pytest.mark.parametrize("method,path", API_CALLS)
def test_the_api_ignores_a_signed_in_session_cookie(csrf_app, world, method, path):
    client = csrf_sign_in(csrf_app, world.admin)
    client.mode = "header"  # even with the page's CSRF token
    r = client.open(path, method=method, json={"notifySms": False})
    assert r.status_code == 401, (r.status_code, r.get_data(as_text=True)[:200])
    assert r.is_json and r.get_json()["error"]


def test_the_api_works_with_a_bearer_token_and_no_csrf_token(csrf_app, world):
    c = csrf_app.test_client()
    r = c.post("/api/auth/token", json={"email": world.admin.email, "password": PASSWORD})
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    token = r.get_json()["token"]
    r = c.patch("/api/users/me", json={"notifySms": False}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
