"""The store manager's and the technician's pages and messages in their own language
(issue 17): what a Russian or Uzbek reader sees on the report form, the branch list, the
approval page, the service report, the queue and the completion form; the refusals of
those flows (pages and API, Accept-Language); plural forms; and the data people typed,
shown as typed."""
from __future__ import annotations

import html as htmllib
import io
import re
from types import SimpleNamespace

import pytest
from flask import render_template

from app.extensions import db
from app.i18n import force_locale
from app.models import TicketStatus, User
from app.services import tickets
from tests.conftest import new_client, sign_in
from tests.factories import make_ticket, signature_data_url
from tests.store.conftest import finished_ticket

DESCRIPTION = "Cold chamber at 12°C, should be 2°C"  # the test world's words: data, never translated


def _speaks(user, lang):
    db.session.get(User, user.id).locale = lang
    db.session.commit()


def _text(resp) -> str:
    """The page's text as read (tags dropped, entities decoded, spaces collapsed)."""
    body = resp.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# --- the store manager ------------------------------------------------------------

def test_the_branch_list_in_russian_keeps_the_description_as_typed(app, world):
    _speaks(world.manager, "ru")
    make_ticket(world, by=world.manager)
    db.session.commit()
    page = sign_in(new_client(app), world.manager).get("/store")
    text = _text(page)
    assert '<html lang="ru">' in page.get_data(as_text=True)
    assert "Мой филиал" in text and "Сообщить о неисправности" in text and "Открытые заявки" in text
    assert "Техник назначен" in text and "Срок реакции" in text and "Недавно закрытые" in text
    assert DESCRIPTION in text
    assert "Open tickets" not in text and "Technician assigned" not in text


@pytest.mark.parametrize("count, words", [
    (1, "1 работа ждёт вашего подтверждения."),
    (2, "2 работы ждут вашего подтверждения."),
    (5, "5 работ ждут вашего подтверждения."),
    (21, "21 работа ждёт вашего подтверждения."),
])
def test_the_approval_banner_counts_in_russian(app, count, words):
    data = SimpleNamespace(awaiting_count=count, open=[], closed=[], closed_more=False)
    with app.test_request_context("/store"), force_locale("ru"):
        html = render_template("store/partials/_tickets.html", data=data, branches=[])
    assert words in html


@pytest.mark.parametrize("lang, words", [("uz", "2 ta ish tasdigʻingizni kutmoqda."),
                                         ("en", "2 jobs are waiting for your approval.")])
def test_the_approval_banner_in_uzbek_and_english(app, lang, words):
    data = SimpleNamespace(awaiting_count=2, open=[], closed=[], closed_more=False)
    with app.test_request_context("/store"), force_locale(lang):
        assert words in render_template("store/partials/_tickets.html", data=data, branches=[])


def test_the_report_form_in_uzbek_with_its_script_words(app, world):
    _speaks(world.manager, "uz")
    page = sign_in(new_client(app), world.manager).get("/store/tickets/new")
    text, html = _text(page), page.get_data(as_text=True)
    assert "Nosozlik haqida xabar berish" in text and "Qanchalik shoshilinch?" in text
    assert "Juda muhim" in text and "Umuman sovutmayapti: mahsulotlar hozir xavf ostida." in text
    assert "Servisga yuborish" in text
    # The words store.js shows come from the page, in the reader's language.
    assert 'data-msg-sending="Yuborilmoqda… {pct}%"' in html
    assert 'data-msg-count2="2 ta surat (5 tadan)"' in html
    assert 'data-busy-text="Yuborilmoqda…"' in html


def test_the_report_form_refuses_another_branch_in_russian(app, world):
    _speaks(world.manager, "ru")
    client = sign_in(new_client(app), world.manager)
    sub = world.subcategory
    r = client.post("/store/tickets/new", data={
        "branchId": world.other_branch.id, "categoryId": sub.category_id, "subcategoryId": sub.id,
        "description": "Не холодит витрина", "priority": "HIGH"})
    assert r.status_code == 400
    text = _text(r)
    assert "Сообщать о неисправностях можно только по своему филиалу." in text
    assert "Не холодит витрина" in r.get_data(as_text=True)  # what was typed comes back as typed


def test_the_approval_page_and_its_refusal_and_flash_in_russian(app, world):
    t = finished_ticket(world)
    _speaks(world.manager, "ru")
    client = sign_in(new_client(app), world.manager)
    text = _text(client.get(f"/tickets/{t.id}/approve"))
    assert "Проверка работы" in text and "Подпишите для подтверждения" in text
    assert "Распишитесь здесь пальцем или мышью" in text and "Вернуть работу технику?" in client.get(
        f"/tickets/{t.id}/approve").get_data(as_text=True)
    assert "Replaced the fan motor and refilled R404A." in text  # the technician's words, as written
    assert "Стоимость" in text and "211,00" in text  # the cost table itself: tickets/_costs.html
    blank = client.post(f"/tickets/{t.id}/approve", data={
        "action": "approve", "signedBy": "Дилноза К.", "signature": signature_data_url(draw=False)})
    assert blank.status_code == 400 and "Пожалуйста, подпишите в поле." in _text(blank)
    done = client.post(f"/tickets/{t.id}/approve", data={
        "action": "approve", "signedBy": "Дилноза К.", "signature": signature_data_url()}, follow_redirects=True)
    report = _text(done)
    assert f"Подтверждено: заявка {t.ticket_number} закрыта. Спасибо!" in report
    assert "Акт выполненных работ" in report and "Подписал(а) Дилноза К." in report
    assert "Срок реакции" in report and DESCRIPTION in report


def test_the_service_report_in_uzbek(app, world):
    t = finished_ticket(world)
    from app.services import completions

    completions.decide(t.completion, world.manager, {"action": "approve", "signedBy": "Dilnoza",
                                                    "signature": signature_data_url()})
    db.session.commit()
    _speaks(world.manager, "uz")
    text = _text(sign_in(new_client(app), world.manager).get(f"/tickets/{t.id}/report"))
    assert "Bajarilgan ishlar dalolatnomasi" in text and "Vaqt va muddatlar" in text
    assert re.search(r"Ish haqi: 1[.,]5 soat × 40,00", text) and "Imzolagan: Dilnoza" in text


# --- the technician ----------------------------------------------------------------

def test_the_queue_and_its_actions_in_russian(app, world):
    t = make_ticket(world)
    db.session.commit()
    _speaks(world.tech, "ru")
    client = sign_in(new_client(app), world.tech)
    text = _text(client.get("/tech/dashboard"))
    assert "Мои заявки" in text and "К выполнению" in text and "Принять" in text and "Отказаться" in text
    assert "Ответить за" in text and "Приоритет: Обычный" in text and DESCRIPTION in text
    refused = client.post(f"/tech/tickets/{t.id}/decline", data={"reason": " "}, headers={"HX-Request": "true"})
    assert refused.status_code == 400 and "Укажите причину отказа." in _text(refused)
    accepted = client.post(f"/tech/tickets/{t.id}/accept", headers={"HX-Request": "true"})
    assert f"Заявка {t.ticket_number} принята. Нажмите «Я на месте», когда приедете." in _text(accepted)
    assert "Я на месте" in _text(accepted) and "Завершить работу" in _text(accepted)


def test_the_completion_form_and_its_errors_in_uzbek(app, world):
    t = make_ticket(world)
    tickets.accept(t, world.tech)
    db.session.commit()
    _speaks(world.tech, "uz")
    client = sign_in(new_client(app), world.tech)
    page = client.get(f"/tech/tickets/{t.id}/complete")
    text = _text(page)
    assert f"Yakunlash: {t.ticket_number}" in text and "Ish haqi va ehtiyot qismlar" in text
    assert "Ehtiyot qism qoʻshish" in text and "Tasdiqlashga yuborish" in text
    assert 'data-msg-uploading="Yuklanmoqda… {pct}%"' in page.get_data(as_text=True)
    r = client.post(f"/tech/tickets/{t.id}/complete", data={"workDescription": "Fan almashtirildi", "laborHours": "1,5"})
    assert r.status_code == 422
    assert "Kamida bitta “keyin” suratini qoʻshing." in _text(r)
    assert "Fan almashtirildi" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(t), t.id).status == TicketStatus.IN_PROGRESS  # nothing half-written


def test_the_completion_blocker_in_russian(app, world):
    t = make_ticket(world)  # assigned, not accepted yet
    db.session.commit()
    _speaks(world.tech, "ru")
    text = _text(sign_in(new_client(app), world.tech).get(f"/tech/tickets/{t.id}/complete"))
    assert "Сначала примите эту заявку, потом завершайте." in text and "К моим заявкам" in text


# --- the API: errors follow Accept-Language ----------------------------------------------

def test_api_refusals_of_these_flows_follow_accept_language(world, api):
    t = make_ticket(world)
    tickets.accept(t, world.tech)
    db.session.commit()
    me = api.as_(world.tech)
    body = {"workDescription": "Заменил мотор", "laborHours": "1", "laborCostPerHour": "10"}
    ru = me.post(f"/api/tickets/{t.id}/complete", json=body, headers={"Accept-Language": "ru"})
    assert ru.status_code == 400
    assert ru.get_json()["fields"]["photos"] == "Добавьте хотя бы одно фото «после»."
    assert "photos" in ru.get_json()["fields"]  # field names stay the API's
    uz = me.post(f"/api/tickets/{t.id}/photos", data={"type": "after", "file": (io.BytesIO(b"not a photo"), "a.jpg")},
                 headers={"Accept-Language": "uz"})
    assert uz.status_code == 415
    assert uz.get_json()["fields"]["file"] == "JPEG, PNG, WebP yoki HEIC surat yuklang."
    en = me.post(f"/api/tickets/{t.id}/complete", json=body)
    assert en.get_json()["fields"]["photos"] == "Add at least one “after” photo."
    again = me.post(f"/api/tickets/{t.id}/accept", headers={"Accept-Language": "ru"})
    assert again.status_code == 409
    assert again.get_json()["error"] == "Принять можно только назначенную заявку (статус этой: В работе)"
