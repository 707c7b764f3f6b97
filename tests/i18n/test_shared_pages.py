"""The shared pages and messages in their reader's language (issue 17): the frame, the
sign-in page, error pages, the profile and the notifications, the ticket page and its
timeline; form errors (ours and WTForms' own), flash messages, API and JSON errors;
durations and ages with the language's plural forms. Data stays as typed."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.models import TicketPriority
from app.services import tickets, timefmt, timeline_text
from tests.conftest import new_client, sign_in
from tests.factories import make_ticket

DESCRIPTION = "Chamber 3 reads 12°C; the door seal is torn (typed by the store)"


def _as(app, user, lang):
    user.locale = lang
    db.session.commit()
    return sign_in(new_client(app), user)


def _html(resp) -> str:
    return resp.get_data(as_text=True)


def test_the_ticket_page_reads_in_russian_and_keeps_the_description(app, world):
    ticket = make_ticket(world, description=DESCRIPTION, priority=TicketPriority.HIGH)
    tickets.add_store_note(ticket, world.manager, "Please call before 10:00")
    db.session.commit()
    page = _html(_as(app, world.manager, "ru").get(f"/tickets/{ticket.id}"))
    assert '<html lang="ru">' in page
    assert "<h2>Неисправность</h2>" in page and "<h2>История</h2>" in page
    assert DESCRIPTION in page  # data as typed
    assert "Заметка магазина: Please call before 10:00" in page  # the sentence translated, the note not
    assert "Заявка создана, приоритет: Высокий." in page
    assert "Выйти" in page and "Sign out" not in page
    staff = _html(_as(app, world.dispatcher, "ru").get(f"/tickets/{ticket.id}"))
    assert "Закрыть без выполнения" in staff and "Изменить приоритет" in staff
    assert f'data-confirm="Закрыть {ticket.ticket_number} без выполнения?' in staff


def test_the_ticket_page_reads_in_uzbek(app, world):
    ticket = make_ticket(world, description=DESCRIPTION)
    db.session.commit()
    page = _html(_as(app, world.manager, "uz").get(f"/tickets/{ticket.id}"))
    assert "<h2>Nosozlik</h2>" in page and "<h2>Tarix</h2>" in page
    assert "Ariza yaratildi, muhimlik: Oddiy." in page
    assert "Arizani toʻldirish" in page  # the store's "Add to your report", with the real ʻ (U+02BB)
    assert DESCRIPTION in page


def test_timeline_sentences_follow_the_reader_and_keep_what_people_wrote(app):
    with app.test_request_context(), force_locale("ru"):
        assert timeline_text.event_text("declined", {"reason": "On another job"}) == \
            "Техник отказался: «On another job»"
        assert timeline_text.event_text("arrived", {"distanceMeters": 7480}) == \
            "Техник прибыл на место, 7,5 км от филиала."
        assert timeline_text.event_text("no_such_kind", {}) == "Заявка изменена."
    with app.test_request_context(), force_locale("uz"):
        assert timeline_text.event_text("arrived", {"distanceMeters": 480}) == \
            "Texnik joyga yetib keldi, filialdan 480 m."
    assert timeline_text.event_text("arrived", {"distanceMeters": 7480}) == "Arrived on site, 7.5 km from the branch."


@pytest.mark.parametrize("n, days", [(1, "1 день"), (2, "2 дня"), (5, "5 дней"), (21, "21 день")])
def test_durations_and_ages_use_the_russian_plural_forms(app, n, days):
    with app.test_request_context(), force_locale("ru"):
        assert timefmt.duration(n * 1440) == days
        assert timefmt.ago(n * 86400) == f"{days} назад"
        assert timefmt.until(n * 86400) == f"через {days}"


def test_durations_in_uzbek_and_english(app):
    with app.test_request_context():
        with force_locale("uz"):
            assert timefmt.duration(2 * 1440 + 90) == "2 kun 1 soat 30 daq"
            assert timefmt.ago(300) == "5 daqiqa oldin"
            assert timefmt.span(3 * 3600 + 300) == "3 soat 05 daq"
        with force_locale("ru"):
            assert timefmt.span(3 * 3600 + 300, compact=True) == "3ч 05м"
            assert timefmt.duration(90) == "1 ч 30 мин"
        assert timefmt.duration(1440) == "1 day" and timefmt.duration(2880) == "2 days"
        assert timefmt.span(3 * 3600 + 300, compact=True) == "3h 05m"


@pytest.mark.parametrize("lang, n, words", [("ru", 1, "1 непрочитанное"), ("ru", 2, "2 непрочитанных"),
                                             ("ru", 5, "5 непрочитанных"), ("uz", 2, "2 ta oʻqilmagan"),
                                             ("en", 2, "2 unread")])
def test_notification_counts_use_plural_forms(app, lang, n, words):
    from flask import render_template

    with app.test_request_context(), force_locale(lang):
        html = render_template("account/partials/_notif_actions.html", unread=n, unread_only=False)
        group = render_template("account/partials/_notification_group.html", unread_only=False, g=_Group(n))
    assert words in html
    assert {"ru": {1: "1 обновление", 2: "2 обновления", 5: "5 обновлений"}, "uz": {2: "2 ta yangilanish"},
            "en": {2: "2 updates"}}[lang][n] in group


class _Group:
    """A digest group of `total` read items, as the inbox hands it to its template."""

    def __init__(self, total):
        self.key, self.ticket, self.unread, self.total, self.shown, self.folded = "g1", None, 0, total, [], []


def test_the_sign_in_page_and_its_errors_in_russian(app):
    client = new_client(app)
    page = _html(client.get("/login", headers={"Accept-Language": "ru"}))
    assert "<h1>Войти</h1>" in page and "<span>Эл. почта</span>" in page and "<span>Пароль</span>" in page
    refused = client.post("/login", data={"email": "", "password": ""}, headers={"Accept-Language": "ru"})
    assert refused.status_code == 401 and "Введите эл. почту и пароль." in _html(refused)
    wrong = client.post("/login", data={"email": "nobody@example.com", "password": "x"},
                        headers={"Accept-Language": "uz"})
    assert "Elektron pochta yoki parol notoʻgʻri" in _html(wrong)


def test_profile_form_errors_flash_and_wtforms_messages_follow_the_user(app, world):
    client = _as(app, world.tech, "ru")
    mismatch = client.post("/profile/password", data={
        "current_password": "whatever-1", "new_password": "a-new-password", "repeat_password": "another-one"})
    assert mismatch.status_code == 400 and "Новые пароли не совпадают." in _html(mismatch)
    saved = client.post("/profile", data={"phone": "+998 90 123 45 67"}, follow_redirects=True)
    assert "Настройки уведомлений сохранены." in _html(saved)
    # WTForms' own message (a choice not offered), from our catalogue: WTForms has no Uzbek.
    client = _as(app, world.manager, "uz")
    refused = client.post("/profile/language", data={"locale": "de"})
    assert refused.status_code == 400 and "Notoʻgʻri tanlov." in _html(refused)
    assert "Not a valid choice" not in _html(refused)


def test_error_pages_follow_the_reader(app, world):
    client = _as(app, world.manager, "ru")
    missing = client.get("/tickets/does-not-exist")
    assert missing.status_code == 404
    assert "Заявка не найдена" in _html(missing) and "На главную" in _html(missing)
    anonymous = new_client(app).get("/no/such/page", headers={"Accept-Language": "uz"})
    assert anonymous.status_code == 404 and "Topilmadi" in _html(anonymous)


def test_api_error_messages_follow_accept_language_and_keep_field_names(app, world, api):
    ticket = make_ticket(world)
    db.session.commit()
    as_tech = api.as_(world.outsider_tech)
    r = as_tech.get(f"/api/tickets/{ticket.id}", headers={"Accept-Language": "ru"})
    assert r.status_code == 404 and r.get_json() == {"error": "Заявка не найдена"}
    r = api.as_(world.manager).patch("/api/users/me", json={"phone": "call me"}, headers={"Accept-Language": "uz"})
    body = r.get_json()
    assert r.status_code == 400 and body["fields"] == {"phone": "Toʻgʻri telefon raqamini kiriting."}
    r = api.as_(world.manager).post("/api/tickets", data="[" * 100 + "]" * 100,
                                    headers={"Accept-Language": "ru", "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"] == "JSON слишком глубоко вложен (не более 64 уровней)."
    r = as_tech.get(f"/api/tickets/{ticket.id}")  # no Accept-Language: English
    assert r.get_json() == {"error": "Ticket not found"}


def test_the_bell_and_frame_in_uzbek(app, world):
    client = _as(app, world.dispatcher, "uz")
    page = _html(client.get("/notifications"))
    assert "<h1>Bildirishnomalar</h1>" in page and "Arizalar paneli" in page and "Chiqish" in page


def test_the_database_down_page_follows_the_browser(app):
    """The 503 page needs no database, and still reads in the browser's language."""
    from app.errors import _plain_page

    with app.test_request_context("/store", headers={"Accept-Language": "ru"}):
        html = _plain_page(503, "")
    assert '<html lang="ru">' in html and "<h1>Сервис временно недоступен</h1>" in html
    assert "База данных не отвечает." in html and "Попробовать снова" in html
