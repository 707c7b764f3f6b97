"""Issue 13, finding 2: tokens end. Deactivation ends them for good, login tokens expire
after API_TOKEN_DAYS, an admin can end all of a user's tokens, a password change ends
every earlier session and login token, and named service tokens serve other systems
(see docs/tokens.md)."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ApiToken, TokenKind, User
from tests.factories import PASSWORD, ApiClient

NEW = "a-brand-new-one-7"


def login(client, email, password=PASSWORD, addr="127.0.0.1"):
    return client.post("/api/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def token_of(client, email, password=PASSWORD) -> str:
    r = login(client, email, password)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def me(client, token):
    return client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})


def call(client, method, path, token, **kw):
    return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kw)


def service_token(api, admin, user, name="CRM") -> dict:
    r = api.as_(admin).post(f"/api/users/{user.id}/service-tokens", json={"name": name})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# --- deactivation -----------------------------------------------------------------------

def test_reactivating_a_user_does_not_bring_their_old_tokens_back(world, client, api):
    old = token_of(client, "tech@example.com")
    crm = service_token(api, world.admin, world.tech)["token"]
    admin = api.as_(world.admin)
    assert admin.patch(f"/api/users/{world.tech.id}", json={"isActive": False}).status_code == 200
    assert admin.patch(f"/api/users/{world.tech.id}", json={"isActive": True}).status_code == 200
    assert me(client, old).status_code == 401
    assert me(client, crm).status_code == 401
    assert me(client, token_of(client, "tech@example.com")).status_code == 200  # signing in again works


# --- expiry -------------------------------------------------------------------------------

def test_login_tokens_expire_after_API_TOKEN_DAYS(world, client, freeze):
    t0 = freeze("2026-11-24T09:00:00Z")
    token = token_of(client, "manager@example.com")
    stored = db.session.query(ApiToken).one()
    assert stored.kind == TokenKind.LOGIN and stored.expires_at == t0 + timedelta(days=90)
    freeze(t0 + timedelta(days=90) - timedelta(seconds=1))
    assert me(client, token).status_code == 200
    freeze(t0 + timedelta(days=90))
    r = me(client, token)
    assert r.status_code == 401 and "expired" in r.get_json()["error"]


def test_the_token_lifetime_is_a_setting(app, world, client, freeze):
    t0 = freeze("2026-11-24T09:00:00Z")
    app.config["API_TOKEN_DAYS"] = 7
    try:
        token = token_of(client, "manager@example.com")
    finally:
        app.config["API_TOKEN_DAYS"] = 90
    freeze(t0 + timedelta(days=7, seconds=1))
    assert me(client, token).status_code == 401


def test_the_default_lifetime_is_90_days():
    from app.config import Config

    assert Config.API_TOKEN_DAYS == 90


# --- an admin ends every token of a user -------------------------------------------------

def test_an_admin_ends_every_token_of_a_user(world, client, api):
    a, b = token_of(client, "tech@example.com"), token_of(client, "tech@example.com")
    crm = service_token(api, world.admin, world.tech)["token"]
    other = token_of(client, "tech2@example.com")
    r = api.as_(world.admin).delete(f"/api/users/{world.tech.id}/tokens")
    assert r.status_code == 204 and r.data == b""
    assert [me(client, t).status_code for t in (a, b, crm)] == [401, 401, 401]
    assert me(client, other).status_code == 200  # only that user's
    assert me(client, token_of(client, "tech@example.com")).status_code == 200  # they can sign in again
    assert api.as_(world.admin).delete("/api/users/nope/tokens").status_code == 404


# --- changing one's own password ---------------------------------------------------------

def test_changing_my_password_ends_every_earlier_token_and_session(world, client, api, signed_in):
    old_a, old_b = token_of(client, "dispatcher@example.com"), token_of(client, "dispatcher@example.com")
    crm = service_token(api, world.admin, world.dispatcher)["token"]
    browser = signed_in(world.dispatcher)
    assert browser.get("/profile").status_code == 200

    r = call(client, "POST", "/api/users/me/password", old_a,
             json={"currentPassword": PASSWORD, "newPassword": NEW})
    assert r.status_code == 200, r.get_json()
    new = r.get_json()["token"]
    assert set(r.get_json()) == {"token"} and new not in (old_a, old_b)

    assert me(client, new).status_code == 200
    assert me(client, old_a).status_code == 401 and me(client, old_b).status_code == 401
    assert browser.get("/profile").status_code == 302  # the other session ended
    assert me(client, crm).status_code == 200  # service tokens are not the person's sign-in
    assert login(client, "dispatcher@example.com").status_code == 401
    assert login(client, "dispatcher@example.com", NEW).status_code == 200


def test_a_wrong_current_password_is_400_and_changes_nothing(world, client, api, nothing_written):
    token = token_of(client, "dispatcher@example.com")
    with nothing_written():
        r = call(client, "POST", "/api/users/me/password", token,
                 json={"currentPassword": "not-my-password", "newPassword": NEW})
    assert r.status_code == 400
    assert r.get_json()["fields"] == {"currentPassword": "This is not your current password."}
    assert me(client, token).status_code == 200
    assert login(client, "dispatcher@example.com").status_code == 200


@pytest.mark.parametrize("body,fields", [
    ({"currentPassword": PASSWORD, "newPassword": "short"}, {"newPassword"}),
    ({"currentPassword": PASSWORD, "newPassword": "dispatcher@example.com"}, {"newPassword"}),
    ({"currentPassword": PASSWORD, "newPassword": "DISPATCHER@example.com"}, {"newPassword"}),
    ({"currentPassword": PASSWORD, "newPassword": "x" * 257}, {"newPassword"}),
    ({"currentPassword": PASSWORD, "newPassword": 12345678}, {"newPassword"}),
    ({"currentPassword": PASSWORD}, {"newPassword"}),
    ({"newPassword": NEW}, {"currentPassword"}),
    ({"currentPassword": ["x"], "newPassword": NEW}, {"currentPassword"}),
    ({"currentPassword": "wrong", "newPassword": "short"}, {"currentPassword", "newPassword"}),
])
def test_bad_password_changes_are_400_with_fields(world, client, nothing_written, body, fields):
    token = token_of(client, "dispatcher@example.com")
    with nothing_written():
        r = call(client, "POST", "/api/users/me/password", token, json=body)
    assert r.status_code == 400 and set(r.get_json()["fields"]) == fields, r.get_json()
    assert all(m.endswith(".") for m in r.get_json()["fields"].values())
    assert me(client, token).status_code == 200


def test_wrong_current_passwords_count_against_the_login_throttle(world, client):
    """A stolen token must not become a way to guess the account's password."""
    token = token_of(client, "manager@example.com")
    for i in range(10):
        r = call(client, "POST", "/api/users/me/password", token, environ_base={"REMOTE_ADDR": f"10.7.0.{i}"},
                 json={"currentPassword": f"guess-{i}", "newPassword": NEW})
        assert r.status_code == 400
    r = call(client, "POST", "/api/users/me/password", token, environ_base={"REMOTE_ADDR": "10.7.1.1"},
             json={"currentPassword": PASSWORD, "newPassword": NEW})
    assert r.status_code == 429 and r.is_json
    assert login(client, "manager@example.com", addr="10.7.1.2").status_code == 429  # the same account's counter
    assert login(client, "dispatcher@example.com", addr="10.7.1.2").status_code == 200  # others unaffected


def test_a_weak_new_password_is_not_counted_as_a_guess(world, client):
    token = token_of(client, "manager@example.com")
    for i in range(12):
        r = call(client, "POST", "/api/users/me/password", token, environ_base={"REMOTE_ADDR": f"10.8.0.{i}"},
                 json={"currentPassword": PASSWORD, "newPassword": "short"})
        assert r.status_code == 400
    assert login(client, "manager@example.com").status_code == 200


# --- an admin sets a password --------------------------------------------------------------

def test_an_admin_sets_a_users_password(world, client, api, signed_in):
    old = token_of(client, "tech@example.com")
    crm = service_token(api, world.admin, world.tech)["token"]
    browser = signed_in(world.tech)
    r = api.as_(world.admin).post(f"/api/users/{world.tech.id}/password", json={"newPassword": NEW})
    assert r.status_code == 204 and r.data == b""
    assert me(client, old).status_code == 401
    assert browser.get("/tech/dashboard").status_code == 302
    assert me(client, crm).status_code == 200
    assert login(client, "tech@example.com").status_code == 401
    assert login(client, "tech@example.com", NEW).status_code == 200


@pytest.mark.parametrize("body", [{}, {"newPassword": "short"}, {"newPassword": "tech@example.com"},
                                  {"newPassword": None}, {"password": NEW}])
def test_an_admin_cannot_set_a_weak_password(world, api, nothing_written, body):
    admin = api.as_(world.admin)
    with nothing_written():
        r = admin.post(f"/api/users/{world.tech.id}/password", json=body)
    assert r.status_code == 400 and "newPassword" in r.get_json()["fields"]


def test_an_admin_changes_their_own_password_with_the_current_one(world, api, nothing_written):
    admin = api.as_(world.admin)
    with nothing_written():
        r = admin.post(f"/api/users/{world.admin.id}/password", json={"newPassword": NEW})
    assert r.status_code == 403 and "/api/users/me/password" in r.get_json()["error"]
    assert api.as_(world.admin).post("/api/users/nope/password", json={"newPassword": NEW}).status_code == 404


# --- service tokens -------------------------------------------------------------------------

def test_service_tokens_are_shown_once_listed_without_the_secret_and_revoked_one_by_one(world, client, api, freeze):
    t0 = freeze("2026-11-24T09:00:00Z")
    admin = api.as_(world.admin)
    crm = service_token(api, world.admin, world.dispatcher, "CRM")
    assert set(crm) == {"id", "name", "token", "createdAt"}
    assert crm["name"] == "CRM" and crm["createdAt"] == "2026-11-24T09:00:00Z"
    stored = db.session.get(ApiToken, crm["id"])
    assert stored.kind == TokenKind.SERVICE and stored.expires_at is None and crm["token"] not in stored.token_hash

    freeze(t0 + timedelta(minutes=1))
    bot = service_token(api, world.admin, world.dispatcher, "Telegram bot")
    listed = admin.get(f"/api/users/{world.dispatcher.id}/service-tokens").get_json()
    assert [t["name"] for t in listed] == ["Telegram bot", "CRM"]  # newest first
    assert all(set(t) == {"id", "name", "createdAt", "lastUsedAt", "revokedAt"} for t in listed)
    assert listed[1]["lastUsedAt"] is None and listed[1]["revokedAt"] is None

    freeze(t0 + timedelta(days=400))  # never expires (the admin's own login token has: a fresh one)
    assert me(client, crm["token"]).get_json()["id"] == world.dispatcher.id
    admin = ApiClient(client).as_(world.admin)
    listed = admin.get(f"/api/users/{world.dispatcher.id}/service-tokens").get_json()
    assert listed[1]["lastUsedAt"] == "2027-12-29T09:00:00Z"  # when the operator last saw it used

    r = admin.delete(f"/api/users/{world.dispatcher.id}/service-tokens/{crm['id']}")
    assert r.status_code == 204
    assert me(client, crm["token"]).status_code == 401
    assert me(client, bot["token"]).status_code == 200  # only that one
    listed = admin.get(f"/api/users/{world.dispatcher.id}/service-tokens").get_json()
    assert listed[1]["revokedAt"] == "2027-12-29T09:00:00Z"
    assert admin.delete(f"/api/users/{world.dispatcher.id}/service-tokens/{crm['id']}").status_code == 204


def test_a_service_token_is_not_a_token_of_another_user_or_a_login_token(world, client, api):
    admin = api.as_(world.admin)
    crm = service_token(api, world.admin, world.dispatcher)
    assert admin.delete(f"/api/users/{world.tech.id}/service-tokens/{crm['id']}").status_code == 404
    token_of(client, "dispatcher@example.com")
    login_id = db.session.query(ApiToken.id).filter_by(kind=TokenKind.LOGIN, user_id=world.dispatcher.id).scalar()
    assert admin.delete(f"/api/users/{world.dispatcher.id}/service-tokens/{login_id}").status_code == 404
    assert admin.delete(f"/api/users/{world.dispatcher.id}/service-tokens/nope").status_code == 404
    assert me(client, crm["token"]).status_code == 200
    assert admin.get("/api/users/nope/service-tokens").status_code == 404


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": 5}, {"name": "x" * 101}])
def test_a_service_token_needs_a_name(world, api, nothing_written, body):
    admin = api.as_(world.admin)
    with nothing_written():
        r = admin.post(f"/api/users/{world.dispatcher.id}/service-tokens", json=body)
    assert r.status_code == 400 and "name" in r.get_json()["fields"]


def test_a_deactivated_user_gets_no_service_token(world, api, nothing_written):
    admin = api.as_(world.admin)
    admin.patch(f"/api/users/{world.tech.id}", json={"isActive": False})
    with nothing_written():
        r = admin.post(f"/api/users/{world.tech.id}/service-tokens", json={"name": "CRM"})
    assert r.status_code == 409
    db.session.expire_all()
    assert db.session.get(User, world.tech.id).is_active_user is False
