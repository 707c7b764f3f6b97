"""Technicians, their status and location, and their branch assignments."""
import pytest

from app.extensions import db
from app.models import TechnicianBranchAssignment, TicketStatus
from tests.factories import make_ticket


def test_staff_create_list_and_read_technicians(world, api, freeze):
    c = api.as_(world.dispatcher)
    r = c.post("/api/technicians", json={"name": "Jasur New", "phone": "+998901110000", "email": "jasur@example.com"})
    assert r.status_code == 201
    t = r.get_json()
    assert (t["name"], t["status"], t["email"], t["lastLocationUpdate"]) == (
        "Jasur New", "ACTIVE", "jasur@example.com", None)
    names = [x["name"] for x in c.get("/api/technicians").get_json()]
    assert names == sorted(["Jasur New", "Timur Primary", "Sardor Secondary", "Olim Outsider"])
    one = c.get(f"/api/technicians/{world.primary.id}").get_json()
    assert {(a["branchId"], a["isPrimary"], a["endDate"]) for a in one["branchAssignments"]} == {
        (world.branch.id, True, None), (world.branch2.id, False, None)}


@pytest.mark.parametrize("body,field", [
    ({"phone": "+998901110000"}, "name"),
    ({"name": "No Phone"}, "phone"),
    ({"name": "X", "phone": "1", "status": "RETIRED"}, "status"),
    ({"name": ["X"], "phone": "1"}, "name"),
])
def test_bad_technicians_are_refused(world, api, nothing_written, body, field):
    c = api.as_(world.admin)
    with nothing_written():
        r = c.post("/api/technicians", json=body)
    assert r.status_code == 400 and field in r.get_json()["fields"]


def test_location_update_sets_the_time(world, api, freeze):
    t0 = freeze("2026-11-24T09:00:00Z")
    r = api.as_(world.tech).patch(f"/api/technicians/{world.primary.id}", json={"latitude": 41.3, "longitude": 69.25})
    assert r.status_code == 200
    body = r.get_json()
    assert (body["latitude"], body["longitude"], body["lastLocationUpdate"]) == (41.3, 69.25, "2026-11-24T09:00:00Z")
    _ = t0


@pytest.mark.parametrize("body,field", [
    ({"latitude": 91, "longitude": 0}, "latitude"),
    ({"latitude": 0, "longitude": -181}, "longitude"),
    ({"latitude": "north", "longitude": 0}, "latitude"),
    ({"latitude": 41.3}, "longitude"),
])
def test_bad_locations_are_refused(world, api, nothing_written, body, field):
    c = api.as_(world.tech)
    with nothing_written():
        r = c.patch(f"/api/technicians/{world.primary.id}", json=body)
    assert r.status_code == 400 and field in r.get_json()["fields"]


def test_a_technician_may_only_report_their_own_location(world, api, nothing_written):
    c = api.as_(world.tech)
    with nothing_written():
        assert c.patch(f"/api/technicians/{world.primary.id}", json={"status": "ON_LEAVE"}).status_code == 403
        assert c.patch(f"/api/technicians/{world.secondary.id}",
                       json={"latitude": 1, "longitude": 1}).status_code == 404
        assert c.get(f"/api/technicians/{world.secondary.id}").status_code == 404
        assert c.get("/api/technicians").status_code == 403
    assert c.get(f"/api/technicians/{world.primary.id}").status_code == 200


def test_store_managers_do_not_manage_technicians(world, api, nothing_written):
    c = api.as_(world.manager)
    with nothing_written():
        assert c.get("/api/technicians").status_code == 403
        assert c.get(f"/api/technicians/{world.primary.id}").status_code == 403
        assert c.patch(f"/api/technicians/{world.primary.id}", json={"status": "INACTIVE"}).status_code == 403
        assert c.post("/api/technicians", json={"name": "X", "phone": "1"}).status_code == 403
        assert c.post(f"/api/technicians/{world.primary.id}/assign", json={"branchId": world.branch.id}).status_code == 403


def test_status_change_takes_effect_for_new_tickets(world, api):
    r = api.as_(world.dispatcher).patch(f"/api/technicians/{world.primary.id}", json={"status": "ON_LEAVE"})
    assert r.status_code == 200 and r.get_json()["status"] == "ON_LEAVE"
    ticket = make_ticket(world)
    db.session.commit()
    assert ticket.assigned_technician_id == world.secondary.id
    assert api.as_(world.dispatcher).patch(f"/api/technicians/{world.primary.id}",
                                          json={"status": "RETIRED"}).status_code == 400


def test_assigning_a_new_primary_ends_the_old_one(world, api):
    c = api.as_(world.dispatcher)
    t = c.post("/api/technicians", json={"name": "Jasur New", "phone": "+998901110000"}).get_json()
    r = c.post(f"/api/technicians/{t['id']}/assign", json={"branchId": world.branch.id})
    assert r.status_code == 201
    a = r.get_json()
    assert (a["technicianId"], a["branchId"], a["isPrimary"], a["endDate"]) == (t["id"], world.branch.id, True, None)
    old = c.get(f"/api/technicians/{world.primary.id}").get_json()["branchAssignments"]
    assert next(x for x in old if x["branchId"] == world.branch.id)["endDate"] is not None
    ticket = make_ticket(world)
    db.session.commit()
    assert ticket.assigned_technician_id == t["id"] and ticket.status == TicketStatus.ASSIGNED


def test_secondary_assignment_and_ending_it(world, api):
    c = api.as_(world.admin)
    t = c.post("/api/technicians", json={"name": "Jasur New", "phone": "+998901110000"}).get_json()
    a = c.post(f"/api/technicians/{t['id']}/assign", json={"branchId": world.branch.id, "isPrimary": False}).get_json()
    assert a["isPrimary"] is False
    r = c.delete(f"/api/technician-assignments/{a['id']}")
    assert r.status_code == 200 and r.get_json()["endDate"] is not None
    assert c.delete(f"/api/technician-assignments/{a['id']}").get_json()["endDate"] == r.get_json()["endDate"]
    assert c.delete("/api/technician-assignments/nope").status_code == 404
    current = db.session.query(TechnicianBranchAssignment).filter_by(branch_id=world.branch.id, end_date=None).all()
    assert {x.technician_id for x in current} == {world.primary.id}


@pytest.mark.parametrize("path_tech,body,status", [
    ("nope", {"branchId": "$B"}, 404),
    ("$T", {"branchId": "nope"}, 400),
    ("$T", {}, 400),
    ("$T", {"branchId": "$B", "isPrimary": "maybe"}, 400),
])
def test_bad_assignments_are_refused(world, api, nothing_written, path_tech, body, status):
    path_tech = world.outsider.id if path_tech == "$T" else path_tech
    body = {k: (world.branch.id if v == "$B" else v) for k, v in body.items()}
    c = api.as_(world.dispatcher)
    with nothing_written():
        r = c.post(f"/api/technicians/{path_tech}/assign", json=body)
    assert r.status_code == status and r.get_json()["error"]


def test_technicians_do_not_assign_or_end_territories(world, api, nothing_written):
    a = db.session.query(TechnicianBranchAssignment).filter_by(technician_id=world.primary.id).first()
    c = api.as_(world.tech)
    with nothing_written():
        assert c.post(f"/api/technicians/{world.primary.id}/assign",
                      json={"branchId": world.other_branch.id}).status_code == 403
        assert c.delete(f"/api/technician-assignments/{a.id}").status_code == 403
        assert c.post("/api/technicians", json={"name": "X", "phone": "1"}).status_code == 403
