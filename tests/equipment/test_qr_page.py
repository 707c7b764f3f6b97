"""The public report page /r/<token> (API.md, "Reporting by QR code"): someone without an
account scans a unit's label, says what is wrong, and a ticket is opened (or the report
joins the unit's open ticket); the page shows nothing private; rate limits; CSRF."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ServiceTicket, TicketEvent, TicketPriority, TicketSource, TicketStatus
from app.services import equipment, tickets, timeline_text
from tests.conftest import new_client, sign_in
from tests.equipment.conftest import make_unit, ticket_on

REPORT = {"description": "The cold room is warm, 9 °C", "name": "Aziz Karimov", "phone": "+998 90 765 43 21"}


def url(unit) -> str:
    return f"/r/{unit.report_token}"


def count_tickets() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(ServiceTicket.id))).scalar()


def only_ticket() -> ServiceTicket:
    db.session.rollback()
    return db.session.execute(select(ServiceTicket)).scalar_one()


def test_the_page_shows_the_unit_and_a_short_form_and_nothing_private(app, world, unit, client):
    other = ticket_on(world, make_unit(world, tag="DC-002", name="Display case 2"),
                      description="SECRET compressor noise")  # another unit's open ticket
    r = client.get(url(unit))
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "CR-001" in html and "Cold room 1" in html and "Freshmart Central" in html
    assert 'name="description"' in html and 'name="name"' in html and 'name="phone"' in html
    assert 'name="urgent"' in html and "Equipment Not Working" in html
    assert "<script" not in html.split("<body", 1)[1]  # works without JavaScript
    for private in ("+998901112233", "Dilnoza K.", "Timur", other.ticket_number, "SECRET", "1 Main St"):
        assert private not in html, private
    assert r.headers["Cache-Control"] == "private, no-store"
    assert 'class="lang-switch"' in html


def test_a_report_opens_a_qr_ticket_for_the_unit_assigned_and_timed_as_any_other(app, world, unit, client):
    r = client.post(url(unit), data=REPORT)
    assert r.status_code == 303 and r.headers["Location"] == url(unit)
    t = only_ticket()
    assert t.source == TicketSource.QR and t.equipment_id == unit.id and t.branch_id == world.branch.id
    assert (t.contact_name, t.contact_phone) == ("Aziz Karimov", "+998 90 765 43 21")
    assert t.priority == TicketPriority.NORMAL and t.subcategory.name == "Equipment Not Working"
    assert t.status == TicketStatus.ASSIGNED and t.assigned_technician_id == world.primary.id
    assert t.response_due_at is not None and t.resolution_due_at is not None
    assert t.created_by_id is None and t.description == REPORT["description"]

    html = client.get(url(unit)).get_data(as_text=True)
    assert f"Thank you. Your report is ticket {t.ticket_number}." in html
    assert f"Ticket {t.ticket_number}: Assigned" in html  # the open ticket: number and status only
    assert "Timur" not in html and "+998900000001" not in html
    html = client.get(url(unit)).get_data(as_text=True)
    assert "Thank you" not in html  # said once


def test_urgent_is_high_and_a_chosen_problem_is_kept(app, world, unit, client):
    sub = world.subcategories["Leaking Water"]
    assert client.post(url(unit), data={**REPORT, "urgent": "1", "subcategoryId": sub.id}).status_code == 303
    t = only_ticket()
    assert t.priority == TicketPriority.HIGH and t.subcategory_id == sub.id


@pytest.mark.parametrize("data,field,message", [
    ({**REPORT, "description": "  "}, "description", "Say what is wrong."),
    ({**REPORT, "name": ""}, "name", "Enter your name."),
    ({k: v for k, v in REPORT.items() if k != "phone"}, "phone", "Enter your phone number."),
    ({**REPORT, "phone": "call me"}, "phone", "Enter a phone number, for example +998 90 123 45 67."),
    ({**REPORT, "subcategoryId": "nope"}, "subcategoryId", "Choose one of the listed problems."),
    ({**REPORT, "description": "x" * 2001}, "description", "At most 2000 characters."),
])
def test_a_report_with_a_mistake_says_so_keeps_what_was_typed_and_writes_nothing(app, world, unit, client,
                                                                                 data, field, message):
    r = client.post(url(unit), data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert message in html and 'aria-invalid="true"' in html
    assert "Aziz Karimov" in html or field == "name"
    assert count_tickets() == 0


def test_a_second_report_joins_the_open_ticket_and_reads_in_its_timeline(app, world, unit, client):
    first = ticket_on(world, unit, description="Warm inside")
    r = client.post(url(unit), data={**REPORT, "urgent": "on"})
    assert r.status_code == 303
    assert count_tickets() == 1
    html = client.get(url(unit)).get_data(as_text=True)
    assert f"Thank you. Your report was added to ticket {first.ticket_number}." in html
    assert "This unit is already reported" in html and "Warm inside" not in html
    event = db.session.execute(select(TicketEvent).where(TicketEvent.ticket_id == first.id,
                                                         TicketEvent.kind == "qr_report")).scalar_one()
    assert event.actor_id is None
    with app.test_request_context():
        text = timeline_text.event_text(event.kind, event.data)
    assert text == ("Reported again by QR code, marked urgent, by Aziz Karimov (+998 90 765 43 21): "
                    "“The cold room is warm, 9 °C”")
    # once the ticket is closed, the next report opens a new one
    tickets.close_without_completion(tickets.get_ticket(first.id), "Duplicate", world.dispatcher)
    db.session.commit()
    assert client.post(url(unit), data=REPORT).status_code == 303
    assert count_tickets() == 2


def test_a_store_manager_of_the_branch_gets_the_usual_form_with_the_unit_chosen(app, world, unit):
    mine = sign_in(new_client(app), world.manager)
    r = mine.get(url(unit))
    assert r.status_code == 302 and r.headers["Location"] == f"/store/tickets/new?equipment={unit.id}"
    theirs = sign_in(new_client(app), world.other_manager)  # another branch's manager: the public page
    assert theirs.get(url(unit)).status_code == 200


def test_a_replaced_token_or_a_retired_unit_answers_404(app, world, unit, client):
    old = url(unit)
    assert client.get(old).status_code == 200
    equipment.replace_report_token(equipment.get_unit(unit.id), world.dispatcher)
    db.session.commit()
    r = client.get(old)
    assert r.status_code == 404 and "This label no longer works" in r.get_data(as_text=True)
    assert client.post(old, data=REPORT).status_code == 404
    assert client.get("/r/short").status_code == 404
    fresh = equipment.get_unit(unit.id)
    assert client.get(url(fresh)).status_code == 200
    equipment.update_unit(fresh, world.dispatcher, {"isActive": False})
    db.session.commit()
    assert client.get(url(fresh)).status_code == 404
    assert count_tickets() == 0


def test_the_page_in_russian_and_uzbek(app, world, unit, client):
    html = client.get(url(unit), headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Сообщить о неисправности" in html and "Что случилось?" in html
    assert "Оборудование не работает" in html and 'lang="ru"' in html
    assert "Cold room 1" in html  # data as stored
    r = client.post(url(unit), data={**REPORT, "name": ""}, headers={"Accept-Language": "ru"})
    assert "Укажите ваше имя." in r.get_data(as_text=True)
    html = client.get(url(unit), headers={"Accept-Language": "uz"}).get_data(as_text=True)
    assert "Nosozlik haqida xabar berish" in html


def test_five_reports_per_token_an_hour_then_a_429_page(app, world, unit, client, limiter_clock):
    for _ in range(5):
        assert client.post(url(unit), data=REPORT).status_code == 303
    r = client.post(url(unit), data=REPORT)
    assert r.status_code == 429 and "Too many reports" in r.get_data(as_text=True)
    assert "Retry-After" in r.headers
    assert client.get(url(unit)).status_code == 200  # the page itself still opens
    other = make_unit(world, tag="DC-002", name="Display case 2")
    assert client.post(url(other), data=REPORT).status_code == 303  # per token: another unit is fine
    limiter_clock(3600 + 1)
    assert client.post(url(unit), data=REPORT).status_code == 303


def test_a_form_with_mistakes_does_not_use_up_the_limit(app, world, unit, client):
    for _ in range(8):
        assert client.post(url(unit), data={**REPORT, "name": ""}).status_code == 400
    assert client.post(url(unit), data=REPORT).status_code == 303


def test_twenty_reports_per_address_an_hour(app, world, client, limiter_clock):
    units = [make_unit(world, tag=f"CR-{i:03d}", name=f"Cold room {i}") for i in range(5)]
    for i in range(20):
        assert client.post(url(units[i % 5]), data=REPORT).status_code == 303, i
    r = client.post(url(units[0]), data=REPORT)
    assert r.status_code == 429
    elsewhere = new_client(app)
    elsewhere.environ_base = {"REMOTE_ADDR": "10.9.9.9"}
    assert elsewhere.post(url(make_unit(world, tag="CR-999")), data=REPORT).status_code == 303
    limiter_clock(3600 + 1)
    assert client.post(url(units[0]), data=REPORT).status_code == 303


@pytest.fixture
def csrf_app(app):
    from app import create_app

    made = create_app({**{k: v for k, v in app.config.items() if k.isupper()}, "WTF_CSRF_ENABLED": True})
    yield made
    with made.app_context():
        db.engine.dispose()


def test_a_report_without_the_pages_csrf_token_is_refused_and_writes_nothing(csrf_app, world, unit):
    client = new_client(csrf_app)
    r = client.post(url(unit), data=REPORT)
    assert r.status_code == 400 and "This form expired. Please send it again." in r.get_data(as_text=True)
    assert "Aziz Karimov" in r.get_data(as_text=True)  # what was typed is kept
    assert count_tickets() == 0
    html = client.get(url(unit)).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(url(unit), data={**REPORT, "csrf_token": "forged"}).status_code == 400
    assert client.post(url(unit), data={**REPORT, "csrf_token": token}).status_code == 303
    assert count_tickets() == 1


def test_the_dispatcher_reads_the_reports_on_the_ticket_page(app, world, unit, client):
    assert client.post(url(unit), data=REPORT).status_code == 303
    assert client.post(url(unit), data={**REPORT, "name": "Malika", "description": "Still warm"}).status_code == 303
    t = only_ticket()
    html = sign_in(new_client(app), world.dispatcher).get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "The cold room is warm, 9 °C" in html and "Aziz Karimov" in html
    assert "Reported again by QR code by Malika (+998 90 765 43 21): “Still warm”" in html
    from app.i18n import force_locale

    with app.test_request_context(), force_locale("ru"):
        text = timeline_text.event_text("qr_report", {"reporterName": "Malika", "reporterPhone": "+998 90",
                                                      "description": "Still warm", "urgent": True})
    assert text == "Повторное срочное сообщение по QR-коду от Malika (+998 90): «Still warm»"
