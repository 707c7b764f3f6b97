"""Technicians, customers and branches, categories with SLA minutes."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import Customer, CustomerBranch, IssueSubcategory, Technician, TechnicianStatus
from app import clock
from app.services import assignment
from tests.dispatcher.conftest import page_queries


def test_technicians_page_lists_status_territories_location_and_workload(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    world.primary.latitude, world.primary.longitude, world.primary.last_location_update = 41.3, 69.28, start
    world.outsider.status = TechnicianStatus.ON_LEAVE
    db.session.commit()
    clock.set_now(start.replace(hour=9))
    html = as_dispatcher.get("/dispatcher/technicians").get_data(as_text=True)
    row = html.split("Timur Primary", 1)[1].split("</tr>", 1)[0]
    assert "Active" in row and "FM-001" in row and "FM-002" in row and "41.300, 69.280" in row and "Open in map" in row
    assert "1h 00m ago" in row
    assert "On leave" in html.split("Olim Outsider", 1)[1].split("</tr>", 1)[0]


def test_a_new_technician_is_created_and_errors_keep_what_was_typed(world, as_dispatcher):
    resp = as_dispatcher.post("/dispatcher/technicians/new",
                              data={"name": "", "phone": "+998 90 555", "status": "ACTIVE"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="name-error">This field is required.' in html and 'value="+998 90 555"' in html
    resp = as_dispatcher.post("/dispatcher/technicians/new", data={
        "name": "Bekzod New", "phone": "+998905550000", "email": "bekzod@example.com", "status": "ON_LEAVE"})
    assert resp.status_code == 302
    t = db.session.query(Technician).filter_by(name="Bekzod New").one()
    assert t.status == TechnicianStatus.ON_LEAVE and t.email == "bekzod@example.com"


def test_editing_a_technician_changes_status_and_contact(world, as_dispatcher):
    url = f"/dispatcher/technicians/{world.secondary.id}"
    form = as_dispatcher.get(url).get_data(as_text=True)
    assert 'value="Sardor Secondary"' in form
    resp = as_dispatcher.post(url, data={"name": "Sardor S.", "phone": "+998900000002", "email": "",
                                         "status": "INACTIVE"})
    assert resp.status_code == 302
    db.session.refresh(world.secondary)
    assert (world.secondary.name, world.secondary.status) == ("Sardor S.", TechnicianStatus.INACTIVE)


def test_primary_and_secondary_branches_are_given_and_ended(world, as_dispatcher):
    url = f"/dispatcher/technicians/{world.outsider.id}"
    resp = as_dispatcher.post(url + "/territories", data={"branchId": world.branch.id, "role": "primary"})
    assert resp.status_code == 302
    current = assignment.current_assignments(world.branch.id)
    assert current["primary"].technician_id == world.outsider.id  # the previous primary was ended, not refused
    html = as_dispatcher.get(url).get_data(as_text=True)
    assert "FM-001 · Freshmart Central" in html and "primary" in html
    a = current["primary"]
    resp = as_dispatcher.post(f"{url}/territories/{a.id}/end")
    assert resp.status_code == 302
    db.session.expire_all()
    assert "primary" not in assignment.current_assignments(world.branch.id)
    # Someone else's assignment id does not end through this technician's page.
    other = assignment.current_assignments(world.branch2.id)["primary"]
    assert as_dispatcher.post(f"{url}/territories/{other.id}/end").status_code == 404


def test_territory_form_without_a_branch_shows_the_error_next_to_it(world, as_dispatcher):
    resp = as_dispatcher.post(f"/dispatcher/technicians/{world.outsider.id}/territories", data={"role": "secondary"})
    assert resp.status_code == 400
    assert 'id="branchId-error">This field is required.' in resp.get_data(as_text=True)


def test_branches_page_shows_customers_branches_coordinates_and_active_flag(world, as_dispatcher):
    world.branch2.is_active = False
    db.session.commit()
    html = as_dispatcher.get("/dispatcher/branches").get_data(as_text=True)
    assert "Freshmart" in html and "Coldline" in html
    row = html.split("FM-001", 1)[1].split("</tr>", 1)[0]
    assert "41.311, 69.280" in row and 'href="https://maps.google.com/?q=41.311100,69.279700"' in row and "Dilnoza K." in row and "Yes" in row
    assert "No" in html.split("FM-002", 1)[1].split("</tr>", 1)[0]


def test_a_customer_and_a_branch_are_added_and_duplicates_are_refused_at_the_field(world, as_dispatcher):
    assert as_dispatcher.post("/dispatcher/customers", data={"name": "Korzinka"}).status_code == 302
    customer = db.session.query(Customer).filter_by(name="Korzinka").one()
    resp = as_dispatcher.post("/dispatcher/customers", data={"name": "korzinka"})
    assert resp.status_code == 409 and 'id="name-error">Already exists.' in resp.get_data(as_text=True)

    data = {"customerId": customer.id, "branchCode": "KZ-01", "branchName": "Korzinka Chilonzor",
            "address": "5 Bunyodkor", "contactPerson": "Malika", "phone": "+998911112233",
            "latitude": "41.28", "longitude": "69.20", "isActive": "y"}
    assert as_dispatcher.post("/dispatcher/branches/new", data=data).status_code == 302
    branch = db.session.query(CustomerBranch).filter_by(branch_code="KZ-01").one()
    assert (branch.latitude, branch.longitude, branch.is_active) == (41.28, 69.20, True)

    resp = as_dispatcher.post("/dispatcher/branches/new", data={**data, "branchName": "Second", "latitude": "95"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="latitude-error">Must be between -90 and 90.' in html
    assert 'value="Second"' in html and 'value="95"' in html


def test_a_branch_is_edited_and_deactivated(world, as_dispatcher):
    url = f"/dispatcher/branches/{world.branch2.id}"
    html = as_dispatcher.get(url).get_data(as_text=True)
    assert 'value="Freshmart North"' in html and "checked" in html
    resp = as_dispatcher.post(url, data={"customerId": world.customer.id, "branchCode": "FM-002",
                                         "branchName": "Freshmart North (old)", "latitude": "", "longitude": ""})
    assert resp.status_code == 302
    db.session.refresh(world.branch2)
    assert world.branch2.branch_name == "Freshmart North (old)" and world.branch2.is_active is False
    assert world.branch2.latitude is None


def test_categories_page_shows_every_subcategory_with_its_eight_sla_values(world, as_dispatcher):
    html = as_dispatcher.get("/dispatcher/categories").get_data(as_text=True)
    row = html.split("<td data-label=\"Subcategory\">Cold Chambers</td>", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'class="num">([^<]+)</td>', row)
    assert cells == ["1 h", "4 h", "1 day", "2 days", "4 h", "1 day", "2 days", "3 days"]  # not "1440 min"


def test_a_category_and_a_subcategory_with_sla_minutes_are_added(world, as_dispatcher):
    assert as_dispatcher.post("/dispatcher/categories", data={"name": "Electrical"}).status_code == 302
    html = as_dispatcher.get("/dispatcher/categories").get_data(as_text=True)
    url = re.search(r'<h2>Electrical</h2>\s*<a class="btn" href="([^"]+)"', html).group(1)
    form = as_dispatcher.get(url).get_data(as_text=True)
    assert 'value="1440"' in form  # the plan's defaults prefilled
    minutes = {"slaResponseCritical": 30, "slaResponseHigh": 120, "slaResponseNormal": 600, "slaResponseLow": 1200,
               "slaResolutionCritical": 120, "slaResolutionHigh": 600, "slaResolutionNormal": 1200,
               "slaResolutionLow": 2400}
    assert as_dispatcher.post(url, data={"name": "Lighting", **minutes}).status_code == 302
    sub = db.session.query(IssueSubcategory).filter_by(name="Lighting").one()
    assert (sub.sla_response_critical, sub.sla_resolution_low) == (30, 2400)


def test_sla_errors_show_next_to_the_minute_fields_and_keep_what_was_typed(world, as_dispatcher):
    url = f"/dispatcher/subcategories/{world.subcategory.id}"
    data = {"name": "Cold Chambers", "slaResponseCritical": "abc", "slaResponseHigh": 240, "slaResponseNormal": 1440,
            "slaResponseLow": 2880, "slaResolutionCritical": 240, "slaResolutionHigh": 100,
            "slaResolutionNormal": 2880, "slaResolutionLow": 4320}
    resp = as_dispatcher.post(url, data=data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="slaResponseCritical-error">' in html and 'value="abc"' in html
    data["slaResponseCritical"] = 60
    resp = as_dispatcher.post(url, data=data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="slaResolutionHigh-error">Resolution time cannot be shorter than response time.' in html
    data["slaResolutionHigh"] = 1000
    assert as_dispatcher.post(url, data=data).status_code == 302
    db.session.refresh(world.subcategory)
    assert world.subcategory.sla_resolution_high == 1000


def test_management_queries_do_not_grow_with_rows(world, as_dispatcher, queries):
    from tests.factories import make_branch, make_technician

    pages = ("/dispatcher/technicians", "/dispatcher/branches", "/dispatcher/categories")
    before = {}
    for p in pages:
        with queries() as q:
            as_dispatcher.get(p)
        before[p] = len(page_queries(q))
    for i in range(8):
        b = make_branch(world.customer, f"FM-1{i:02d}", f"Branch {i}")
        make_technician(f"Tech {i}", f"+99890100{i:04d}", primary_of=b)
    db.session.commit()
    for p in pages:
        with queries() as q:
            as_dispatcher.get(p)
        assert len(page_queries(q)) == before[p], p


def test_unknown_ids_are_404_pages(world, as_dispatcher):
    for path in ("/dispatcher/branches/nope", "/dispatcher/technicians/nope", "/dispatcher/subcategories/nope",
                 "/dispatcher/categories/nope/subcategories/new", "/tickets/nope"):
        assert as_dispatcher.get(path).status_code == 404, path


def test_a_territory_role_other_than_primary_or_secondary_is_refused_next_to_it(world, as_dispatcher):
    url = f"/dispatcher/technicians/{world.outsider.id}/territories"
    resp = as_dispatcher.post(url, data={"branchId": world.branch.id, "role": "boss"})
    assert resp.status_code == 400
    assert 'id="role-error">Choose primary or secondary.' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert world.outsider.id not in {a.technician_id for a in assignment.current_assignments(world.branch.id).values()}


def test_a_branch_needs_both_coordinates_or_neither(world, as_dispatcher):
    url = f"/dispatcher/branches/{world.branch2.id}"
    resp = as_dispatcher.post(url, data={"customerId": world.customer.id, "branchCode": "FM-002",
                                         "branchName": "Freshmart North", "latitude": "41.3", "longitude": "",
                                         "isActive": "y"})
    assert resp.status_code == 400
    assert 'id="longitude-error">Enter latitude and longitude together.' in resp.get_data(as_text=True)
    db.session.refresh(world.branch2)
    assert (world.branch2.latitude, world.branch2.longitude) == (41.35, 69.29)
    resp = as_dispatcher.post("/dispatcher/branches/new", data={"customerId": world.customer.id, "branchCode": "FM-009",
                                                                "branchName": "Half located", "longitude": "69.2"})
    assert resp.status_code == 400
    assert 'id="latitude-error">Enter latitude and longitude together.' in resp.get_data(as_text=True)
    assert as_dispatcher.get("/dispatcher/branches").status_code == 200


def test_empty_lists_say_what_is_missing_and_offer_the_first_step(ctx, signed_in):
    """No customer: the branches page says to add one first; a customer but no branch:
    "Add the first branch"; no technician, no unit: their first-step buttons."""
    from app.models import Role
    from tests.factories import make_branch, make_customer, make_user

    dispatcher = make_user(Role.DISPATCHER, "only.dispatcher@example.com")
    db.session.commit()
    d = signed_in(dispatcher)
    html = d.get("/dispatcher/branches").get_data(as_text=True)
    assert "No branches yet." in html and "Add a customer first." in html and "Add the first branch" not in html
    technicians = d.get("/dispatcher/technicians").get_data(as_text=True)
    assert "No technicians yet." in technicians and 'href="/dispatcher/technicians/new">Add the first technician' in technicians
    customer = make_customer()
    db.session.commit()
    html = d.get("/dispatcher/branches").get_data(as_text=True)
    assert "No branches yet." in html and 'href="/dispatcher/branches/new">Add the first branch' in html
    branch = make_branch(customer)
    db.session.commit()
    units = d.get(f"/dispatcher/branches/{branch.id}/equipment").get_data(as_text=True)
    assert "No units at this branch yet." in units
    assert f'href="/dispatcher/branches/{branch.id}/equipment/new">Add the first unit' in units
