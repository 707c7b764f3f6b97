"""Tickets over the API: create, list (filters, search, pages), detail, timeline, PATCH,
accept, decline, arrive."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ServiceTicket, TechnicianStatus
from app import clock
from app.services import tickets
from tests.factories import make_ticket

TICKET_KEYS = {"id", "ticketNumber", "externalId", "branchId", "branch", "categoryId", "category", "subcategoryId",
               "subcategory", "description", "priority", "status", "assignedTechnicianId", "assignedTechnician",
               "dispatcherId", "contactName", "contactRole", "contactPhone", "createdAt", "firstResponseAt",
               "arrivedAt", "completedAt", "closedAt", "responseDueAt", "resolutionDueAt", "responseBreached",
               "resolutionBreached", "escalationLevel", "internalNotes", "storeNotes", "version", "completion",
               "equipmentId", "equipment", "source", "maintenancePlanId",  # contract v2 (issue 18)
               "paused", "pausedAt", "pauseReason", "pausedMinutesTotal"}  # issue 19


def new_ticket(world, **over):
    return {"branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
            "description": "Display fridge at 9°C", **over}


def test_create_answers_201_with_the_whole_ticket(world, api, freeze):
    freeze("2026-11-24T09:30:00Z")
    r = api.as_(world.dispatcher).post("/api/tickets", json=new_ticket(
        world, priority="HIGH", externalId="CRM-77", contactName="Night shift", contactPhone="+998900001122"))
    assert r.status_code == 201
    t = r.get_json()
    assert set(t) == TICKET_KEYS
    assert t["ticketNumber"] == "TKT-202611-00001"
    assert (t["status"], t["priority"], t["assignedTechnicianId"]) == ("ASSIGNED", "HIGH", world.primary.id)
    assert t["assignedTechnician"]["name"] == "Timur Primary"
    assert (t["createdAt"], t["responseDueAt"], t["resolutionDueAt"]) == (
        "2026-11-24T09:30:00Z", "2026-11-24T13:30:00Z", "2026-11-25T09:30:00Z")
    assert (t["externalId"], t["contactName"], t["contactPhone"], t["contactRole"]) == (
        "CRM-77", "Night shift", "+998900001122", "Store Manager")
    assert (t["dispatcherId"], t["completion"], t["version"], t["escalationLevel"]) == (
        world.dispatcher.id, None, t["version"], 0)
    assert t["branch"]["branchCode"] == "FM-001" and t["subcategory"]["name"] == "Cold Chambers"
    assert (t["responseBreached"], t["resolutionBreached"]) == (False, False)
    assert api.as_(world.dispatcher).get(f"/api/tickets/{t['id']}").get_json() == t


def test_store_manager_creates_for_own_branch_with_branch_contact_defaults(world, api):
    r = api.as_(world.manager).post("/api/tickets", json=new_ticket(world))
    assert r.status_code == 201
    t = r.get_json()
    assert (t["priority"], t["contactName"], t["contactPhone"], t["dispatcherId"]) == (
        "NORMAL", "Dilnoza K.", "+998901112233", None)
    assert "internalNotes" not in t


def test_a_branch_without_an_active_technician_gets_a_new_ticket(world, api):
    world.primary.status = TechnicianStatus.INACTIVE
    world.secondary.status = TechnicianStatus.ON_LEAVE
    db.session.commit()
    t = api.as_(world.dispatcher).post("/api/tickets", json=new_ticket(world)).get_json()
    assert (t["status"], t["assignedTechnicianId"], t["assignedTechnician"]) == ("NEW", None, None)


def test_numbers_follow_each_other(world, api):
    c = api.as_(world.dispatcher)
    numbers = [c.post("/api/tickets", json=new_ticket(world)).get_json()["ticketNumber"] for _ in range(3)]
    assert [int(n[-5:]) for n in numbers] == [1, 2, 3] and len({n[:10] for n in numbers}) == 1


# --- list ------------------------------------------------------------------------------

@pytest.fixture
def spread(world, freeze):
    """Six tickets an hour apart, in several branches, priorities and states."""
    freeze("2026-11-20T08:00:00Z")
    made = {}
    specs = [
        ("a", world.branch, "NORMAL", "Cold chamber door seal"),
        ("b", world.branch2, "HIGH", "Glass door cracked"),
        ("c", world.other_branch, "CRITICAL", "Compressor dead"),
        ("d", world.branch, "LOW", "Noisy fan 50%_off"),
        ("e", world.branch, "CRITICAL", "Leaking water under the display"),
        ("f", world.other_branch, "NORMAL", "Thermostat reads wrong"),
    ]
    for key, branch, priority, description in specs:
        made[key] = tickets.create_ticket(world.dispatcher, {
            "branchId": branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
            "description": description, "priority": priority, "externalId": f"CRM-{key.upper()}"})
        clock.advance(hours=1)
    tickets.accept(made["e"], world.tech)
    tickets.close_without_completion(made["d"], "Duplicate", world.dispatcher)
    db.session.commit()
    return made


def numbers(r):
    assert r.status_code == 200, r.get_json()
    return [t["ticketNumber"] for t in r.get_json()["items"]]


def nums(made, keys):
    return [made[k].ticket_number for k in keys]


def test_list_is_newest_first(world, api, spread):
    r = api.as_(world.dispatcher).get("/api/tickets")
    assert numbers(r) == nums(spread, "fedcba") and r.get_json()["nextCursor"] is None


@pytest.mark.parametrize("query,keys", [
    ({"status": "IN_PROGRESS"}, "e"),
    ({"status": "CLOSED"}, "d"),
    ({"priority": "CRITICAL"}, "ec"),
    ({"branchId": "$branch2"}, "b"),
    ({"technicianId": "$secondary"}, "b"),
    ({"technicianId": "$outsider", "priority": "NORMAL"}, "f"),
    ({"q": "glass"}, "b"),
    ({"q": "TKT-202611-00003"}, "c"),
    ({"q": "crm-f"}, "f"),
    ({"q": "50%_"}, "d"),
    ({"q": "%"}, "d"),  # a literal percent sign, not a wildcard
    ({"q": "_z"}, ""),
])
def test_list_filters_and_search(world, api, spread, query, keys):
    ids = {"$branch2": world.branch2.id, "$secondary": world.secondary.id, "$outsider": world.outsider.id}
    query = {k: ids.get(v, v) for k, v in query.items()}
    assert numbers(api.as_(world.dispatcher).get("/api/tickets", query_string=query)) == nums(spread, keys)


def test_overdue_lists_open_tickets_past_a_due_time(world, api, spread):
    clock.set_now(spread["c"].created_at + timedelta(minutes=61))
    # CRITICAL "c" is past its 60-minute response time; "e" was accepted in time; "d" is closed.
    assert numbers(api.as_(world.dispatcher).get("/api/tickets?overdue=true")) == nums(spread, "c")
    clock.set_now(spread["a"].created_at + timedelta(days=3))
    assert numbers(api.as_(world.dispatcher).get("/api/tickets?overdue=true")) == nums(spread, "fecba")


def test_pages_follow_the_cursor_without_gaps_or_repeats(world, api, spread):
    c = api.as_(world.dispatcher)
    seen, cursor, pages = [], None, 0
    while True:
        r = c.get("/api/tickets", query_string={"limit": 4, **({"cursor": cursor} if cursor else {})})
        seen += numbers(r)
        pages += 1
        cursor = r.get_json()["nextCursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert pages == 2 and seen == nums(spread, "fedcba")


def test_tickets_created_at_the_same_instant_page_cleanly(world, api, freeze):
    freeze("2026-11-24T09:00:00Z")
    made = [make_ticket(world).ticket_number for _ in range(5)]
    db.session.commit()
    c = api.as_(world.dispatcher)
    seen, cursor = [], None
    while True:
        r = c.get("/api/tickets", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})})
        seen += numbers(r)
        cursor = r.get_json()["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5


@pytest.mark.parametrize("query,field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "ten"}, "limit"),
    ({"cursor": "!!!"}, "cursor"), ({"cursor": "eyJhdCI6IjIwMjYtMTEtMjRUMDk6MDA6MDAiLCJpZCI6IngifQ"}, "cursor"),
    ({"status": "DONE"}, "status"), ({"priority": "URGENT"}, "priority"), ({"overdue": "perhaps"}, "overdue"),
])
def test_bad_list_parameters_are_400(world, api, query, field):
    r = api.as_(world.dispatcher).get("/api/tickets", query_string=query)
    assert r.status_code == 400 and field in r.get_json()["fields"]


def test_limit_200_is_allowed(world, api):
    assert api.as_(world.dispatcher).get("/api/tickets?limit=200").status_code == 200


def test_lists_are_scoped_to_what_the_caller_may_read(world, api, spread):
    assert numbers(api.as_(world.manager).get("/api/tickets")) == nums(spread, "eda")
    assert numbers(api.as_(world.other_manager).get("/api/tickets")) == nums(spread, "fc")
    # Asking for another branch's tickets finds nothing rather than leaking them.
    assert numbers(api.as_(world.manager).get(f"/api/tickets?branchId={world.other_branch.id}")) == []
    assert numbers(api.as_(world.tech).get("/api/tickets")) == nums(spread, "eda")
    assert numbers(api.as_(world.tech2).get("/api/tickets")) == nums(spread, "b")
    assert numbers(api.as_(world.outsider_tech).get("/api/tickets")) == nums(spread, "fc")
    assert numbers(api.as_(world.admin).get("/api/tickets")) == nums(spread, "fedcba")


def test_a_technician_keeps_seeing_a_ticket_that_moved_on(world, api, spread):
    tickets.assign(spread["a"], world.secondary.id, world.dispatcher)
    db.session.commit()
    assert spread["a"].ticket_number in numbers(api.as_(world.tech).get("/api/tickets"))
    assert api.as_(world.tech).get(f"/api/tickets/{spread['a'].id}").status_code == 200
    assert spread["a"].ticket_number in numbers(api.as_(world.tech2).get("/api/tickets"))


def test_store_managers_never_see_internal_notes(world, api):
    ticket = make_ticket(world)
    tickets.patch(ticket, {"internalNotes": "Customer is late paying", "storeNotes": "Ring twice"}, world.dispatcher)
    db.session.commit()
    mgr = api.as_(world.manager)
    assert "internalNotes" not in mgr.get(f"/api/tickets/{ticket.id}").get_json()
    assert all("internalNotes" not in t for t in mgr.get("/api/tickets").get_json()["items"])
    events = mgr.get(f"/api/tickets/{ticket.id}/events").get_json()["items"]
    assert "Customer is late paying" not in str(events)
    assert "Ring twice" in str(events)
    staff = api.as_(world.dispatcher).get(f"/api/tickets/{ticket.id}").get_json()
    assert staff["internalNotes"] == "Customer is late paying"


# --- timeline -------------------------------------------------------------------------

def test_events_show_who_did_what_when(world, api, freeze):
    freeze("2026-11-24T09:00:00Z")
    t = api.as_(world.dispatcher).post("/api/tickets", json=new_ticket(world)).get_json()
    freeze("2026-11-24T09:05:00Z")
    api.as_(world.tech).post(f"/api/tickets/{t['id']}/decline", json={"reason": "On another job"})
    r = api.as_(world.dispatcher).get(f"/api/tickets/{t['id']}/events")
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [e["kind"] for e in items] == ["created", "assigned", "declined", "assigned"]
    assert set(items[0]) == {"id", "at", "kind", "actor", "data"}
    assert items[0]["actor"] == {"id": world.dispatcher.id, "name": world.dispatcher.name, "role": "dispatcher"}
    assert items[1]["actor"] is None  # automatic
    assert items[2]["at"] == "2026-11-24T09:05:00Z" and items[2]["data"]["reason"] == "On another job"
    assert items[2]["actor"]["role"] == "technician"


def test_events_are_paginated(world, api):
    ticket = make_ticket(world)
    for i in range(5):
        tickets.patch(ticket, {"storeNotes": f"note {i}"}, world.dispatcher)
    db.session.commit()
    c = api.as_(world.dispatcher)
    first = c.get(f"/api/tickets/{ticket.id}/events?limit=4").get_json()
    second = c.get(f"/api/tickets/{ticket.id}/events", query_string={"limit": 4, "cursor": first["nextCursor"]}).get_json()
    assert len(first["items"]) == 4 and len(second["items"]) == 3 and second["nextCursor"] is None
    assert len({e["id"] for e in first["items"] + second["items"]}) == 7


# --- PATCH and the technician's actions ------------------------------------------------

def test_patch_reassigns_changes_priority_and_notes_at_once(world, api, freeze):
    t0 = freeze("2026-11-24T09:00:00Z")
    ticket = make_ticket(world)
    db.session.commit()
    version = ticket.version
    freeze("2026-11-24T10:00:00Z")
    r = api.as_(world.dispatcher).patch(f"/api/tickets/{ticket.id}", json={
        "assignedTechnicianId": world.secondary.id, "priority": "CRITICAL", "internalNotes": "VIP store",
        "storeNotes": "Key at the desk", "version": version})
    assert r.status_code == 200, r.get_json()
    t = r.get_json()
    assert (t["assignedTechnicianId"], t["status"], t["priority"], t["internalNotes"], t["storeNotes"]) == (
        world.secondary.id, "ASSIGNED", "CRITICAL", "VIP store", "Key at the desk")
    assert t["responseDueAt"] == (t0 + timedelta(minutes=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert t["version"] > version


@pytest.mark.parametrize("empty", ["", None])
def test_notes_sent_empty_are_cleared_not_ignored(world, api, empty):
    ticket = make_ticket(world)
    db.session.commit()
    c = api.as_(world.dispatcher)
    r = c.patch(f"/api/tickets/{ticket.id}", json={"internalNotes": "Alarm code 4411", "storeNotes": "Key at desk"})
    assert r.status_code == 200
    r = c.patch(f"/api/tickets/{ticket.id}", json={"internalNotes": empty, "storeNotes": empty})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["internalNotes"], r.get_json()["storeNotes"]) in ((None, None), ("", ""))
    db.session.expire_all()
    assert ticket.internal_notes is None and ticket.store_notes is None


def test_a_stale_version_is_409_and_changes_nothing(world, api, nothing_written):
    ticket = make_ticket(world)
    db.session.commit()
    stale = ticket.version
    c = api.as_(world.dispatcher)
    assert c.patch(f"/api/tickets/{ticket.id}", json={"priority": "HIGH", "version": stale}).status_code == 200
    with nothing_written():
        r = c.patch(f"/api/tickets/{ticket.id}", json={"priority": "LOW", "version": stale})
    assert r.status_code == 409 and r.get_json()["error"]
    db.session.expire_all()
    assert db.session.get(ServiceTicket, ticket.id).priority.value == "HIGH"


@pytest.mark.parametrize("body,status,field", [
    ({}, 400, None),
    ({"version": 1}, 400, None),
    ({"priority": "URGENT"}, 400, "priority"),
    ({"status": "DONE"}, 400, "status"),
    ({"assignedTechnicianId": "nope"}, 400, "assignedTechnicianId"),
    ({"assignedTechnicianId": 7}, 400, "assignedTechnicianId"),
    ({"internalNotes": "x" * 5001}, 400, "internalNotes"),
    ({"version": "one", "priority": "LOW"}, 400, "version"),
    ({"ticketNumber": "TKT-209901-00001"}, 400, "ticketNumber"),
    ({"status": "COMPLETED"}, 409, None),
    ({"status": "NEW"}, 409, None),
    ({"status": "CLOSED"}, 400, "reason"),
])
def test_bad_patches_are_refused_and_change_nothing(world, api, nothing_written, body, status, field):
    ticket = make_ticket(world)
    db.session.commit()
    c = api.as_(world.dispatcher)
    with nothing_written():
        r = c.patch(f"/api/tickets/{ticket.id}", json=body)
    assert r.status_code == status and r.get_json()["error"]
    if field:
        assert field in r.get_json()["fields"]


def test_accept_then_arrive_through_the_api(world, api, freeze):
    t = api.as_(world.dispatcher).post("/api/tickets", json=new_ticket(world)).get_json()
    t1 = freeze("2026-11-24T10:00:00Z")
    tech = api.as_(world.tech)
    r = tech.post(f"/api/tickets/{t['id']}/accept")
    assert r.status_code == 200 and (r.get_json()["status"], r.get_json()["firstResponseAt"]) == (
        "IN_PROGRESS", "2026-11-24T10:00:00Z")
    assert tech.post(f"/api/tickets/{t['id']}/accept").status_code == 409
    freeze("2026-11-24T10:40:00Z")
    r = tech.post(f"/api/tickets/{t['id']}/arrive", json={"latitude": 41.3112, "longitude": 69.2797})
    assert r.status_code == 200
    body = r.get_json()
    assert (body["arrivedAt"], body["firstResponseAt"], body["status"], body["farFromBranch"]) == (
        "2026-11-24T10:40:00Z", "2026-11-24T10:00:00Z", "IN_PROGRESS", False)
    assert body["arrivalDistanceMeters"] < 20
    _ = t1


def test_patch_status_in_progress_is_accept(world, api):
    ticket = make_ticket(world)
    db.session.commit()
    r = api.as_(world.tech).patch(f"/api/tickets/{ticket.id}", json={"status": "IN_PROGRESS"})
    assert r.status_code == 200 and r.get_json()["firstResponseAt"] is not None


def test_arrive_without_a_body_and_with_bad_coordinates(world, api, nothing_written):
    ticket = make_ticket(world)
    db.session.commit()
    tech = api.as_(world.tech)
    with nothing_written():
        assert tech.post(f"/api/tickets/{ticket.id}/arrive", json={"latitude": 95, "longitude": 1}).status_code == 400
        assert tech.post(f"/api/tickets/{ticket.id}/arrive", json={"latitude": 41.3}).status_code == 400
    r = tech.post(f"/api/tickets/{ticket.id}/arrive")
    assert r.status_code == 200 and r.get_json()["status"] == "IN_PROGRESS"
    assert r.get_json()["arrivalDistanceMeters"] is None


def test_decline_through_the_api(world, api, nothing_written):
    ticket = make_ticket(world)
    db.session.commit()
    tech = api.as_(world.tech)
    with nothing_written():
        r = tech.post(f"/api/tickets/{ticket.id}/decline", json={})
        assert r.status_code == 400 and "reason" in r.get_json()["fields"]
        assert tech.post(f"/api/tickets/{ticket.id}/decline", json={"reason": 5}).status_code == 400
    r = tech.post(f"/api/tickets/{ticket.id}/decline", json={"reason": "Van broke down"})
    assert r.status_code == 200 and r.get_json()["assignedTechnicianId"] == world.secondary.id
    r = api.as_(world.tech2).post(f"/api/tickets/{ticket.id}/decline", json={"reason": "Also busy"})
    assert r.status_code == 200 and (r.get_json()["status"], r.get_json()["assignedTechnicianId"]) == ("NEW", None)
    assert tech.post(f"/api/tickets/{ticket.id}/decline", json={"reason": "x"}).status_code == 403


def test_close_through_patch_with_a_reason(world, api):
    ticket = make_ticket(world)
    db.session.commit()
    r = api.as_(world.dispatcher).patch(f"/api/tickets/{ticket.id}",
                                        json={"status": "CLOSED", "reason": "Customer fixed it themselves"})
    assert r.status_code == 200 and r.get_json()["status"] == "CLOSED" and r.get_json()["closedAt"]
    kinds = [e["kind"] for e in api.as_(world.dispatcher).get(f"/api/tickets/{ticket.id}/events").get_json()["items"]]
    assert kinds[-1] == "closed"
    assert api.as_(world.dispatcher).patch(f"/api/tickets/{ticket.id}",
                                           json={"assignedTechnicianId": world.secondary.id}).status_code == 409


def count_queries(app, fn):
    from tests.helpers import count_statements

    with app.app_context():
        engine = db.engine
    with count_statements(engine) as seen:
        result = fn()
    return result, len(seen)


def test_the_ticket_list_costs_the_same_queries_for_5_or_25_tickets(world, api, app):
    from tests.services.flow import add_after_photo, in_progress
    from app.services import completions

    c = api.as_(world.dispatcher)

    def fill(n):
        for _ in range(n):
            t = in_progress(world)
            add_after_photo(world, t)
            completions.complete(t, world.tech, {"workDescription": "x", "laborHours": 1, "laborCostPerHour": "1",
                                                 "partsUsed": [{"name": "p", "quantity": 1, "unitCost": "1"}]})
        db.session.commit()

    fill(5)
    r, few = count_queries(app, lambda: c.get("/api/tickets"))
    assert len(r.get_json()["items"]) == 5
    fill(20)
    r, many = count_queries(app, lambda: c.get("/api/tickets"))
    assert len(r.get_json()["items"]) == 25
    assert many == few <= 12
