"""Issue 15 walk: a "Declined by the technician" notification said neither who declined,
nor why, nor who has the ticket now."""
from __future__ import annotations

from app.extensions import db
from app.models import NotificationChannel
from app.services import tickets
from tests.factories import make_ticket

from .conftest import outbox
from .test_in_app import login

IN_APP = NotificationChannel.IN_APP


def test_the_dispatchers_are_told_who_declined_why_and_who_has_it_now(client, channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    tickets.decline(ticket, "Van broke down", linked.tech)
    db.session.commit()

    [first, *_] = outbox(kind="ticket_declined", channel=IN_APP)
    assert first.body.split("\n")[0] == (f"Timur Primary declined ticket {ticket.ticket_number}: Van broke down. "
                                         "It is now assigned to Sardor Secondary.")
    # The inbox line is that sentence, not a bare "Declined by the technician".
    login(client, "dispatcher@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Timur Primary declined ticket {ticket.ticket_number}: Van broke down." in page
    assert "Declined by the technician" not in page


def test_a_ticket_both_technicians_declined_says_nobody_has_it(channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    tickets.decline(ticket, "Van broke down", linked.tech)
    db.session.commit()
    tickets.decline(ticket, "Not my area", linked.tech2)
    db.session.commit()
    lines = {n.body.split("\n")[0] for n in outbox(kind="ticket_declined", channel=IN_APP)}
    assert (f"Sardor Secondary declined ticket {ticket.ticket_number}: Not my area. "
            "Nobody has it now: assign a technician.") in lines
