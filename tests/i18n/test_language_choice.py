"""Which language a reader gets (app/i18n.py): their own choice, else the switch on the
signed-out pages, else the browser's, else DEFAULT_LOCALE; the API's errors follow
Accept-Language."""
from __future__ import annotations

from app.extensions import db
from app.models import User
from tests.conftest import new_client, sign_in


def _lang(resp) -> str:
    html = resp.get_data(as_text=True)
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_login_page_follows_the_browser_and_offers_a_switch(app):
    client = new_client(app)
    ru = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert _lang(ru) == "ru"
    html = ru.get_data(as_text=True)
    assert "Язык" in html and 'href="/language/uz?next=/login"' in html and 'href="/language/en?next=/login"' in html
    assert _lang(client.get("/login")) == "en"  # nothing asked: DEFAULT_LOCALE
    assert _lang(client.get("/login", headers={"Accept-Language": "de, fr"})) == "en"


def test_the_switch_keeps_the_choice_over_the_browser(app):
    client = new_client(app)
    switched = client.get("/language/uz?next=/login")
    assert switched.status_code == 302 and switched.headers["Location"] == "/login"
    assert _lang(client.get("/login", headers={"Accept-Language": "ru"})) == "uz"
    # Not a language of ours, or an address elsewhere: nothing kept, no open redirect.
    bad = client.get("/language/de?next=//evil.example/")
    assert bad.status_code == 302 and bad.headers["Location"] == "/login"
    assert _lang(client.get("/login")) == "uz"


def test_a_users_own_language_wins_and_is_kept_from_the_switch(app, world):
    client = new_client(app)
    client.get("/language/ru?next=/login")
    sign_in(client, world.manager)
    db.session.expire_all()
    assert db.session.get(User, world.manager.id).locale == "ru"  # their messages follow it too
    assert _lang(client.get("/profile", headers={"Accept-Language": "uz"})) == "ru"


def test_the_profile_page_sets_the_language(app, world):
    client = sign_in(new_client(app), world.tech)
    page = client.get("/profile", headers={"Accept-Language": "en"})
    assert _lang(page) == "en" and "Language" in page.get_data(as_text=True)
    saved = client.post("/profile/language", data={"locale": "uz"}, follow_redirects=True)
    assert saved.status_code == 200 and _lang(saved) == "uz" and "Til saqlandi." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, world.tech.id).locale == "uz"
    bad = client.post("/profile/language", data={"locale": "klingon"})
    assert bad.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world.tech.id).locale == "uz"
    client.post("/profile/language", data={"locale": ""})  # back to the browser's
    db.session.expire_all()
    assert db.session.get(User, world.tech.id).locale is None
    assert _lang(client.get("/profile", headers={"Accept-Language": "ru"})) == "ru"


def test_the_api_sets_the_language_and_answers_errors_in_the_asked_one(world, api):
    me = api.as_(world.dispatcher)
    r = me.patch("/api/users/me", json={"locale": "ru"})
    assert r.status_code == 200 and r.get_json()["locale"] == "ru"
    bad = me.patch("/api/users/me", json={"locale": "fr"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and bad.get_json()["fields"]["locale"] == "Choose one of: en, ru, uz."
    bad_ru = me.patch("/api/users/me", json={"locale": "fr"}, headers={"Accept-Language": "ru"})
    assert bad_ru.get_json()["fields"]["locale"] == "Выберите один из: en, ru, uz."
    # No Accept-Language: the user's own language.
    assert me.patch("/api/users/me", json={"locale": "FR"}).get_json()["fields"]["locale"].startswith("Выберите")
    assert me.get("/api/users/me").get_json()["locale"] == "ru"
    assert me.patch("/api/users/me", json={"locale": None}).get_json()["locale"] is None
