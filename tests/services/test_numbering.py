"""Ticket numbers: TKT-YYYYMM-NNNNN, sequential per month, never reused."""
import re

from sqlalchemy import delete

from app.extensions import db
from app.models import ServiceTicket, TicketEvent, TicketAssignee, Notification
from tests.factories import make_ticket


def test_numbers_are_sequential_within_a_month(world, freeze):
    freeze("2026-11-03T10:00:00Z")
    numbers = [make_ticket(world).ticket_number for _ in range(3)]
    db.session.commit()
    assert numbers == ["TKT-202611-00001", "TKT-202611-00002", "TKT-202611-00003"]
    assert all(re.fullmatch(r"TKT-\d{6}-\d{5}", n) for n in numbers)


def test_a_new_month_starts_again_at_one_and_the_old_month_continues(world, freeze):
    freeze("2026-11-30T23:59:00Z")
    assert make_ticket(world).ticket_number == "TKT-202611-00001"
    freeze("2026-12-01T00:00:30Z")
    assert make_ticket(world).ticket_number == "TKT-202612-00001"
    assert make_ticket(world).ticket_number == "TKT-202612-00002"
    freeze("2027-01-01T08:00:00Z")
    assert make_ticket(world).ticket_number == "TKT-202701-00001"
    db.session.commit()


def test_the_month_is_the_one_in_the_app_timezone(world, freeze, app, monkeypatch):
    monkeypatch.setitem(app.config, "APP_TIMEZONE", "Asia/Tashkent")  # UTC+5
    freeze("2026-11-30T20:00:00Z")  # already 1 December in Tashkent
    assert make_ticket(world).ticket_number == "TKT-202612-00001"
    db.session.commit()


def test_a_deleted_tickets_number_is_never_handed_out_again(world, freeze):
    freeze("2026-11-03T10:00:00Z")
    make_ticket(world)
    last = make_ticket(world)
    db.session.commit()
    assert last.ticket_number == "TKT-202611-00002"
    for model in (TicketEvent, TicketAssignee, Notification):
        db.session.execute(delete(model).where(model.ticket_id == last.id))
    db.session.execute(delete(ServiceTicket).where(ServiceTicket.id == last.id))
    db.session.commit()
    assert make_ticket(world).ticket_number == "TKT-202611-00003"
    db.session.commit()


def test_a_rolled_back_creation_leaves_no_gap(world, freeze):
    """The counter lives in the ticket's transaction: a failed creation takes its number back."""
    freeze("2026-11-03T10:00:00Z")
    make_ticket(world)
    db.session.commit()
    make_ticket(world)
    db.session.rollback()
    assert make_ticket(world).ticket_number == "TKT-202611-00002"
    db.session.commit()
