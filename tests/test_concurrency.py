"""Concurrent requests through the HTTP API, on SQLite and PostgreSQL: each thread has its
own test client (and so its own app context, session and connection)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from app.extensions import db
from app.models import ServiceTicket, TicketEvent
from app.services import completions, photos, tickets
from tests.factories import jpeg_bytes, make_ticket, signature_data_url


def run_together(app, calls):
    """Start every call at the same moment, each in its own thread with its own client."""
    barrier = threading.Barrier(len(calls))

    def worker(call):
        client = app.test_client()
        barrier.wait(timeout=60)
        return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(worker, calls))


def bearer(api, user):
    api.as_(user)
    return {"Authorization": f"Bearer {api._tokens[user.id]}"}


def test_forty_concurrent_creations_get_forty_consecutive_numbers(app, world, api, freeze):
    freeze("2026-11-24T09:00:00Z")
    people = [world.dispatcher, world.dispatcher2, world.admin, world.manager]
    headers = [bearer(api, p) for p in people]
    body = {"branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
            "description": "Walk-in freezer alarm"}
    db.session.commit()  # the test holds no transaction while the threads write

    def create(i):
        return lambda client: client.post("/api/tickets", json={**body, "externalId": f"CRM-{i}"},
                                          headers=headers[i % len(headers)])

    responses = run_together(app, [create(i) for i in range(40)])
    statuses = [r.status_code for r in responses]
    assert statuses == [201] * 40, [(r.status_code, r.get_json()) for r in responses if r.status_code != 201]
    numbers = sorted(r.get_json()["ticketNumber"] for r in responses)
    assert numbers == [f"TKT-202611-{n:05d}" for n in range(1, 41)]
    assert db.session.query(ServiceTicket).count() == 40
    assert db.session.query(TicketEvent).filter_by(kind="created").count() == 40
    # ... and the counter goes on from there.
    assert make_ticket(world).ticket_number == "TKT-202611-00041"
    db.session.commit()


def test_two_concurrent_reassignments_both_apply_in_turn(app, world, api):
    ticket = make_ticket(world)
    db.session.commit()
    headers = bearer(api, world.dispatcher)
    other = bearer(api, world.dispatcher2)
    ticket_id, version, secondary, outsider = ticket.id, ticket.version, world.secondary.id, world.outsider.id
    db.session.commit()

    responses = run_together(app, [
        lambda c: c.patch(f"/api/tickets/{ticket_id}", json={"assignedTechnicianId": secondary}, headers=headers),
        lambda c: c.patch(f"/api/tickets/{ticket_id}", json={"assignedTechnicianId": outsider, "priority": "HIGH"},
                          headers=other),
    ])
    assert [r.status_code for r in responses] == [200, 200], [r.get_json() for r in responses]
    fresh = db.session.get(ServiceTicket, ticket_id)
    moves = db.session.query(TicketEvent).filter_by(ticket_id=ticket_id, kind="reassigned").order_by(TicketEvent.at).all()
    # Both changes happened, one after the other: the second saw the first.
    assert len(moves) == 2
    assert moves[1].data["previousTechnicianId"] == moves[0].data["technicianId"]
    assert fresh.assigned_technician_id == moves[1].data["technicianId"]
    assert fresh.priority.value == "HIGH"  # not lost to the other writer
    assert fresh.version > version + 1


def test_two_concurrent_patches_with_the_same_version_one_wins_one_gets_409(app, world, api):
    ticket = make_ticket(world)
    db.session.commit()
    ticket_id, version = ticket.id, ticket.version
    headers = [bearer(api, world.dispatcher), bearer(api, world.dispatcher2)]
    db.session.commit()

    responses = run_together(app, [
        lambda c: c.patch(f"/api/tickets/{ticket_id}", json={"priority": "CRITICAL", "version": version},
                          headers=headers[0]),
        lambda c: c.patch(f"/api/tickets/{ticket_id}", json={"priority": "LOW", "version": version},
                          headers=headers[1]),
    ])
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).get_json()
    assert db.session.get(ServiceTicket, ticket_id).priority.value == winner["priority"]
    assert db.session.query(TicketEvent).filter_by(ticket_id=ticket_id, kind="priority_changed").count() == 1


def test_approve_and_reject_at_once_decide_exactly_once(app, world, api):
    ticket = make_ticket(world)
    tickets.accept(ticket, world.tech)
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "a.jpg")
    c = completions.complete(ticket, world.tech, {"workDescription": "Done", "laborHours": 1,
                                                  "laborCostPerHour": "10"})
    db.session.commit()
    cid, ticket_id = c.id, ticket.id
    headers = [bearer(api, world.manager), bearer(api, world.admin)]
    db.session.commit()

    responses = run_together(app, [
        lambda cl: cl.post(f"/api/completions/{cid}/approve", headers=headers[0],
                           json={"action": "approve", "signedBy": "D", "signature": signature_data_url()}),
        lambda cl: cl.post(f"/api/completions/{cid}/approve", headers=headers[1],
                           json={"action": "reject", "reason": "Not fixed"}),
    ])
    assert sorted(r.status_code for r in responses) == [200, 409], [r.get_json() for r in responses]
    decided = db.session.query(TicketEvent).filter(TicketEvent.ticket_id == ticket_id,
                                                   TicketEvent.kind.in_(["approved", "rejected"])).count()
    assert decided == 1
