"""Reference data: categories with SLA minutes, customers and branches; `flask seed`."""
import pytest

from app.extensions import db
from app.models import IssueCategory, IssueSubcategory

SUB_KEYS = {"id", "categoryId", "name", "description", "slaResponseCritical", "slaResponseHigh",
            "slaResponseNormal", "slaResponseLow", "slaResolutionCritical", "slaResolutionHigh",
            "slaResolutionNormal", "slaResolutionLow"}
BRANCH_KEYS = {"id", "customerId", "branchCode", "branchName", "address", "contactPerson", "phone", "latitude",
               "longitude", "isActive", "calendarId"}


def test_everyone_signed_in_reads_categories_and_subcategories(world, api):
    for who in (world.admin, world.dispatcher, world.tech, world.manager):
        r = api.as_(who).get("/api/issue-categories")
        assert r.status_code == 200
        assert r.get_json() == [{"id": world.category.id, "name": "Cooling Equipment Problems",
                                 "description": world.category.description}]
    subs = api.as_(world.manager).get(f"/api/issue-categories/{world.category.id}/subcategories").get_json()
    assert [s["name"] for s in subs] == sorted(["Cold Chambers", "Glass Repair", "Temperature Control",
                                                "Leaking Water", "Equipment Not Working", "Noise/Vibration"])
    assert set(subs[0]) == SUB_KEYS
    cold = next(s for s in subs if s["name"] == "Cold Chambers")
    assert (cold["slaResponseCritical"], cold["slaResponseHigh"], cold["slaResponseNormal"], cold["slaResponseLow"],
            cold["slaResolutionCritical"], cold["slaResolutionHigh"], cold["slaResolutionNormal"],
            cold["slaResolutionLow"]) == (60, 240, 1440, 2880, 240, 1440, 2880, 4320)


def test_unknown_category_is_404(world, api):
    r = api.as_(world.dispatcher).get("/api/issue-categories/nope/subcategories")
    assert r.status_code == 404 and r.get_json()["error"]


def test_staff_create_categories_and_subcategories(world, api):
    for who in (world.admin, world.dispatcher):
        c = api.as_(who)
        r = c.post("/api/issue-categories", json={"name": f"Electrical {who.role.value}", "description": "Power"})
        assert r.status_code == 201 and r.get_json()["description"] == "Power"
        cat = r.get_json()["id"]
        r = c.post(f"/api/issue-categories/{cat}/subcategories", json={"name": "Wiring", "slaResponseCritical": 30})
        assert r.status_code == 201
        sub = r.get_json()
        assert set(sub) == SUB_KEYS and sub["categoryId"] == cat
        assert (sub["slaResponseCritical"], sub["slaResponseHigh"]) == (30, 240)  # others default


def test_the_same_subcategory_name_may_exist_in_another_category(world, api):
    c = api.as_(world.admin)
    cat = c.post("/api/issue-categories", json={"name": "Electrical"}).get_json()["id"]
    assert c.post(f"/api/issue-categories/{cat}/subcategories", json={"name": "Cold Chambers"}).status_code == 201
    assert c.post(f"/api/issue-categories/{cat}/subcategories", json={"name": "cold chambers"}).status_code == 409


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"),
    ({}, "name"),
    ({"name": 5}, "name"),
    ({"name": "X", "slaResponseHigh": 0}, "slaResponseHigh"),
    ({"name": "X", "slaResponseHigh": -5}, "slaResponseHigh"),
    ({"name": "X", "slaResponseHigh": 1.5}, "slaResponseHigh"),
    ({"name": "X", "slaResponseHigh": "soon"}, "slaResponseHigh"),
    ({"name": "X", "slaResponseHigh": True}, "slaResponseHigh"),
    ({"name": "X", "slaResponseLow": 5000, "slaResolutionLow": 60}, "slaResolutionLow"),
])
def test_bad_subcategories_are_refused(world, api, nothing_written, body, field):
    c = api.as_(world.dispatcher)
    with nothing_written():
        r = c.post(f"/api/issue-categories/{world.category.id}/subcategories", json=body)
    assert r.status_code == 400 and field in r.get_json()["fields"]


def test_duplicate_category_is_409(world, api, nothing_written):
    c = api.as_(world.admin)
    with nothing_written():
        r = c.post("/api/issue-categories", json={"name": "cooling equipment problems"})
    assert r.status_code == 409 and r.get_json()["error"]


def test_staff_edit_subcategory_minutes_for_future_tickets(world, api):
    from tests.factories import make_ticket

    old = make_ticket(world)
    db.session.commit()
    old_due = old.response_due_at
    c = api.as_(world.dispatcher)
    r = c.patch(f"/api/issue-subcategories/{world.subcategory.id}", json={"slaResponseNormal": 120,
                                                                          "description": "Walk-in chambers"})
    assert r.status_code == 200 and (r.get_json()["slaResponseNormal"], r.get_json()["description"]) == (
        120, "Walk-in chambers")
    db.session.expire_all()
    assert db.session.get(type(old), old.id).response_due_at == old_due  # stored at creation
    assert c.patch("/api/issue-subcategories/nope", json={"name": "x"}).status_code == 404
    assert c.patch(f"/api/issue-subcategories/{world.subcategory.id}",
                   json={"slaResponseNormal": 0}).status_code == 400
    assert c.patch(f"/api/issue-subcategories/{world.subcategory.id}",
                   json={"name": "Glass Repair"}).status_code == 409


def test_customers_and_branches(world, api):
    c = api.as_(world.dispatcher)
    r = c.post("/api/customers", json={"name": "Korzinka"})
    assert r.status_code == 201
    customer = r.get_json()["id"]
    assert [x["name"] for x in c.get("/api/customers").get_json()] == ["Coldline", "Freshmart", "Korzinka"]
    r = c.post("/api/customer-branches", json={
        "customerId": customer, "branchCode": "KZ-001", "branchName": "Korzinka Chilonzor", "address": "5 Bunyodkor",
        "contactPerson": "Aziz", "phone": "+998711234567", "latitude": 41.27, "longitude": 69.2})
    assert r.status_code == 201
    b = r.get_json()
    assert set(b) == BRANCH_KEYS and (b["branchCode"], b["latitude"], b["isActive"]) == ("KZ-001", 41.27, True)
    assert c.post("/api/customers", json={"name": "korzinka"}).status_code == 409
    assert c.post("/api/customer-branches", json={"customerId": customer, "branchCode": "KZ-001",
                                                  "branchName": "Again"}).status_code == 409


def test_branch_list_is_active_only_ordered_by_code_and_scoped_for_store_managers(world, api):
    world.branch2.is_active = False
    db.session.commit()
    codes = [b["branchCode"] for b in api.as_(world.dispatcher).get("/api/customer-branches").get_json()]
    assert codes == ["CL-001", "FM-001"]
    mine = api.as_(world.manager).get("/api/customer-branches").get_json()
    assert [b["id"] for b in mine] == [world.branch.id]


@pytest.mark.parametrize("body,status,field", [
    ({"branchCode": "X-1", "branchName": "X"}, 400, "customerId"),
    ({"customerId": "nope", "branchCode": "X-1", "branchName": "X"}, 400, "customerId"),
    ({"customerId": "$C", "branchName": "X"}, 400, "branchCode"),
    ({"customerId": "$C", "branchCode": "X-1", "branchName": "X", "latitude": 123}, 400, "latitude"),
    ({"customerId": "$C", "branchCode": "X-1", "branchName": "X", "longitude": "east"}, 400, "longitude"),
])
def test_bad_branches_are_refused(world, api, nothing_written, body, status, field):
    body = {k: (world.customer.id if v == "$C" else v) for k, v in body.items()}
    c = api.as_(world.admin)
    with nothing_written():
        r = c.post("/api/customer-branches", json=body)
    assert r.status_code == status and field in r.get_json()["fields"]


def test_reference_data_is_managed_by_staff_only(world, api, nothing_written):
    for who in (world.tech, world.manager):
        c = api.as_(who)
        with nothing_written():
            assert c.post("/api/issue-categories", json={"name": "Mine"}).status_code == 403
            assert c.post(f"/api/issue-categories/{world.category.id}/subcategories",
                          json={"name": "Mine"}).status_code == 403
            assert c.patch(f"/api/issue-subcategories/{world.subcategory.id}", json={"name": "Mine"}).status_code == 403
            assert c.post("/api/customers", json={"name": "Mine"}).status_code == 403
            assert c.get("/api/customers").status_code == 403
            assert c.post("/api/customer-branches", json={"customerId": world.customer.id, "branchCode": "M",
                                                          "branchName": "Mine"}).status_code == 403


def test_flask_seed_loads_the_plans_categories_once(app, ctx):
    runner = app.test_cli_runner()
    for _ in range(2):
        r = runner.invoke(args=["seed"])
        assert r.exit_code == 0, r.output
    db.session.rollback()
    categories = {c.name: c.id for c in db.session.query(IssueCategory)}
    # The plan's category with exactly its six, and the refrigerant logbook's own (issue 18).
    assert set(categories) == {"Cooling Equipment Problems", "Refrigerant"}
    subs = db.session.query(IssueSubcategory).filter_by(category_id=categories["Cooling Equipment Problems"]).all()
    assert len(subs) == 6
    leak = db.session.query(IssueSubcategory).filter_by(category_id=categories["Refrigerant"]).one()
    assert leak.name == "Refrigerant Leak" and leak.sla_response_critical == 60 and leak.sla_resolution_low == 4320
    assert {(s.sla_response_critical, s.sla_resolution_low) for s in subs} == {(60, 4320)}


def test_staff_edit_and_deactivate_branches(world, api, nothing_written):
    c = api.as_(world.dispatcher)
    r = c.patch(f"/api/customer-branches/{world.branch2.id}", json={
        "branchName": "Freshmart North (new)", "phone": "+998711112233", "latitude": 41.36, "isActive": False})
    assert r.status_code == 200
    b = r.get_json()
    assert (b["branchName"], b["phone"], b["latitude"], b["isActive"]) == (
        "Freshmart North (new)", "+998711112233", 41.36, False)
    assert world.branch2.id not in [x["id"] for x in c.get("/api/customer-branches").get_json()]
    mgr, tech = api.as_(world.manager), api.as_(world.tech)
    with nothing_written():
        assert c.patch("/api/customer-branches/nope", json={"branchName": "x"}).status_code == 404
        assert c.patch(f"/api/customer-branches/{world.branch2.id}", json={"branchCode": "FM-001"}).status_code == 409
        assert c.patch(f"/api/customer-branches/{world.branch2.id}", json={"latitude": 500}).status_code == 400
        assert c.patch(f"/api/customer-branches/{world.branch2.id}", json={"isActive": "nah"}).status_code == 400
        assert mgr.patch(f"/api/customer-branches/{world.branch.id}", json={"branchName": "Mine"}).status_code == 403
        assert tech.patch(f"/api/customer-branches/{world.branch.id}", json={"branchName": "Mine"}).status_code == 403
