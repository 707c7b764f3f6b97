"""Changing one's password on /profile: this browser stays signed in, every other
session and every sign-in token of the user ends, and wrong current passwords count
against the sign-in throttle."""
import re

import pytest

from app.extensions import db
from app.models import User
from app.services import users
from tests.factories import PASSWORD
from tests.security.conftest import new_client, sign_in

NEW = "a-brand-new-one-7"


def change(client, current=PASSWORD, new=NEW, repeat=None, addr="127.0.0.1"):
    return client.post("/profile/password", environ_base={"REMOTE_ADDR": addr}, data={
        "current_password": current, "new_password": new, "repeat_password": new if repeat is None else repeat})


def field_errors(html: str) -> list[str]:
    return re.findall(r'<div class="field-error"[^>]*>([^<]+)</div>', html)


def test_the_profile_page_offers_the_form(app, world):
    html = sign_in(new_client(app), world.manager).get("/profile").get_data(as_text=True)
    assert "Change password" in html
    for name, autocomplete in [("current_password", "current-password"), ("new_password", "new-password"),
                               ("repeat_password", "new-password")]:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert tag and 'type="password"' in tag.group(0) and f'autocomplete="{autocomplete}"' in tag.group(0), name


def test_changing_my_password_keeps_this_browser_and_ends_everything_else(app, world, ctx):
    here = sign_in(new_client(app), world.tech)
    elsewhere = sign_in(new_client(app), world.tech)
    token = users.issue_token(world.tech)
    db.session.commit()

    r = change(here)
    # The top of the profile page, where the confirmation shows (not the form far below it).
    assert r.status_code == 302 and r.headers["Location"].endswith("/profile")
    page = here.get("/profile")
    assert page.status_code == 200  # still signed in here
    assert "Your password is changed" in page.get_data(as_text=True)
    assert here.get("/tech/dashboard").status_code == 200

    assert elsewhere.get("/tech/dashboard").status_code == 302  # the other browser is signed out
    api = app.test_client()
    assert api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert new_client(app).post("/login", data={"email": world.tech.email, "password": PASSWORD}).status_code == 401
    assert new_client(app).post("/login", data={"email": world.tech.email, "password": NEW}).status_code == 302


@pytest.mark.parametrize("current,new,repeat,message", [
    ("not-my-password", NEW, None, "This is not your current password."),
    ("", NEW, None, "Enter your current password."),
    (PASSWORD, "short", None, "At least 8 characters."),
    (PASSWORD, "tech@example.com", None, "The password must not be the email address of the account."),
    (PASSWORD, NEW, NEW + "x", "The two new passwords are not the same."),
    (PASSWORD, "", "", "Enter a new password."),
])
def test_a_refused_change_says_why_and_changes_nothing(app, world, ctx, current, new, repeat, message):
    here = sign_in(new_client(app), world.tech)
    elsewhere = sign_in(new_client(app), world.tech)
    before = db.session.get(User, world.tech.id).password_hash
    r = change(here, current, new, repeat)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in field_errors(html), field_errors(html)
    assert "Your password was not changed; please correct the highlighted fields." in html
    assert NEW not in html and PASSWORD not in html  # passwords are never echoed back
    # On a phone the form is far down the page: the answer opens at the form, with the
    # cursor in the first field that needs fixing.
    assert re.search(r'<form method="post" action="/profile/password#password"', html)
    first = re.search(r'<input[^>]*aria-invalid="true"[^>]*>', html).group(0)
    assert "autofocus" in first and html.count("autofocus") == 1  # every field in error is marked, the first focused
    db.session.expire_all()
    assert db.session.get(User, world.tech.id).password_hash == before
    assert elsewhere.get("/tech/dashboard").status_code == 200  # nothing ended


def test_wrong_current_passwords_on_the_page_count_against_the_sign_in_throttle(app, world):
    here = sign_in(new_client(app), world.manager)
    for i in range(10):
        assert change(here, current=f"guess-{i}", addr=f"10.9.0.{i}").status_code == 400
    assert change(here, addr="10.9.1.1").status_code == 429
    r = new_client(app).post("/login", data={"email": world.manager.email, "password": PASSWORD},
                             environ_base={"REMOTE_ADDR": "10.9.1.2"})
    assert r.status_code == 429


def test_the_forms_address_opened_directly_leads_to_the_form(app, world):
    r = sign_in(new_client(app), world.manager).get("/profile/password")
    assert r.status_code == 302 and r.headers["Location"].endswith("/profile#password")
