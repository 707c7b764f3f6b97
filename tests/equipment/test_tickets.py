"""Tickets name their unit (API.md, "Equipment"): equipmentId on create and PATCH, the
ticket's JSON, its source, and the timeline sentence when a dispatcher changes the unit."""
from __future__ import annotations

from app.extensions import db
from app.models import ServiceTicket, TicketEvent
from app.services import users
from app.services.ticket_queries import timeline
from tests.equipment.conftest import make_unit


def body(world, **kw):
    return {"branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
            "description": "Warm", **kw}


def test_a_ticket_created_for_a_unit_names_it(world, api, unit):
    r = api.as_(world.manager).post("/api/tickets", json=body(world, equipmentId=unit.id))
    assert r.status_code == 201, r.json
    t = r.json
    assert t["equipmentId"] == unit.id
    assert t["equipment"] == {"id": unit.id, "assetTag": "CR-001", "name": "Cold room 1", "kind": "COLD_ROOM"}
    assert (t["source"], t["maintenancePlanId"]) == ("STORE", None)
    r = api.as_(world.dispatcher).post("/api/tickets", json=body(world))
    assert (r.json["equipmentId"], r.json["equipment"], r.json["source"]) == (None, None, "DISPATCHER")
    listed = api.as_(world.dispatcher).get("/api/tickets").json["items"]
    assert {x["equipmentId"] for x in listed} == {unit.id, None}


def test_another_systems_service_token_makes_api_tickets(world, api, client):
    token, raw = users.create_service_token(world.dispatcher2, {"name": "CRM"})
    db.session.commit()
    r = client.post("/api/tickets", json=body(world), headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 201, r.json
    assert r.json["source"] == "API"


def test_only_an_active_unit_of_the_tickets_branch(world, api, unit, nothing_written):
    elsewhere = make_unit(world, branch=world.branch2, tag="N-1")
    retired = make_unit(world, tag="OLD-1", isActive=False)
    me = api.as_(world.dispatcher)
    with nothing_written():
        for equipment_id, message in ((elsewhere.id, "Choose a unit of the ticket's branch."),
                                      ("nope", "Choose a unit of the ticket's branch."),
                                      (retired.id, "This unit is out of service."),
                                      (12, "Must be text.")):
            r = me.post("/api/tickets", json=body(world, equipmentId=equipment_id))
            assert r.status_code == 400, r.json
            assert r.json["fields"] == {"equipmentId": message}


def test_dispatchers_set_change_and_unlink_the_unit_and_the_timeline_says_so(world, api, unit):
    other = make_unit(world, tag="DC-2", name="Dairy case", kind="DISPLAY_CASE")
    created = api.as_(world.manager).post("/api/tickets", json=body(world)).json
    me = api.as_(world.dispatcher)
    path = f"/api/tickets/{created['id']}"
    r = me.patch(path, json={"equipmentId": unit.id})
    assert r.status_code == 200 and r.json["equipment"]["assetTag"] == "CR-001"
    assert me.patch(path, json={"equipmentId": other.id}).json["equipmentId"] == other.id
    assert me.patch(path, json={"equipmentId": other.id}).status_code == 200  # the same: nothing recorded
    r = me.patch(path, json={"equipmentId": None})
    assert (r.json["equipmentId"], r.json["equipment"]) == (None, None)
    events = [e for e in timeline(world.dispatcher, created["id"]) if e.kind == "equipment_changed"]
    assert [e.text for e in events] == [
        "Unit set to CR-001 · Cold room 1.",
        "Unit changed from CR-001 · Cold room 1 to DC-2 · Dairy case.",
        "Unit DC-2 · Dairy case removed from the ticket.",
    ]
    assert events[0].actor_id == world.dispatcher.id
    # The unit's figures follow the ticket.
    assert me.get(f"/api/equipment/{unit.id}").json["summary"]["ticketsTotal"] == 0
    # Not staff: refused; another branch's unit: 400; a stale version: 409.
    for who, expected in ((world.manager, 403), (world.tech, 403)):
        assert api.as_(who).patch(path, json={"equipmentId": unit.id}).status_code == expected
    elsewhere = make_unit(world, branch=world.branch2, tag="N-1")
    r = me.patch(path, json={"equipmentId": elsewhere.id})
    assert r.status_code == 400 and "equipmentId" in r.json["fields"]
    assert me.patch(path, json={"equipmentId": unit.id, "version": 1}).status_code == 409
    assert db.session.get(ServiceTicket, created["id"]).equipment_id is None


def test_the_ticket_page_timeline_in_russian(world, api, unit, signed_in):
    created = api.as_(world.dispatcher).post("/api/tickets", json=body(world)).json
    api.as_(world.dispatcher).patch(f"/api/tickets/{created['id']}", json={"equipmentId": unit.id})
    event = db.session.query(TicketEvent).filter_by(ticket_id=created["id"], kind="equipment_changed").one()
    from app.i18n import force_locale
    from app.services.timeline_text import event_text

    with force_locale("ru"):
        assert event_text(event.kind, event.data) == "Указана установка CR-001 · Cold room 1."
    with force_locale("uz"):
        assert event_text(event.kind, event.data) == "Qurilma belgilandi: CR-001 · Cold room 1."
    r = api.as_(world.manager).get(f"/api/equipment/{unit.id}?x=1", headers={"Accept-Language": "ru"})
    assert r.status_code == 200
    r = api.as_(world.other_manager).get(f"/api/equipment/{unit.id}", headers={"Accept-Language": "ru"})
    assert r.status_code == 404 and r.json["error"] == "Установка не найдена"
    r = api.as_(world.dispatcher).post("/api/tickets", json=body(world, equipmentId="nope"),
                                       headers={"Accept-Language": "uz"})
    assert r.json["fields"] == {"equipmentId": "Arizaning filialidagi qurilmani tanlang."}


def test_a_store_manager_cannot_name_a_unit_of_another_branch_on_the_page_or_the_api(
        world, api, signed_in, unit, nothing_written):
    """One rule in services (equipment.unit_for_ticket, through tickets.create_ticket): the
    unit must be of the ticket's branch. A manager of two branches cannot put one branch's
    unit on the other's ticket, nor anyone's unit of a branch not theirs; the report page
    and the API answer alike (400 on equipmentId) and nothing is written."""
    import re

    from app.models import Role
    from tests.factories import make_user

    both = make_user(Role.STORE_MANAGER, "two.branches@example.com", branches=[world.branch, world.branch2])
    db.session.commit()
    north = make_unit(world, branch=world.branch2, tag="N-1", name="North case")
    theirs = make_unit(world, branch=world.other_branch, tag="CL-1", name="Not ours")
    message = "Choose a unit of the ticket's branch."
    me, page = api.as_(both), signed_in(both)  # (the API token is made here, outside the check)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get("/store/tickets/new").get_data(as_text=True))
    form = {"csrf_token": token.group(1), "branchId": world.branch.id, "categoryId": world.category.id,
            "subcategoryId": world.subcategory.id, "description": "Warm", "priority": "NORMAL"}
    with nothing_written():
        for wrong in (north, theirs):
            r = me.post("/api/tickets", json=body(world, equipmentId=wrong.id))
            assert r.status_code == 400 and r.json["fields"] == {"equipmentId": message}, r.json
            r = page.post("/store/tickets/new", data={**form, "equipmentId": wrong.id})
            assert r.status_code == 400 and "Choose a unit of the ticket&#39;s branch." in r.get_data(as_text=True)
    # The right branch's unit goes through on both.
    assert me.post("/api/tickets", json=body(world, equipmentId=unit.id)).status_code == 201
    r = page.post("/store/tickets/new", data={**form, "branchId": world.branch2.id, "equipmentId": north.id})
    assert r.status_code == 302
    db.session.expire_all()
    assert sorted(t.equipment_id for t in db.session.execute(db.select(ServiceTicket)).scalars()) == sorted(
        [unit.id, north.id])
