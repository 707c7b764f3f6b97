from app.extensions import db
from app.models import TicketStatus
from tests.factories import make_ticket


def test_ticket_is_auto_assigned_to_the_primary(world):
    ticket = make_ticket(world)
    db.session.commit()
    assert ticket.status == TicketStatus.ASSIGNED
    assert ticket.assigned_technician_id == world.primary.id
    assert ticket.ticket_number.startswith("TKT-")


def test_api_create_and_accept(world, api):
    r = api.as_(world.dispatcher).post("/api/tickets", json={
        "branchId": world.branch.id, "categoryId": world.category.id,
        "subcategoryId": world.subcategory.id, "description": "Fridge warm", "priority": "HIGH"})
    assert r.status_code == 201, r.json
    tid = r.json["id"]
    r = api.as_(world.tech).post(f"/api/tickets/{tid}/accept")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "IN_PROGRESS"
