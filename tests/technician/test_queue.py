"""The technician's queue, one-tap actions, location and arrival (/tech/...)."""
from __future__ import annotations

import json
import re
from decimal import Decimal

from app.extensions import db
from app.models import ServiceTicket, Technician, TicketEvent, TicketPriority, TicketStatus
from app import clock
from app.services import completions, photos, tickets
from tests.factories import jpeg_bytes, make_ticket
from tests.helpers import count_statements
from tests.technician.conftest import sign_in

HX = {"HX-Request": "true"}


def card_order(html: str) -> list[str]:
    return re.findall(r'id="ticket-([0-9a-f]+)"', html)


def reject(world, ticket, reason="Still warm inside"):
    """Complete the ticket as its technician, then have the store manager reject it."""
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    completion = completions.complete(ticket, world.tech, {"workDescription": "Reset", "laborHours": "1",
                                                           "partsUsed": []}, Decimal("45"))
    db.session.flush()
    completions.decide(completion, world.manager, {"action": "reject", "reason": reason})
    db.session.commit()
    return completion


def test_queue_shows_my_open_tickets_most_urgent_first(tech, world, freeze):
    freeze("2026-11-24T08:00:00Z")
    low = make_ticket(world, priority=TicketPriority.LOW)
    normal = make_ticket(world, priority=TicketPriority.NORMAL)
    critical = make_ticket(world, priority=TicketPriority.CRITICAL)  # response due 09:00
    elsewhere = make_ticket(world, branch=world.branch2)  # the other technician's
    db.session.commit()
    clock.set_now(clock.now().replace(hour=9, minute=50))
    high = make_ticket(world, priority=TicketPriority.HIGH)  # response due 13:50
    db.session.commit()
    clock.set_now(clock.now().replace(hour=10, minute=0))

    html = tech.get("/tech/dashboard").get_data(as_text=True)

    assert card_order(html) == [critical.id, high.id, normal.id, low.id]
    assert elsewhere.id not in html
    assert "Respond: overdue by 1 h 00 min" in html
    assert "Respond within 3 h 50 min" in html
    assert 'class="sla sla-overdue"' in html


def test_a_card_shows_branch_with_a_maps_link_subcategory_priority_and_countdown(tech, world, freeze):
    freeze("2026-11-24T08:00:00Z")
    ticket = make_ticket(world, priority=TicketPriority.HIGH)
    db.session.commit()
    clock.set_now(clock.now().replace(hour=11, minute=15))  # 75% of the 4 h window gone

    html = tech.get("/tech/dashboard").get_data(as_text=True)

    card = html[html.index(f'id="ticket-{ticket.id}"'):]
    assert "Freshmart Central" in card and "1 Main St" in card
    assert 'href="https://maps.google.com/?q=41.311100,69.279700"' in card
    assert "Cold Chambers" in card and ">High priority<" in card
    assert "Respond within 45 min" in card
    assert 'class="sla sla-warning"' in card
    assert 'href="tel:+998901112233"' in card


def test_the_queue_costs_the_same_few_queries_for_one_ticket_or_many(tech, world):
    first = make_ticket(world)
    db.session.commit()
    tickets.accept(first, world.tech)
    reject(world, first)
    with count_statements() as few:
        assert tech.get("/tech/dashboard", headers=HX).status_code == 200
    for priority in [TicketPriority.HIGH, TicketPriority.LOW] * 4:
        make_ticket(world, priority=priority)
        db.session.commit()
    second = make_ticket(world)
    db.session.commit()
    tickets.accept(second, world.tech)
    reject(world, second, "Door still open")
    with count_statements() as many:
        html = tech.get("/tech/dashboard", headers=HX).get_data(as_text=True)
    assert len(card_order(html)) == 10
    assert len(many) == len(few) <= 10


def test_an_htmx_poll_gets_only_the_queue_fragment(tech, world):
    make_ticket(world)
    db.session.commit()
    r = tech.get("/tech/dashboard", headers=HX)
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="queue"')
    assert "<html" not in html


def test_accept_takes_one_tap_and_asks_the_page_for_a_location(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/accept", headers=HX)
    assert r.status_code == 200
    assert json.loads(r.headers["HX-Trigger"]) == {"ticketChanged": {"ids": [ticket.id], "kinds": ["accepted"]}}
    html = r.get_data(as_text=True)
    assert f"Accepted {ticket.ticket_number}" in html
    assert "I&#39;m on site" in html or "I'm on site" in html
    db.session.expire_all()
    assert db.session.get(ServiceTicket, ticket.id).status == TicketStatus.IN_PROGRESS


def test_accept_without_htmx_redirects_back_to_the_queue(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/accept")
    assert r.status_code == 303 and r.headers["Location"].endswith("/tech/dashboard")
    r = tech.post(f"/tech/tickets/{ticket.id}/accept")  # a second tap: already accepted
    assert r.status_code == 409
    assert "Only an ASSIGNED ticket can be accepted" in r.get_data(as_text=True)


def test_decline_without_a_reason_is_refused_inline_and_the_ticket_stays(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/decline", data={"reason": "  "}, headers=HX)
    assert r.status_code == 400
    assert r.headers["HX-Reswap"] == "outerHTML" and "X-Tech-Partial" not in r.headers
    html = r.get_data(as_text=True)
    assert "Say why you decline." in html
    assert '<details class="decline" open>' in html
    db.session.expire_all()
    assert db.session.get(ServiceTicket, ticket.id).assigned_technician_id == world.primary.id


def test_decline_with_a_reason_passes_the_ticket_on_and_it_leaves_my_queue(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/decline", data={"reason": "Sick today"}, headers=HX)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f"Declined {ticket.ticket_number}" in html
    assert f'id="ticket-{ticket.id}"' not in html
    assert "Nothing to do right now" in html
    db.session.expire_all()
    t = db.session.get(ServiceTicket, ticket.id)
    assert t.assigned_technician_id == world.secondary.id
    kinds = [e.kind for e in db.session.query(TicketEvent).filter_by(ticket_id=t.id)]
    assert "declined" in kinds


def test_a_ticket_i_declined_stays_readable_but_offers_no_actions(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    tickets.decline(ticket, "On leave", world.tech)
    db.session.commit()
    html = tech.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "no longer assigned to you" in html
    assert "Declined by the technician: “On leave”" in html
    assert "/accept" not in html and "/decline" not in html and "/complete" not in html


def test_another_technicians_ticket_cannot_be_accepted(world, app):
    ticket = make_ticket(world)
    db.session.commit()
    other = sign_in(app.test_client(), world.outsider_tech.email)
    r = other.post(f"/tech/tickets/{ticket.id}/accept", headers=HX)
    assert r.status_code == 404
    assert "Ticket not found" in r.get_data(as_text=True)
    assert other.get(f"/tickets/{ticket.id}").status_code == 404
    assert other.get(f"/tech/tickets/{ticket.id}/complete").status_code == 404


def test_technician_pages_are_for_technicians_only(client, world, app):
    assert client.get("/tech/dashboard").status_code == 302  # signed out -> /login
    manager = sign_in(app.test_client(), world.manager.email)
    assert manager.get("/tech/dashboard").status_code == 403
    assert manager.post("/tech/location", json={"latitude": 1, "longitude": 2}).status_code == 403


def test_rejected_work_returns_to_the_queue_with_the_managers_reason(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    reject(world, ticket, "The door seal still leaks")
    html = tech.get("/tech/dashboard").get_data(as_text=True)
    card = html[html.index(f'id="ticket-{ticket.id}"'):]
    assert "Work rejected" in card and "by Manager" in card
    assert "The door seal still leaks" in card
    assert "Complete again" in card


def test_completed_work_waits_for_approval_in_its_own_section(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, None)
    completions.complete(ticket, world.tech, {"workDescription": "Fixed", "laborHours": "2", "partsUsed": [
        {"name": "Relay", "quantity": 1, "unitCost": "10.00"}]}, Decimal("45"))
    db.session.commit()
    html = tech.get("/tech/dashboard").get_data(as_text=True)
    waiting = html[html.index("Waiting for approval"):]
    assert f'id="ticket-{ticket.id}"' in waiting
    assert "total $100.00" in waiting
    assert ">Waiting for approval<" in waiting


def test_location_is_stored_on_my_technician_for_the_dispatcher(tech, world, freeze):
    now = freeze("2026-11-24T09:30:00Z")
    r = tech.post("/tech/location", json={"latitude": 41.3, "longitude": 69.25, "accuracy": 12})
    assert r.status_code == 204
    db.session.expire_all()
    t = db.session.get(Technician, world.primary.id)
    assert (t.latitude, t.longitude, t.last_location_update) == (41.3, 69.25, now)


def test_a_bad_location_is_refused_quietly(tech, world):
    r = tech.post("/tech/location", json={"latitude": 123, "longitude": 69})
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("text/plain")
    db.session.expire_all()
    assert db.session.get(Technician, world.primary.id).latitude is None


def test_on_site_records_the_arrival_and_its_distance(tech, world, freeze):
    now = freeze("2026-11-24T09:30:00Z")
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/arrive", data={"latitude": "41.3121", "longitude": "69.2797"},
                  headers=HX)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Arrival recorded: 111 m from Freshmart Central." in html
    assert "On site since 09:30 · 111 m from the branch" in html
    db.session.expire_all()
    t = db.session.get(ServiceTicket, ticket.id)
    assert t.arrived_at == now and round(t.arrival_distance_m) == 111
    page = tech.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Arrived on site, 111 m from the branch" in page


def test_on_site_far_from_the_branch_warns_but_records(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/arrive", data={"latitude": "41.35", "longitude": "69.29"},
                  headers=HX)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "notice notice-warn" in html
    assert re.search(r"you are 4\.\d km from Freshmart Central — more than 500 m", html)
    assert "(further than expected)" in html
    page = tech.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "further than expected" in page
    db.session.expire_all()
    assert db.session.get(ServiceTicket, ticket.id).status == TicketStatus.IN_PROGRESS


def test_on_site_without_a_location_still_records_the_arrival(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/arrive", data={"latitude": "", "longitude": ""})
    assert r.status_code == 303
    html = tech.get(r.headers["Location"]).get_data(as_text=True)
    assert "(your location was not available)" in html
    db.session.expire_all()
    t = db.session.get(ServiceTicket, ticket.id)
    assert t.arrived_at is not None and t.arrival_distance_m is None


def test_the_ticket_page_keeps_the_rejected_completion_in_the_timeline(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    reject(world, ticket, "Compressor still noisy")
    with count_statements() as queries:
        r = tech.get(f"/tickets/{ticket.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Sent back by the store: “Compressor still noisy”" in html
    assert "Work completed, total $45.00" in html
    assert "Sent back" in html and "Reset" in html
    assert len(queries) <= 16
