"""Authentication: bearer tokens (hashed, revocable), never the session cookie; rate limits."""
import hashlib

import pytest

from app.extensions import db
from app.models import ApiToken, Role, User
from tests.factories import PASSWORD


def token_for(client, email, password=PASSWORD, addr="127.0.0.1"):
    return client.post("/api/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_issued_for_good_credentials_and_stored_hashed(world, client):
    r = token_for(client, "Dispatcher@Example.com")
    assert r.status_code == 200
    body = r.get_json()
    assert body["user"] == {"id": world.dispatcher.id, "email": "dispatcher@example.com",
                            "name": world.dispatcher.name, "role": "dispatcher"}
    token = body["token"]
    stored = db.session.query(ApiToken).filter_by(user_id=world.dispatcher.id).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    me = client.get("/api/users/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["email"] == "dispatcher@example.com"


def test_unknown_email_and_wrong_password_get_the_same_401(world, client, nothing_written):
    with nothing_written():
        wrong = token_for(client, "dispatcher@example.com", "wrong-password")
        unknown = token_for(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json() == {"error": "Invalid email or password"}


def test_a_deactivated_user_gets_no_token_and_loses_the_old_ones(world, client, api):
    old = token_for(client, "tech@example.com").get_json()["token"]
    r = api.as_(world.admin).patch(f"/api/users/{world.tech.id}", json={"isActive": False})
    assert r.status_code == 200 and r.get_json()["isActive"] is False
    assert token_for(client, "tech@example.com").status_code == 401
    assert client.get("/api/users/me", headers=bearer(old)).status_code == 401


def test_an_admin_cannot_deactivate_their_own_account(world, api):
    me = api.as_(world.admin)
    r = me.patch(f"/api/users/{world.admin.id}", json={"isActive": False, "name": "Renamed"})
    assert r.status_code == 400 and "isActive" in r.get_json()["fields"]
    db.session.expire_all()
    assert world.admin.is_active_user and world.admin.name != "Renamed"  # nothing written
    assert me.get("/api/users/me").status_code == 200


@pytest.mark.parametrize("body,status", [
    ({"email": "dispatcher@example.com"}, 400),
    ({"password": PASSWORD}, 400),
    ({"email": ["dispatcher@example.com"], "password": PASSWORD}, 400),
    ({"email": "dispatcher@example.com", "password": 12345678}, 400),
])
def test_malformed_token_requests_are_400(world, client, body, status):
    r = client.post("/api/auth/token", json=body)
    assert r.status_code == status and "error" in r.get_json()


def test_a_form_post_to_the_token_endpoint_is_415(world, client):
    r = client.post("/api/auth/token", data={"email": "dispatcher@example.com", "password": PASSWORD})
    assert r.status_code == 415 and r.is_json


def test_revoking_a_token_ends_it_and_only_it(world, client):
    a = token_for(client, "manager@example.com").get_json()["token"]
    b = token_for(client, "manager@example.com").get_json()["token"]
    r = client.delete("/api/auth/token", headers=bearer(a))
    assert r.status_code == 204 and r.data == b""
    assert client.get("/api/users/me", headers=bearer(a)).status_code == 401
    assert client.get("/api/users/me", headers=bearer(b)).status_code == 200
    assert client.delete("/api/auth/token", headers=bearer(a)).status_code == 401


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic ZGlzcGF0Y2hlcjpwYXNz",
                                    "Bearer not-a-token", "Bearer " + "x" * 5000, "Token abc"])
def test_missing_or_bad_credentials_are_401_json(world, client, header):
    headers = {} if header is None else {"Authorization": header}
    r = client.get("/api/tickets", headers=headers)
    assert r.status_code == 401 and r.is_json
    assert set(r.get_json()) <= {"error", "fields"} and r.get_json()["error"]
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_a_session_cookie_never_authenticates_the_api(world, client):
    r = client.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    assert r.status_code == 302  # signed in for pages
    for path in ("/api/users/me", "/api/tickets", "/api/issue-categories"):
        r = client.get(path)
        assert r.status_code == 401 and r.is_json, path
    assert client.post("/api/tickets", json={}).status_code == 401
    assert client.delete("/api/auth/token").status_code == 401


def test_unknown_api_paths_are_json_404_and_wrong_methods_json_405(world, api):
    r = api.as_(world.admin).get("/api/nothing-here")
    assert r.status_code == 404 and r.is_json
    r = api.as_(world.admin).put("/api/tickets") if hasattr(api, "put") else api.as_(world.admin).delete("/api/tickets")
    assert r.status_code == 405 and r.is_json and "error" in r.get_json()


# --- rate limiting -------------------------------------------------------------------

def test_ten_failures_lock_the_account_for_everyone(world, client):
    for i in range(10):
        assert token_for(client, "manager@example.com", "bad", addr=f"10.0.0.{i}").status_code == 401
    r = token_for(client, "manager@example.com", addr="10.9.9.9")  # right password, fresh address
    assert r.status_code == 429 and r.is_json and r.get_json()["error"]
    assert token_for(client, "MANAGER@example.com", addr="10.9.9.8").status_code == 429  # same account
    assert token_for(client, "dispatcher@example.com", addr="10.9.9.9").status_code == 200  # others unaffected


def test_the_sign_in_page_and_the_token_endpoint_share_the_counters(world, client, app):
    for i in range(5):
        assert token_for(client, "manager@example.com", "bad", addr=f"10.2.0.{i}").status_code == 401
    with app.app_context():
        page = app.test_client()
        for i in range(5):
            r = page.post("/login", data={"email": "manager@example.com", "password": "bad"},
                          environ_base={"REMOTE_ADDR": f"10.3.0.{i}"})
            assert r.status_code == 401
        assert page.post("/login", data={"email": "manager@example.com", "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.4.0.1"}).status_code == 429
    assert token_for(client, "manager@example.com", addr="10.4.0.2").status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(world, client):
    for _ in range(12):
        assert token_for(client, "dispatcher@example.com").status_code == 200


def test_thirty_failures_a_minute_lock_the_address(world, client):
    for i in range(30):
        assert token_for(client, f"nobody{i}@example.com", "bad", addr="10.1.1.1").status_code == 401
    assert token_for(client, "dispatcher@example.com", addr="10.1.1.1").status_code == 429
    assert token_for(client, "dispatcher@example.com", addr="10.1.1.2").status_code == 200


# --- users ------------------------------------------------------------------------

def test_users_me_shows_the_callers_own_profile(world, api):
    r = api.as_(world.manager).get("/api/users/me")
    assert r.status_code == 200
    body = r.get_json()
    expected = {"id", "email", "name", "role", "phone", "telegramChatId", "notifyTelegram", "notifySms",
                "technicianId", "branchIds"}
    assert expected <= set(body)
    assert "passwordHash" not in body and "password_hash" not in body
    assert (body["role"], body["branchIds"], body["technicianId"]) == ("store_manager", [world.branch.id], None)
    tech = api.as_(world.tech).get("/api/users/me").get_json()
    assert (tech["role"], tech["technicianId"], tech["branchIds"]) == ("technician", world.primary.id, [])


def test_users_edit_their_own_contact_settings(world, api):
    r = api.as_(world.tech).patch("/api/users/me", json={
        "name": "Timur P.", "phone": "+998 90 123 45 67", "notifyTelegram": False, "notifySms": True})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["name"], body["phone"], body["notifyTelegram"], body["notifySms"]) == (
        "Timur P.", "+998 90 123 45 67", False, True)
    # A chat is linked by the bot (or an admin); the user may clear it.
    assert api.as_(world.admin).patch(f"/api/users/{world.tech.id}", json={"telegramChatId": "-1001234567"}
                                      ).get_json()["telegramChatId"] == "-1001234567"
    assert api.as_(world.tech).patch("/api/users/me", json={"telegramChatId": ""}).get_json()["telegramChatId"] is None


@pytest.mark.parametrize("body,field", [
    ({"telegramChatId": "@timur"}, "telegramChatId"),
    ({"telegramChatId": 12345}, "telegramChatId"),
    ({"phone": "call me"}, "phone"),
    ({"notifySms": "sometimes"}, "notifySms"),
    ({"role": "admin"}, "role"),
    ({"email": "new@example.com"}, "email"),
    ({"isActive": False}, "isActive"),
])
def test_users_cannot_set_bad_values_or_other_fields_on_themselves(world, api, nothing_written, body, field):
    client = api.as_(world.tech)
    with nothing_written():
        r = client.patch("/api/users/me", json=body)
    assert r.status_code == 400 and field in r.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(User, world.tech.id).role == Role.TECHNICIAN


def test_admins_create_users_of_every_role(world, api):
    from tests.factories import make_technician

    t = make_technician("Bekzod New", "+998900000077")
    db.session.commit()
    admin = api.as_(world.admin)
    cases = [
        {"email": "d2@example.com", "password": "long-enough-1", "name": "D Two", "role": "dispatcher"},
        {"email": "t2@example.com", "password": "long-enough-1", "name": "T Two", "role": "technician",
         "technicianId": t.id},
        {"email": "m2@example.com", "password": "long-enough-1", "name": "M Two", "role": "store_manager",
         "branchIds": [world.branch.id, world.branch2.id]},
        {"email": "a2@example.com", "password": "long-enough-1", "name": "A Two", "role": "admin"},
    ]
    for body in cases:
        r = admin.post("/api/users", json=body)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["role"] == body["role"] and r.get_json()["email"] == body["email"]
    assert sorted(admin.post("/api/auth/token", json={"email": "m2@example.com", "password": "long-enough-1"})
                  .get_json()["user"].keys()) == ["email", "id", "name", "role"]
    created = db.session.query(User).filter_by(email="m2@example.com").one()
    assert sorted(b.id for b in created.branches) == sorted([world.branch.id, world.branch2.id])
    assert created.password_hash.startswith("$argon2")


@pytest.mark.parametrize("body,status,field", [
    ({"email": "x@example.com", "password": "long-enough-1", "role": "wizard"}, 400, "role"),
    ({"email": "not-an-email", "password": "long-enough-1", "role": "dispatcher"}, 400, "email"),
    ({"email": "x@example.com", "password": "short", "role": "dispatcher"}, 400, "password"),
    ({"email": "x@example.com", "password": "X@Example.com", "role": "dispatcher"}, 400, "password"),
    ({"email": "x@example.com", "role": "dispatcher"}, 400, "password"),
    ({"email": "x@example.com", "password": "long-enough-1", "role": "technician"}, 400, "technicianId"),
    ({"email": "x@example.com", "password": "long-enough-1", "role": "technician", "technicianId": "nope"}, 400,
     "technicianId"),
    ({"email": "x@example.com", "password": "long-enough-1", "role": "store_manager"}, 400, "branchIds"),
    ({"email": "x@example.com", "password": "long-enough-1", "role": "store_manager", "branchIds": ["nope"]}, 400,
     "branchIds"),
    ({"email": "x@example.com", "password": "long-enough-1", "role": "store_manager", "branchIds": "nope"}, 400,
     "branchIds"),
    ({"email": "DISPATCHER@example.com", "password": "long-enough-1", "role": "dispatcher"}, 409, "email"),
    ({"email": "x@example.com", "password": "long-enough-1", "role": "admin", "technicianId": "nope"}, 400,
     "technicianId"),
    ({"email": "x@example.com", "password": "long-enough-1", "role": "dispatcher", "branchIds": ["nope"]}, 400,
     "branchIds"),
])
def test_bad_new_users_are_refused(world, api, nothing_written, body, status, field):
    admin = api.as_(world.admin)
    with nothing_written():
        r = admin.post("/api/users", json=body)
    assert r.status_code == status and field in r.get_json().get("fields", {}), r.get_json()


def test_a_technician_has_at_most_one_login(world, api):
    r = api.as_(world.admin).post("/api/users", json={
        "email": "again@example.com", "password": "long-enough-1", "role": "technician",
        "technicianId": world.primary.id})
    assert r.status_code == 409


def test_only_admins_manage_users(world, api):
    for who in (world.dispatcher, world.tech, world.manager):
        c = api.as_(who)
        assert c.post("/api/users", json={"email": "x@example.com", "password": "long-enough-1",
                                          "role": "admin"}).status_code == 403
        assert c.get("/api/users").status_code == 403
        assert c.get(f"/api/users/{world.admin.id}").status_code == 403
        assert c.patch(f"/api/users/{world.admin.id}", json={"name": "Pwned"}).status_code == 403


def test_admins_list_users_page_by_page(world, api):
    admin = api.as_(world.admin)
    seen, cursor = [], None
    while True:
        r = admin.get("/api/users", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        seen += [u["email"] for u in r.get_json()["items"]]
        cursor = r.get_json()["nextCursor"]
        if not cursor:
            break
    assert seen == sorted(u.email for u in db.session.query(User)) and len(seen) == 8
    assert admin.get("/api/users/nope").status_code == 404


def test_the_user_list_costs_the_same_statements_for_9_or_15_users(world, api, app):
    from tests.api.test_tickets import count_queries

    admin = api.as_(world.admin)

    def add_managers(numbers):
        for i in numbers:
            assert admin.post("/api/users", json={"email": f"sm{i}@example.com", "password": "long-enough-1",
                                                  "role": "store_manager", "branchIds": [world.branch.id]}
                              ).status_code == 201

    add_managers(range(1))
    r, few = count_queries(app, lambda: admin.get("/api/users"))
    assert len(r.get_json()["items"]) == 9
    add_managers(range(1, 7))
    r, many = count_queries(app, lambda: admin.get("/api/users"))
    by_email = {u["email"]: u for u in r.get_json()["items"]}
    assert len(by_email) == 15 and by_email["sm6@example.com"]["branchIds"] == [world.branch.id]
    assert many == few <= 5


# --- CLI ---------------------------------------------------------------------------

def test_flask_users_create_bootstraps_an_admin(app, ctx):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["users", "create", "--email", "Boss@Example.com", "--password", "first-admin-1",
                            "--role", "admin", "--name", "The Boss"])
    assert r.exit_code == 0, r.output
    assert "admin" in r.output and "boss@example.com" in r.output
    db.session.rollback()
    boss = db.session.query(User).filter_by(email="boss@example.com").one()
    assert (boss.role, boss.name) == (Role.ADMIN, "The Boss")
    client = app.test_client()
    assert token_for(client, "boss@example.com", "first-admin-1").status_code == 200


def test_flask_users_create_links_technicians_and_branches(world, app):
    from tests.factories import make_technician

    t = make_technician("Cli Tech", "+998900000055")
    db.session.commit()
    runner = app.test_cli_runner()
    r = runner.invoke(args=["users", "create", "--email", "clitech@example.com", "--password", "tech-pass-12",
                            "--role", "technician", "--technician-id", t.id])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["users", "create", "--email", "climgr@example.com", "--password", "mgr-pass-123",
                            "--role", "store_manager", "--branch-id", world.branch.id, "--branch-id", world.branch2.id])
    assert r.exit_code == 0, r.output
    db.session.rollback()
    mgr = db.session.query(User).filter_by(email="climgr@example.com").one()
    assert {b.id for b in mgr.branches} == {world.branch.id, world.branch2.id}
    assert db.session.query(User).filter_by(email="clitech@example.com").one().technician_id == t.id


@pytest.mark.parametrize("args,message", [
    (["--email", "admin@example.com", "--password", "long-enough-1", "--role", "admin"], "exists"),
    (["--email", "x@example.com", "--password", "short", "--role", "admin"], "password"),
    (["--email", "x@example.com", "--password", "long-enough-1", "--role", "technician"], "technician"),
    (["--email", "x@example.com", "--password", "long-enough-1", "--role", "wizard"], "wizard"),
])
def test_flask_users_create_explains_what_is_wrong(world, app, args, message):
    before = db.session.query(User).count()
    r = app.test_cli_runner().invoke(args=["users", "create", *args])
    assert r.exit_code != 0 and message in r.output.lower()
    db.session.rollback()
    assert db.session.query(User).count() == before
