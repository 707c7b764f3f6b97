"""Bad input to the two sign-in endpoints (issue 13, item 3): never a 500, a clear
answer, and every refused attempt counts against the address like a wrong password
does (30 a minute), so garbage cannot be sent without limit."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD

HOSTILE_JSON = {
    "deep": '{"email": ' + "[" * 5000 + "]" * 5000 + ', "password": "x"}',
    "surrogate": '{"email": "\\ud800@example.com", "password": "\\ud800"}',
    "surrogate-password": '{"email": "manager@example.com", "password": "pass\\udfff"}',
    "bigint": '{"email": "manager@example.com", "password": 1' + "0" * 400 + "}",
    "email-a-number": '{"email": 5, "password": "x"}',
    "password-an-object": '{"email": ["manager@example.com"], "password": {"x": 1}}',
    "a-string": '"manager@example.com"',
    "a-list": '["manager@example.com", "x"]',
    "broken": '{"email": ',
}


@pytest.mark.parametrize("kind", list(HOSTILE_JSON))
def test_the_token_endpoint_answers_hostile_json_with_a_json_400(world, client, kind):
    r = client.post("/api/auth/token", data=HOSTILE_JSON[kind], content_type="application/json")
    assert r.status_code == 400, (r.status_code, r.data[:300])
    assert r.is_json and r.get_json()["error"]


@pytest.mark.parametrize("kind", list(HOSTILE_JSON))
def test_the_sign_in_page_answers_json_bodies_with_its_form_error(world, client, kind):
    """The page takes its form fields, never a JSON body (Flask-WTF would have read one)."""
    r = client.post("/login", data=HOSTILE_JSON[kind], content_type="application/json")
    assert r.status_code == 401, (r.status_code, r.data[:300])
    assert "Enter your email and password." in r.get_data(as_text=True)
    assert client.get("/tech/dashboard").status_code == 302  # not signed in


def _token(client, body, addr, **kw):
    return client.post("/api/auth/token", environ_base={"REMOTE_ADDR": addr}, **body, **kw)


BAD_TOKEN_REQUESTS = [
    {"data": '{"email": ', "content_type": "application/json"},  # malformed JSON
    {"json": {"email": "manager@example.com"}},  # a missing field
    {"json": {"password": PASSWORD}},
    {"data": HOSTILE_JSON["deep"], "content_type": "application/json"},
    {"data": HOSTILE_JSON["surrogate"], "content_type": "application/json"},
    {"data": "email=manager%40example.com", "content_type": "application/x-www-form-urlencoded"},  # 415
]


def test_bad_requests_to_the_token_endpoint_count_for_the_address(world, client):
    for i in range(30):
        r = _token(client, BAD_TOKEN_REQUESTS[i % len(BAD_TOKEN_REQUESTS)], "10.5.5.5")
        assert r.status_code in (400, 415), r.status_code
    good = {"json": {"email": "dispatcher@example.com", "password": PASSWORD}}
    r = _token(client, good, "10.5.5.5")
    assert r.status_code == 429 and r.is_json
    assert _token(client, good, "10.5.5.6").status_code == 200  # another address is not affected


def test_malformed_sign_in_form_posts_count_for_the_address(app, world):
    client = app.test_client()
    for i in range(30):
        bad_posts = [  # distinct accounts named, so only the address limit can be reached
            {"data": {"email": f"nobody{i}@example.com"}},  # no password
            {"json": {"email": f"nobody{i}@example.com", "password": {"x": 1}}},  # JSON, not the form
            {"data": b"--xx\r\nbroken", "content_type": "multipart/form-data; boundary=xx"},
        ]
        r = client.post("/login", environ_base={"REMOTE_ADDR": "10.6.6.6"}, **bad_posts[i % len(bad_posts)])
        assert r.status_code == 401, r.status_code
    ok = {"email": world.dispatcher.email, "password": PASSWORD}
    assert client.post("/login", data=ok, environ_base={"REMOTE_ADDR": "10.6.6.6"}).status_code == 429
    assert client.post("/login", data=ok, environ_base={"REMOTE_ADDR": "10.6.6.7"}).status_code == 302


def test_sign_in_posts_without_the_csrf_token_count_for_the_address(app_with, world):
    """With CSRF on (production): the check still refuses them (400, the form says to
    reload), and they are counted, which CSRFProtect's early refusal used to prevent."""
    csrf_app = app_with(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    for _ in range(30):
        r = client.post("/login", data={"email": "manager@example.com", "password": "guess"},
                        environ_base={"REMOTE_ADDR": "10.7.7.7"})
        assert r.status_code == 400
        assert "reload the page" in r.get_data(as_text=True)
    r = client.post("/login", data={"email": "manager@example.com", "password": "guess"},
                    environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert r.status_code == 429
