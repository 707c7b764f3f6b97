"""The dispatcher's and the analytics pages in the reader's language (issue 17): the
board, the ticket list, the management pages, the analytics page and its CSV, the
service report; and the seeded categories and subcategories shown in the reader's
language while the API keeps their stored names."""
from __future__ import annotations

import csv
import io

from app.extensions import db
from app.models import IssueCategory, IssueSubcategory, User
from app.services import reference
from tests.conftest import new_client, sign_in
from tests.dispatcher.helpers import approved, card, column
from tests.factories import make_ticket

RU = {"Accept-Language": "ru"}
UZ = {"Accept-Language": "uz"}


def _reader(app, user, locale):
    """A signed-in client of `user` reading in `locale` (their own choice, as stored)."""
    db.session.get(User, user.id).locale = locale
    db.session.commit()
    return sign_in(new_client(app), user)


# --- reference data -------------------------------------------------------------------

def test_the_seed_gives_the_seeded_names_in_russian_and_uzbek(world):
    assert world.category.name_translations == {"ru": "Неисправности холодильного оборудования",
                                                "uz": "Sovutish uskunalari nosozliklari"}
    sub = world.subcategories["Glass Repair"]
    assert reference.local_name(sub, "ru") == "Ремонт стёкол"
    assert reference.local_name(sub, "uz") == "Shisha taʼmiri"  # the tutuq belgisi, U+02BC
    assert reference.local_name(sub, "en") == "Glass Repair"
    # A name nobody translated reads as typed, in every language.
    assert reference.local_text("Compressors", None, "ru") == "Compressors"
    assert reference.local_text("Compressors", {"ru": "  "}, "ru") == "Compressors"


def test_the_seed_fills_missing_translations_and_keeps_a_dispatchers(world):
    from app.cli import seed_categories

    sub = world.subcategories["Leaking Water"]
    sub.name_translations = None
    world.subcategories["Noise/Vibration"].name_translations = {"ru": "Шумит"}
    db.session.commit()
    seed_categories()
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(IssueSubcategory, sub.id).name_translations["ru"] == "Протечка воды"
    assert db.session.get(IssueSubcategory, world.subcategories["Noise/Vibration"].id).name_translations == {"ru": "Шумит"}


def test_the_board_and_the_list_show_the_subcategory_in_the_readers_language(app, world):
    ticket = make_ticket(world, description="Камера +12, продукты тают")
    db.session.commit()
    ru = _reader(app, world.dispatcher, "ru").get("/dispatcher/tickets").get_data(as_text=True)
    assert "Холодильные камеры" in card(ru, ticket) and "Cold Chambers" not in card(ru, ticket)
    uz = _reader(app, world.dispatcher, "uz").get("/dispatcher/tickets/list").get_data(as_text=True)
    assert "Sovutish kameralari" in uz
    en = _reader(app, world.dispatcher, None).get("/dispatcher/tickets").get_data(as_text=True)
    assert "Cold Chambers" in card(en, ticket)
    # Every other page that names it: the ticket page, the store's list.
    page = _reader(app, world.dispatcher, "ru").get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Холодильные камеры" in page and "Камера +12, продукты тают" in page  # data as typed


def test_the_api_keeps_returning_the_stored_names(world, api):
    got = api.as_(world.dispatcher).get("/api/issue-categories", headers=RU)
    assert got.status_code == 200
    assert "Cooling Equipment Problems" in [c["name"] for c in got.get_json()]
    subs = api.as_(world.dispatcher).get(f"/api/issue-categories/{world.category.id}/subcategories", headers=UZ)
    assert "Cold Chambers" in subs.get_data(as_text=True) and "Sovutish" not in subs.get_data(as_text=True)


def test_a_dispatcher_gives_a_new_category_and_subcategory_their_names_in_russian_and_uzbek(app, world):
    client = _reader(app, world.dispatcher, "ru")
    page = client.get("/dispatcher/categories").get_data(as_text=True)
    assert "Категории и сроки SLA" in page and "Название на русском" in page
    assert "Неисправности холодильного оборудования" in page and "Регулировка температуры" in page
    saved = client.post("/dispatcher/categories", data={"name": "Compressors", "nameRu": "Компрессоры",
                                                       "nameUz": "Kompressorlar"}, follow_redirects=True)
    assert saved.status_code == 200 and "Категория «Компрессоры» добавлена." in saved.get_data(as_text=True)
    category = db.session.query(IssueCategory).filter_by(name="Compressors").one()
    assert category.name_translations == {"ru": "Компрессоры", "uz": "Kompressorlar"}

    made = client.post(f"/dispatcher/categories/{category.id}/subcategories/new",
                       data={"name": "Oil leak", "nameRu": "Утечка масла", "nameUz": ""}, follow_redirects=True)
    assert "Подкатегория «Утечка масла» добавлена." in made.get_data(as_text=True)
    sub = db.session.query(IssueSubcategory).filter_by(name="Oil leak").one()
    assert sub.name_translations == {"ru": "Утечка масла"}  # an empty one is none
    # Editing: the form shows them; emptying one removes it; the stored name stays.
    form = client.get(f"/dispatcher/subcategories/{sub.id}").get_data(as_text=True)
    assert 'value="Утечка масла"' in form
    client.post(f"/dispatcher/subcategories/{sub.id}", data={"name": "Oil leak", "nameRu": "", "nameUz": "Moy oqishi",
                                                            "description": ""})
    db.session.expire_all()
    sub = db.session.get(IssueSubcategory, sub.id)
    assert sub.name == "Oil leak" and sub.name_translations == {"uz": "Moy oqishi"}


def test_a_too_long_translation_is_refused_with_nothing_saved(app, world):
    client = _reader(app, world.dispatcher, "ru")
    resp = client.post("/dispatcher/categories", data={"name": "Long", "nameRu": "я" * 201})
    assert resp.status_code == 400 and "Не больше 200 символов." in resp.get_data(as_text=True)
    assert db.session.query(IssueCategory).filter_by(name="Long").count() == 0


# --- the board ------------------------------------------------------------------------------

def test_the_board_in_russian_with_plural_forms(app, world):
    client = _reader(app, world.dispatcher, "ru")
    make_ticket(world)
    db.session.commit()
    html = client.get("/dispatcher/tickets").get_data(as_text=True)
    assert "Доска заявок" in html and "Онлайн · 1 заявка" in html
    assert "Ждёт подтверждения" in html and "Только что поступили" in html
    assert 'data-fmt-left="осталось %(time)s"' in html and 'data-fmt-m="%(minutes)dм"' in html
    make_ticket(world)
    db.session.commit()
    assert "Онлайн · 2 заявки" in client.get("/dispatcher/tickets").get_data(as_text=True)
    for _ in range(3):
        make_ticket(world)
    db.session.commit()
    assert "Онлайн · 5 заявок" in client.get("/dispatcher/tickets").get_data(as_text=True)


def test_the_board_in_uzbek(app, world):
    make_ticket(world)
    db.session.commit()
    html = _reader(app, world.dispatcher, "uz").get("/dispatcher/tickets").get_data(as_text=True)
    assert "Arizalar paneli" in html and "Jonli · 1 ta ariza" in html and "Tasdiqlash kutilmoqda" in html
    closed, _ = approved(world)
    db.session.commit()
    html = _reader(app, world.dispatcher, "uz").get("/dispatcher/tickets").get_data(as_text=True)
    assert closed.ticket_number in column(html, "CLOSED")


def test_management_pages_and_their_messages_in_russian(app, world):
    client = _reader(app, world.dispatcher, "ru")
    assert "Клиенты и филиалы" in client.get("/dispatcher/branches").get_data(as_text=True)
    techs = client.get("/dispatcher/technicians").get_data(as_text=True)
    assert "Добавить техника" in techs and "Timur Primary" in techs
    created = client.post("/dispatcher/customers", data={"name": "Korzinka"}, follow_redirects=True)
    assert "Клиент «Korzinka» добавлен." in created.get_data(as_text=True)
    empty = client.post("/dispatcher/customers", data={"name": ""})
    assert empty.status_code == 400 and "Обязательное поле." in empty.get_data(as_text=True)
    new = client.get("/tickets/create").get_data(as_text=True)
    assert "Новая заявка" in new and "Выберите категорию…" in new or "Неисправности холодильного оборудования" in new


# --- analytics --------------------------------------------------------------------------------

def test_the_analytics_page_and_csv_in_russian(app, world):
    approved(world)
    db.session.commit()
    client = _reader(app, world.dispatcher, "ru")
    html = client.get("/dispatcher/analytics").get_data(as_text=True)
    assert "Аналитика" in html and "Соблюдение сроков" in html and "Повторные неисправности" in html
    assert "Холодильные камеры" in html  # the subcategory tables
    body = client.get("/dispatcher/analytics/sla-subcategory.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Подкатегория", "Создано заявок"]
    assert rows[1][0] == "Холодильные камеры"
    cost = client.get("/dispatcher/analytics/cost-category.csv").get_data(as_text=True)
    assert "Общая стоимость (USD)" in cost


def test_the_analytics_page_in_uzbek(app, world):
    html = _reader(app, world.dispatcher, "uz").get("/dispatcher/analytics").get_data(as_text=True)
    assert "Muddatlarga rioya" in html and "Soʻnggi 30 kun" in html


def test_the_service_report_pdf_is_in_the_readers_language(app, world):
    from app.services import reports
    from app.i18n import force_locale

    ticket, _ = approved(world)
    db.session.commit()
    report = reports.load_report(world.dispatcher, ticket.id)
    with app.test_request_context(), force_locale("ru"):
        pdf = reports.render_pdf(report)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert "Акт выполненных работ" in text and "Холодильные камеры" in " ".join(text.split()), text


def _pdf_text(pdf: bytes) -> str:
    """The text of a small fpdf2 PDF (pypdf when installed, else skip)."""
    import pytest

    pypdf = pytest.importorskip("pypdf")
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
