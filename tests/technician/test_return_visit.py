"""Work sent back by the store is a return visit: "I'm on site" is offered again, the
new arrival is recorded and the first stays in the timeline; old arrivals show their
date and "since" is not used once work was submitted."""
from __future__ import annotations

import re
from decimal import Decimal

from app.extensions import db
from app.models import TicketEvent
from app.services import completions, photos, tickets
from tests.factories import jpeg_bytes, make_ticket


def arrived_and_sent_back(world, freeze):
    freeze("2026-12-03T17:21:00Z")
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    tickets.arrive(ticket, world.tech)
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    completion = completions.complete(ticket, world.tech, {"workDescription": "Reset the controller",
                                                           "laborHours": "1", "partsUsed": []}, Decimal("45"))
    db.session.commit()
    return ticket, completion


def card(html: str, ticket_id: str) -> str:
    start = html.index(f'id="ticket-{ticket_id}"')
    return html[start:html.index("</article>", start)]


def test_after_the_store_sends_the_work_back_the_technician_can_arrive_again(tech, world, freeze):
    ticket, completion = arrived_and_sent_back(world, freeze)
    freeze("2026-12-05T09:00:00Z")
    completions.decide(completion, world.manager, {"action": "reject", "reason": "Still 9°C inside"})
    db.session.commit()

    html = card(tech.get("/tech/dashboard").get_data(as_text=True), ticket.id)
    assert "I&#39;m on site" in html or "I'm on site" in html
    assert "On site since" not in html
    assert "Last visit: arrived 3 Dec 17:21" in html, "an arrival from another day shows its date"
    page = tech.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Technician on site" not in page

    freeze("2026-12-05T10:30:00Z")
    r = tech.post(f"/tech/tickets/{ticket.id}/arrive", headers={"HX-Request": "true"})
    assert r.status_code == 200
    db.session.expire_all()
    arrivals = db.session.query(TicketEvent).filter_by(ticket_id=ticket.id, kind="arrived").count()
    assert arrivals == 2, "the first arrival stays in the timeline"
    html = card(tech.get("/tech/dashboard").get_data(as_text=True), ticket.id)
    assert "On site since 10:30" in html
    assert not re.search(r"I(&#39;|')m on site</button>", html)
    # Arriving twice on the same visit changes nothing.
    tech.post(f"/tech/tickets/{ticket.id}/arrive", headers={"HX-Request": "true"})
    assert db.session.query(TicketEvent).filter_by(ticket_id=ticket.id, kind="arrived").count() == 2


def test_submitted_work_says_arrived_not_since(tech, world, freeze):
    ticket, _ = arrived_and_sent_back(world, freeze)
    freeze("2026-12-04T08:00:00Z")
    html = card(tech.get("/tech/dashboard").get_data(as_text=True), ticket.id)
    assert "Arrived 3 Dec 17:21" in html
    assert "since" not in html
