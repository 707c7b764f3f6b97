"""The equipment pages in Russian and Uzbek (issue 17's rules for issue 18's pages): the
reader's language for our words and plural forms, the data (names, tags) as stored."""
from __future__ import annotations

import pytest

from app import clock
from app.extensions import db
from app.models import User
from tests.equipment.conftest import at, make_unit, ticket_on


def reader(signed_in, user, lang):
    db.session.get(User, user.id).locale = lang
    db.session.commit()
    return signed_in(user)


@pytest.mark.parametrize("faults, words", [
    (1, "неисправность за последние 90 дней"), (2, "неисправности за последние 90 дней"),
    (5, "неисправностей за последние 90 дней")])
def test_the_unit_page_in_russian_counts_faults_in_the_right_form(world, signed_in, faults, words):
    unit = make_unit(world, name="Мясная камера №1", replacementCost="8000.00")
    clock.set_now(at("2026-11-01T08:00:00Z"))
    for _ in range(faults):
        ticket_on(world, unit)
    page = reader(signed_in, world.manager, "ru").get(f"/equipment/{unit.id}").get_data(as_text=True)
    assert words in page
    assert "Ремонтировать или заменить?" in page and "Ремонт пока оправдан." in page
    assert "Мясная камера №1" in page and "CR-001" in page  # the data as typed


def test_the_unit_page_and_the_picker_in_uzbek(world, signed_in):
    unit = make_unit(world, name="Sut vitrinasi", kind="DISPLAY_CASE")
    m = reader(signed_in, world.manager, "uz")
    page = m.get(f"/equipment/{unit.id}").get_data(as_text=True)
    assert "Qurilma haqida" in page and "Sut vitrinasi" in page
    form = m.get("/store/tickets/new").get_data(as_text=True)
    assert "Qaysi qurilma?" in form and "Bilmayman / boshqa" in form and "Sut vitrinasi" in form


def test_the_branch_units_labels_and_form_in_russian(world, signed_in):
    make_unit(world, refrigerant="R404A", chargeKg="12.5")
    d = reader(signed_in, world.dispatcher, "ru")
    units = d.get(f"/dispatcher/branches/{world.branch.id}/equipment").get_data(as_text=True)
    assert "Установки филиала" in units and "12,5 кг" in units
    labels = d.get(f"/dispatcher/branches/{world.branch.id}/labels?lang=ru").get_data(as_text=True)
    assert "1 этикетка" in labels and "Отсканируйте, чтобы сообщить о неисправности" in labels
    form = d.get(f"/dispatcher/branches/{world.branch.id}/equipment/new").get_data(as_text=True)
    assert "Инвентарный номер" in form and "R404A (ПГП 3922)" in form


def labels_of(page: str) -> str:
    start = page.index('<section class="eq-sheet"')
    return page[start:page.index("</main>", start)]


def test_labels_print_in_the_language_chosen_for_them_not_the_dispatchers(app, world, signed_in, monkeypatch):
    """Labels are stuck on a unit and read by anyone at the store: their words follow the
    language chosen on the page (?lang=, default DEFAULT_LOCALE); the page around them stays
    in the dispatcher's language."""
    unit = make_unit(world, name="Мясная камера №1")
    d = reader(signed_in, world.dispatcher, "ru")
    url = f"/dispatcher/branches/{world.branch.id}/labels"

    page = d.get(url).get_data(as_text=True)  # no choice: DEFAULT_LOCALE (en here)
    sheet = labels_of(page)
    assert "Scan to report a fault" in sheet and f"QR code to report a fault on {unit.asset_tag}" in sheet
    assert 'lang="en"' in sheet and "Отсканируйте" not in sheet
    assert "Этикетки" in page  # the page itself: the dispatcher's Russian
    assert 'aria-current="true"' in page and f'href="{url}?lang=uz"' in page and f'href="{url}?lang=ru"' in page

    sheet = labels_of(d.get(url + "?lang=uz").get_data(as_text=True))
    assert "Nosozlik haqida xabar berish uchun skanerlang" in sheet and 'lang="uz"' in sheet
    assert "Мясная камера №1" in sheet and "Freshmart Central" in sheet  # data as stored
    sheet = labels_of(d.get(url + "?lang=ru").get_data(as_text=True))
    assert "Отсканируйте, чтобы сообщить о неисправности" in sheet

    assert "Scan to report a fault" in labels_of(d.get(url + "?lang=xx").get_data(as_text=True))  # unknown: default
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "uz")
    english = reader(signed_in, world.admin, "en")
    page = english.get(url).get_data(as_text=True)
    assert "Nosozlik haqida xabar berish uchun skanerlang" in labels_of(page) and "Labels for" in page
