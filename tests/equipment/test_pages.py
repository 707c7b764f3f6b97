"""The equipment pages (issue 18, item 3): a branch's units and the unit form, the labels
sheet, one unit's page (who may read it, what it shows, its query count), the store's
units and picker, the dispatcher's unit on the create form and on the ticket page, and
the analytics table of units with most faults."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.models import Equipment, ServiceTicket
from app.services import equipment
from tests.equipment.conftest import at, make_unit, repaired, ticket_on
from tests.helpers import TRANSACTION_CONTROL, count_statements


def html(resp) -> str:
    return resp.get_data(as_text=True)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


# --- who may open what ---------------------------------------------------------------------

@pytest.mark.parametrize("who, status", [
    ("dispatcher", 200), ("admin", 200), ("manager", 403), ("tech", 403), (None, 302)])
def test_a_branchs_units_labels_and_the_unit_form_are_the_dispatchers(world, unit, signed_in, client, who, status):
    c = signed_in(getattr(world, who)) if who else client
    for path in (f"/dispatcher/branches/{world.branch.id}/equipment", f"/dispatcher/branches/{world.branch.id}/labels",
                 f"/dispatcher/branches/{world.branch.id}/equipment/new", f"/equipment/{unit.id}/edit"):
        assert c.get(path).status_code == status, path


def test_unknown_branch_or_unit_is_404_for_the_dispatcher(world, signed_in):
    d = signed_in(world.dispatcher)
    assert d.get("/dispatcher/branches/nope/equipment").status_code == 404
    assert d.get("/dispatcher/branches/nope/labels").status_code == 404
    assert d.get("/equipment/nope").status_code == 404
    assert d.get("/equipment/nope/edit").status_code == 404


@pytest.mark.parametrize("who, status", [
    ("dispatcher", 200), ("admin", 200), ("manager", 200), ("tech", 200),  # tech: primary of the branch
    ("other_manager", 404), ("outsider_tech", 404)])
def test_the_unit_page_follows_the_units_read_rule(world, unit, signed_in, who, status):
    assert signed_in(getattr(world, who)).get(f"/equipment/{unit.id}").status_code == status


def test_the_unit_page_signed_out_goes_to_login(world, unit, client):
    r = client.get(f"/equipment/{unit.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_store_units_page_is_the_store_managers_and_lists_only_their_branches(world, unit, signed_in):
    make_unit(world, branch=world.other_branch, tag="CL-9", name="Their freezer", kind="FREEZER")
    page = html(signed_in(world.manager).get("/store/equipment"))
    assert "Cold room 1" in page and "CR-001" in page and "Their freezer" not in page
    assert f"/store/tickets/new?equipment={unit.id}" in page
    assert signed_in(world.dispatcher).get("/store/equipment").status_code == 403


# --- the branch's units and the unit form ------------------------------------------------------

def test_branches_link_to_their_units_and_the_list_shows_them(world, unit, signed_in):
    d = signed_in(world.dispatcher)
    assert f"/dispatcher/branches/{world.branch.id}/equipment" in html(d.get("/dispatcher/branches"))
    page = html(d.get(f"/dispatcher/branches/{world.branch.id}/equipment"))
    assert "CR-001" in page and "Cold room 1" in page and "R404A" in page and "12.5 kg" in page


def test_adding_a_unit_through_the_form(world, signed_in):
    d = signed_in(world.dispatcher)
    url = f"/dispatcher/branches/{world.branch.id}/equipment/new"
    form = html(d.get(url))
    assert '<option value="R448A">R448A (GWP 1387)</option>' in form
    r = d.post(url, data={"csrf_token": csrf(form), "assetTag": " bm-01-cr2 ", "name": "Veg room", "kind": "COLD_ROOM",
                          "refrigerant": "R448A", "chargeKg": "9,8", "replacementCost": "7600", "setpointC": "4",
                          "installedOn": "2020-05-01", "leakDetection": "y"})
    assert r.status_code == 302, html(r)[:2000]
    unit = db.session.execute(db.select(Equipment).where(Equipment.asset_tag == "BM-01-CR2")).scalar_one()
    assert (unit.branch_id, str(unit.charge_kg), unit.refrigerant, unit.leak_detection) == (
        world.branch.id, "9.800", "R448A", True)
    assert r.headers["Location"].endswith(f"/equipment/{unit.id}")
    assert "Unit BM-01-CR2 added." in html(d.get(r.headers["Location"]))


def test_a_refused_unit_form_says_why_next_to_each_field_and_saves_nothing(world, unit, signed_in):
    d = signed_in(world.dispatcher)
    url = f"/dispatcher/branches/{world.branch.id}/equipment/new"
    token = csrf(html(d.get(url)))
    r = d.post(url, data={"csrf_token": token, "assetTag": "", "name": "X", "kind": ""})
    page = html(r)
    assert r.status_code == 400
    assert page.count("This field is required.") == 2 and 'aria-invalid="true"' in page
    # The service's checks: a number that is not one, a tag another unit has.
    r = d.post(url, data={"csrf_token": token, "assetTag": "cr-001", "name": "Dup", "kind": "FREEZER", "chargeKg": "lots"})
    assert r.status_code == 400 and "Must be a number." in html(r)
    r = d.post(url, data={"csrf_token": token, "assetTag": "cr-001", "name": "Dup", "kind": "FREEZER"})
    assert r.status_code == 409 and "Another unit has this asset tag." in html(r)
    assert 'value="cr-001"' in html(r)  # what was typed stays
    assert db.session.execute(db.select(db.func.count()).select_from(Equipment)).scalar() == 1


def test_editing_a_unit_moves_it_and_retires_it(world, unit, signed_in):
    d = signed_in(world.dispatcher)
    url = f"/equipment/{unit.id}/edit"
    form = html(d.get(url))
    assert 'value="CR-001"' in form and '<option selected value="R404A">' in form or 'value="R404A" selected' in form
    r = d.post(url, data={"csrf_token": csrf(form), "assetTag": "CR-001", "name": "Cold room 1", "kind": "COLD_ROOM",
                          "branchId": world.branch2.id, "refrigerant": "R404A", "chargeKg": "12.5"})
    assert r.status_code == 302, html(r)[:2000]
    db.session.expire_all()
    unit = db.session.get(Equipment, unit.id)
    assert (unit.branch_id, unit.is_active, unit.replacement_cost) == (world.branch2.id, False, None)
    kinds = [e.kind for e in equipment.history_page(unit, 10, None)[0]]
    assert kinds == ["created", "moved", "updated"]


def test_a_new_report_token_asks_first_and_replaces_the_url(world, unit, signed_in):
    d = signed_in(world.dispatcher)
    page = html(d.get(f"/equipment/{unit.id}"))
    assert "data-confirm=" in page and f"/r/{unit.report_token}" in page
    old = unit.report_token
    r = d.post(f"/equipment/{unit.id}/report-token", data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Equipment, unit.id).report_token != old
    assert signed_in(world.manager).post(f"/equipment/{unit.id}/report-token").status_code in (400, 403)


def test_the_labels_sheet_has_each_units_qr_tag_name_branch_and_the_scan_line(world, unit, signed_in):
    make_unit(world, tag="DC-7", name="Dairy case", kind="DISPLAY_CASE")
    make_unit(world, tag="OLD-1", name="Retired room", isActive=False)
    page = html(signed_in(world.dispatcher).get(f"/dispatcher/branches/{world.branch.id}/labels"))
    assert page.count('class="eq-label"') == 2 and "Retired room" not in page
    assert f'src="/equipment/{unit.id}/qr.svg"' in page
    assert page.count("Scan to report a fault") == 2 and page.count("Freshmart Central") >= 2
    assert "@page" in open("app/static/css/equipment.css").read()


# --- one unit's page ------------------------------------------------------------------------------

def test_the_unit_page_shows_tickets_costs_faults_and_says_replace_when_repairs_pass_half(world, unit, signed_in):
    clock.set_now(at("2026-10-01T08:00:00Z"))
    done = ticket_on(world, unit, description="Compressor trips")
    repaired(world, done, hours="30", rate="150.00")  # 4500.00 > 8000 / 2
    clock.set_now(at("2026-11-10T08:00:00Z"))
    ticket_on(world, unit, description="Door seal torn")
    clock.set_now(at("2026-11-20T08:00:00Z"))
    page = html(signed_in(world.manager).get(f"/equipment/{unit.id}"))
    assert "Door seal torn" in page and "Compressor trips" in page
    assert re.search(r'id="eq-faults">2<', page) and "faults in the last 90 days" in page
    assert "Consider replacing it." in page and "$4,000.00" in page  # half of the replacement cost
    assert "October 2026" in page and "$4,500.00" in page
    assert "?size=thumb" in page  # the repair's photo
    assert "/r/" not in page  # the report URL itself is the staff's


def test_the_unit_page_says_repairing_pays_under_half(world, unit, signed_in):
    t = ticket_on(world, unit)
    repaired(world, t, hours="1")
    page = html(signed_in(world.dispatcher).get(f"/equipment/{unit.id}"))
    assert "Repairing still pays." in page and "Consider replacing" not in page


def test_the_unit_page_lists_only_tickets_the_reader_may_read(world, unit, signed_in):
    """The unit moves to branch2: its old tickets (raised at branch) go with it, but the
    manager of branch2 may not read branch's tickets."""
    ticket_on(world, unit, description="Raised at Central")
    equipment.update_unit(unit, world.dispatcher, {"branchId": world.branch2.id})
    db.session.commit()
    from tests.factories import make_user
    from app.models import Role

    m2 = make_user(Role.STORE_MANAGER, "m2@example.com", branches=[world.branch2])
    db.session.commit()
    page = html(signed_in(m2).get(f"/equipment/{unit.id}"))
    assert "Raised at Central" not in page
    assert "Raised at Central" in html(signed_in(world.dispatcher).get(f"/equipment/{unit.id}"))


def test_the_unit_page_costs_the_same_queries_whatever_its_history(world, unit, signed_in):
    d = signed_in(world.dispatcher)
    d.get(f"/equipment/{unit.id}")

    def cost():
        with count_statements(skip=TRANSACTION_CONTROL) as statements:
            assert d.get(f"/equipment/{unit.id}").status_code == 200
        return len(statements)

    before = cost()
    clock.set_now(at("2026-06-01T08:00:00Z"))
    for i in range(8):
        clock.set_now(clock.now() + timedelta(days=9))
        t = ticket_on(world, unit)
        if i % 2:
            repaired(world, t)
    after = cost()
    assert after == before, (before, after)
    assert before <= 10, before


# --- the store's picker ----------------------------------------------------------------------------

def test_the_report_form_offers_the_branchs_units_as_large_choices(world, unit, signed_in):
    make_unit(world, tag="DC-1", name="Dairy case", kind="DISPLAY_CASE")
    make_unit(world, branch=world.other_branch, tag="CL-1", name="Not ours")
    make_unit(world, tag="OLD-1", name="Retired", isActive=False)
    m = signed_in(world.manager)
    page = html(m.get("/store/tickets/new"))
    assert page.count('name="equipmentId"') == 3  # two units and "not sure / other"
    assert "Dairy case" in page and "CR-001" in page and "Not ours" not in page and "Retired" not in page
    assert re.search(r'value=""\s+checked>\s*<span class="unit-text"><strong>Not sure / other', page)
    chosen = html(m.get(f"/store/tickets/new?equipment={unit.id}"))
    assert re.search(rf'value="{unit.id}"\s+checked', chosen)
    assert not re.search(r'value=""\s+checked>\s*<span class="unit-text">', chosen)


def test_a_store_report_names_the_unit_and_a_wrong_one_is_refused_by_the_picker(world, unit, signed_in):
    m = signed_in(world.manager)
    token = csrf(html(m.get("/store/tickets/new")))
    data = {"csrf_token": token, "branchId": world.branch.id, "categoryId": world.category.id,
            "subcategoryId": world.subcategory.id, "description": "Room at +9", "priority": "NORMAL"}
    other = make_unit(world, branch=world.other_branch, tag="CL-1", name="Not ours")
    r = m.post("/store/tickets/new", data={**data, "equipmentId": other.id})
    assert r.status_code == 400 and "Choose a unit of the ticket&#39;s branch." in html(r)
    assert db.session.execute(db.select(db.func.count()).select_from(ServiceTicket)).scalar() == 0
    r = m.post("/store/tickets/new", data={**data, "equipmentId": unit.id})
    assert r.status_code == 302
    t = db.session.execute(db.select(ServiceTicket)).scalar_one()
    assert t.equipment_id == unit.id
    r = m.post("/store/tickets/new", data={**data, "equipmentId": ""})
    assert r.status_code == 302


# --- the dispatcher's create form and the ticket page ---------------------------------------------------

def test_the_dispatcher_create_form_offers_the_branchs_units(world, unit, signed_in):
    d = signed_in(world.dispatcher)
    frag = html(d.get(f"/tickets/create/units?branchId={world.branch.id}"))
    assert unit.id in frag and "No unit named" in frag
    assert unit.id not in html(d.get(f"/tickets/create/units?branchId={world.branch2.id}"))
    page = html(d.get("/tickets/create"))
    r = d.post("/tickets/create", data={"csrf_token": csrf(page), "branchId": world.branch.id,
                                        "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
                                        "priority": "NORMAL", "description": "Warm", "equipmentId": unit.id})
    assert r.status_code == 302, html(r)[:3000]
    assert db.session.execute(db.select(ServiceTicket.equipment_id)).scalar_one() == unit.id


def test_the_ticket_page_shows_the_unit_and_the_dispatcher_changes_it(world, unit, signed_in):
    t = ticket_on(world, unit)
    other = make_unit(world, tag="DC-1", name="Dairy case", kind="DISPLAY_CASE")
    m_page = html(signed_in(world.manager).get(f"/tickets/{t.id}"))
    assert "CR-001" in m_page and f'href="/equipment/{unit.id}"' in m_page and "Save unit" not in m_page
    d = signed_in(world.dispatcher)
    page = html(d.get(f"/tickets/{t.id}"))
    assert "Save unit" in page and other.id in page
    r = d.post(f"/tickets/{t.id}/equipment", data={"csrf_token": csrf(page), "version": t.version,
                                                    "equipmentId": other.id})
    assert r.status_code == 302
    after = html(d.get(f"/tickets/{t.id}"))
    assert "Dairy case" in after
    # A unit of another branch is refused beside the select, nothing changes.
    theirs = make_unit(world, branch=world.other_branch, tag="CL-1", name="Not ours")
    db.session.expire_all()
    version = db.session.get(ServiceTicket, t.id).version
    r = d.post(f"/tickets/{t.id}/equipment", data={"csrf_token": csrf(after), "version": version,
                                                    "equipmentId": theirs.id})
    assert r.status_code == 400 and 'id="unit-error"' in html(r)
    db.session.expire_all()
    assert db.session.get(ServiceTicket, t.id).equipment_id == other.id
    assert signed_in(world.manager).post(f"/tickets/{t.id}/equipment", data={"equipmentId": ""}).status_code == 403


# --- analytics ------------------------------------------------------------------------------------------

def test_the_analytics_page_has_units_with_most_faults_and_its_csv(world, unit, signed_in, freeze):
    freeze("2026-11-20T08:00:00Z")
    ticket_on(world, unit)
    ticket_on(world, unit)
    d = signed_in(world.dispatcher)
    page = html(d.get("/dispatcher/analytics?preset=30d"))
    assert "Units with most faults" in page and "CR-001 · Cold room 1" in page
    assert f'href="/equipment/{unit.id}"' in page
    r = d.get("/dispatcher/analytics/units-most-faults.csv?preset=30d")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "Asset tag" in body and "CR-001" in body and ",2," in body


def test_costs_by_month_fall_in_the_local_month_of_the_approval_and_only_the_last_twelve(
        app, world, unit, signed_in, monkeypatch):
    """The months are computed with the summary in one grouped statement (migration 0018's
    bench work): an approval just after local midnight on the 1st is that month's, even
    though it is still the previous month in UTC; work approved 13 months ago is in no row
    but the unit's total tickets still count it."""
    from app.services import equipment_pages

    monkeypatch.setitem(app.config, "APP_TIMEZONE", "Asia/Tashkent")  # UTC+5
    clock.set_now(at("2025-10-15T08:00:00Z"))
    repaired(world, ticket_on(world, unit, description="Long ago"), hours="7")  # 700.00, Oct 2025
    clock.set_now(at("2026-10-31T20:30:00Z"))  # 1 November 2026, 01:30 in Tashkent
    repaired(world, ticket_on(world, unit, description="Night call"), hours="3")  # 300.00
    clock.set_now(at("2026-11-20T08:00:00Z"))
    with app.test_request_context():
        view = equipment_pages.unit_view(world.dispatcher, equipment.get_unit(unit.id))
    months = {m.month.strftime("%Y-%m"): m for m in view.months}
    assert list(months)[0] == "2026-11" and list(months)[-1] == "2025-12" and len(months) == 12
    assert (months["2026-11"].jobs, str(months["2026-11"].total)) == (1, "300.00")
    assert months["2026-10"].jobs == 0
    assert sum(m.jobs for m in view.months) == 1  # October 2025 is outside the twelve months
    assert view.summary["ticketsTotal"] == 2 and str(view.summary["costLast12Months"]) == "300.00"
