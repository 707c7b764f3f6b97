"""The equipment API (API.md, "Equipment"): create, edit, list, one unit, its history, its
report token and QR code; refused input says which field and writes nothing."""
from __future__ import annotations

import segno

from app.extensions import db
from app.models import Equipment, EquipmentEvent
from app.services import equipment
from tests.equipment.conftest import make_unit

FULL = {
    "assetTag": " fm-001-cr 01 ", "kind": "COLD_ROOM", "name": "Meat cold room", "manufacturer": "Bitzer",
    "model": "CR-2000", "serialNumber": "SN-778812", "installedOn": "2021-05-14", "refrigerant": "r-404a",
    "chargeKg": "12.5", "leakDetection": True, "replacementCost": "18500.00", "sensorId": "probe-17",
    "setpointC": -18.5,
}


def test_a_dispatcher_registers_a_unit_and_everyone_of_the_branch_reads_it(world, api):
    r = api.as_(world.dispatcher).post("/api/equipment", json={"branchId": world.branch.id, **FULL})
    assert r.status_code == 201, r.json
    body = r.json
    token = db.session.get(Equipment, body["id"]).report_token
    assert body == {
        "id": body["id"], "branchId": world.branch.id, "assetTag": "FM-001-CR 01", "kind": "COLD_ROOM",
        "name": "Meat cold room", "manufacturer": "Bitzer", "model": "CR-2000", "serialNumber": "SN-778812",
        "installedOn": "2021-05-14", "refrigerant": "R404A", "chargeKg": "12.500", "gwp": 3922,
        "co2eTonnes": "49.03",  # 12.5 x 3922 / 1000 = 49.025, half-up
        "leakDetection": True, "replacementCost": "18500.00", "sensorId": "probe-17", "setpointC": -18.5,
        "isActive": True, "reportUrl": f"http://testserver/r/{token}", "qrUrl": f"/equipment/{body['id']}/qr.svg",
    }
    assert len(token) >= 22  # 144 random bits, URL-safe
    for reader in (world.admin, world.manager, world.tech, world.tech2):
        got = api.as_(reader).get(f"/api/equipment/{body['id']}")
        assert got.status_code == 200, (reader.email, got.json)
        assert got.json["summary"] == {"ticketsTotal": 0, "openTickets": 0, "lastServiceAt": None,
                                       "costLast12Months": "0.00", "faultsLast90Days": 0}


def test_minimal_unit_has_nulls_and_defaults(world, api):
    r = api.as_(world.admin).post("/api/equipment", json={
        "branchId": world.branch.id, "assetTag": "DC-7", "kind": "DISPLAY_CASE", "name": "Dairy case"})
    assert r.status_code == 201, r.json
    b = r.json
    assert (b["refrigerant"], b["chargeKg"], b["gwp"], b["co2eTonnes"], b["installedOn"], b["setpointC"],
            b["replacementCost"], b["leakDetection"], b["isActive"]) == (None, None, None, None, None, None,
                                                                          None, False, True)


def test_bad_input_names_each_field_and_writes_nothing(world, api, nothing_written, freeze):
    freeze("2026-11-24T09:00:00Z")
    me = api.as_(world.dispatcher)
    with nothing_written():
        r = me.post("/api/equipment", json={"branchId": world.branch.id, "kind": "FRIDGE", "refrigerant": "R12",
                                            "chargeKg": "1.2345", "installedOn": "2027-01-01", "setpointC": "cold",
                                            "replacementCost": -5, "leakDetection": "maybe", "gwp": 1,
                                            "colour": "white"})
        assert r.status_code == 400
        fields = r.json["fields"]
        assert set(fields) == {"assetTag", "name", "kind", "refrigerant", "chargeKg", "installedOn", "setpointC",
                               "replacementCost", "leakDetection", "gwp", "colour"}
        assert "R404A" in fields["refrigerant"]  # says which names it knows
        assert fields["gwp"] == "This field is read-only."
        assert fields["colour"] == "Unknown field."
        for body in ({"branchId": "nope", "assetTag": "X", "kind": "OTHER", "name": "X"},
                     {"branchId": world.branch.id, "assetTag": "X", "kind": "OTHER", "name": "X", "chargeKg": 0},
                     {"branchId": world.branch.id, "assetTag": "X" * 41, "kind": "OTHER", "name": "X"},
                     {"branchId": world.branch.id, "assetTag": "X", "kind": "OTHER", "name": "X",
                      "installedOn": "2024-02-30"}):
            r = me.post("/api/equipment", json=body)
            assert r.status_code == 400, (body, r.json)
            assert r.json["fields"], body
        assert me.post("/api/equipment", data="x", content_type="text/plain").status_code == 415
        assert me.post("/api/equipment", json=[1]).status_code == 400


def test_an_asset_tag_or_sensor_already_taken_is_409(world, api, unit, nothing_written):
    make_unit(world, tag="DC-1", name="Case", kind="DISPLAY_CASE", sensorId="s-1")
    me = api.as_(world.dispatcher)
    with nothing_written():
        r = me.post("/api/equipment", json={"branchId": world.branch2.id, "assetTag": "cr-001", "kind": "FREEZER",
                                            "name": "Another"})
        assert r.status_code == 409 and r.json["fields"] == {"assetTag": "Another unit has this asset tag."}
        r = me.patch(f"/api/equipment/{unit.id}", json={"sensorId": "s-1"})
        assert r.status_code == 409 and "sensorId" in r.json["fields"]
        r = me.patch(f"/api/equipment/{unit.id}", json={"assetTag": "dc-1"})
        assert r.status_code == 409
    # Its own tag again is no conflict.
    assert me.patch(f"/api/equipment/{unit.id}", json={"assetTag": "CR-001", "name": "Renamed"}).status_code == 200


def test_others_units_are_404_and_only_staff_change_units(world, api, unit):
    elsewhere = make_unit(world, branch=world.other_branch, tag="CL-CR-1")
    for reader in (world.manager, world.tech, world.tech2):
        assert api.as_(reader).get(f"/api/equipment/{elsewhere.id}").status_code == 404
        assert api.as_(reader).get(f"/api/equipment/{elsewhere.id}/history").status_code == 404
        assert api.as_(reader).patch(f"/api/equipment/{elsewhere.id}", json={"name": "x"}).status_code == 404
    for reader in (world.other_manager, world.outsider_tech):
        r = api.as_(reader).get(f"/api/equipment/{unit.id}")
        assert r.status_code == 404 and r.json["error"] == "Unit not found"
    assert api.as_(world.dispatcher).get("/api/equipment/nope").status_code == 404
    # Readers who are not staff may not change a unit they see.
    for reader in (world.manager, world.tech):
        r = api.as_(reader).patch(f"/api/equipment/{unit.id}", json={"name": "Mine now"})
        assert r.status_code == 403
        assert api.as_(reader).post(f"/api/equipment/{unit.id}/report-token").status_code == 403
        assert api.as_(reader).post("/api/equipment", json={"branchId": world.branch.id, "assetTag": "Z",
                                                            "kind": "OTHER", "name": "Z"}).status_code == 403


def test_a_technician_reads_a_unit_elsewhere_while_holding_a_ticket_on_it(world, api):
    from tests.equipment.conftest import ticket_on

    elsewhere = make_unit(world, branch=world.other_branch, tag="CL-CR-1")
    assert api.as_(world.tech).get(f"/api/equipment/{elsewhere.id}").status_code == 404
    t = ticket_on(world, elsewhere)  # goes to the other branch's technician
    from app.services import tickets

    tickets.assign(t, world.primary.id, world.dispatcher)
    db.session.commit()
    assert api.as_(world.tech).get(f"/api/equipment/{elsewhere.id}").status_code == 200
    items = api.as_(world.tech).get("/api/equipment").json["items"]
    assert elsewhere.id in {u["id"] for u in items}
    # Reassigned away: they held it before, so they still read the ticket, and its unit.
    tickets.assign(t, world.outsider.id, world.dispatcher)
    db.session.commit()
    assert api.as_(world.tech).get(f"/api/equipment/{elsewhere.id}").status_code == 200
    # A technician who neither serves that branch nor ever held a ticket on the unit does not.
    assert api.as_(world.tech2).get(f"/api/equipment/{elsewhere.id}").status_code == 404


def test_the_list_filters_scopes_and_pages(world, api):
    make_unit(world, tag="A-1", name="Холодильная камера мясо", kind="COLD_ROOM")
    make_unit(world, tag="A-2", name="Dairy case", kind="DISPLAY_CASE", manufacturer="Carrier")
    make_unit(world, tag="B-1", name="Condenser", kind="CONDENSING_UNIT", branch=world.branch2)
    make_unit(world, tag="C-1", name="Ice maker", kind="ICE_MACHINE", branch=world.other_branch)
    me = api.as_(world.dispatcher)

    def tags(query="", who=me):
        r = who.get(f"/api/equipment{query}")
        assert r.status_code == 200, r.json
        return [u["assetTag"] for u in r.json["items"]]

    assert tags() == ["A-1", "A-2", "B-1", "C-1"]
    assert tags(f"?branchId={world.branch.id}") == ["A-1", "A-2"]
    assert tags("?kind=DISPLAY_CASE") == ["A-2"]
    assert tags("?q=carrier") == ["A-2"]
    assert tags("?q=КАМЕРА") == ["A-1"]  # any case, also beyond ASCII
    assert tags("?q=b-") == ["B-1"]
    assert tags(who=api.as_(world.manager)) == ["A-1", "A-2"]
    assert tags(who=api.as_(world.other_manager)) == ["C-1"]
    assert tags(who=api.as_(world.tech)) == ["A-1", "A-2", "B-1"]  # primary of FM-001, secondary of FM-002
    first = me.get("/api/equipment?limit=3").json
    assert [u["assetTag"] for u in first["items"]] == ["A-1", "A-2", "B-1"] and first["nextCursor"]
    second = me.get(f"/api/equipment?limit=3&cursor={first['nextCursor']}").json
    assert [u["assetTag"] for u in second["items"]] == ["C-1"] and second["nextCursor"] is None
    assert me.get("/api/equipment?kind=FRIDGE").status_code == 400
    assert me.get("/api/equipment?cursor=%%%").status_code == 400
    assert me.get("/api/equipment?limit=0").status_code == 400


def test_a_move_and_edits_are_in_the_history(world, api, unit):
    me = api.as_(world.dispatcher)
    r = me.patch(f"/api/equipment/{unit.id}", json={"branchId": world.branch2.id, "chargeKg": "14",
                                                      "refrigerant": "R448A", "name": "Meat room"})
    assert r.status_code == 200, r.json
    assert (r.json["branchId"], r.json["chargeKg"], r.json["gwp"], r.json["co2eTonnes"]) == (
        world.branch2.id, "14.000", 1387, "19.42")
    assert me.patch(f"/api/equipment/{unit.id}", json={"name": "Meat room"}).status_code == 200  # no change
    assert me.patch(f"/api/equipment/{unit.id}", json={}).status_code == 400
    assert me.patch(f"/api/equipment/{unit.id}", json={"name": None}).json["fields"] == {
        "name": "This field is required."}
    history = me.get(f"/api/equipment/{unit.id}/history").json
    kinds = [e["kind"] for e in history["items"]]
    assert kinds == ["created", "moved", "updated"]
    created, moved, updated = history["items"]
    assert created["data"]["branchName"] == "Freshmart Central"
    assert moved["data"] == {"fromBranchId": world.branch.id, "fromBranchName": "Freshmart Central",
                             "toBranchId": world.branch2.id, "toBranchName": "Freshmart North"}
    assert moved["actor"]["id"] == world.dispatcher.id
    assert updated["data"]["changes"] == {
        "name": {"from": "Cold room 1", "to": "Meat room"}, "refrigerant": {"from": "R404A", "to": "R448A"},
        "chargeKg": {"from": "12.500", "to": "14"}}
    # The store manager of the old branch no longer sees it; the new branch's technician does.
    assert api.as_(world.manager).get(f"/api/equipment/{unit.id}").status_code == 404
    page = me.get(f"/api/equipment/{unit.id}/history?limit=2").json
    assert len(page["items"]) == 2 and page["nextCursor"]
    rest = me.get(f"/api/equipment/{unit.id}/history?limit=2&cursor={page['nextCursor']}").json
    assert [e["kind"] for e in rest["items"]] == ["updated"] and rest["nextCursor"] is None


def test_a_new_report_token_ends_the_old_url(world, api, unit, client):
    old = unit.report_token
    assert equipment.equipment_by_report_token(old).id == unit.id
    r = api.as_(world.dispatcher).post(f"/api/equipment/{unit.id}/report-token")
    assert r.status_code == 200, r.json
    db.session.expire_all()
    new = db.session.get(Equipment, unit.id).report_token
    assert new != old and r.json["reportUrl"] == f"http://testserver/r/{new}"
    assert equipment.equipment_by_report_token(old) is None
    assert equipment.equipment_by_report_token(new).id == unit.id
    event = db.session.query(EquipmentEvent).filter_by(equipment_id=unit.id, kind="report_token_changed").one()
    assert old not in str(event.data) and new not in str(event.data)  # the history never holds a secret
    # A retired unit, a malformed or empty token: nothing either.
    for token in ("", "short", new + "x" * 50, None, "../" + new):
        assert equipment.equipment_by_report_token(token) is None
    api.as_(world.dispatcher).patch(f"/api/equipment/{unit.id}", json={"isActive": False})
    assert equipment.equipment_by_report_token(new) is None


def test_the_qr_code_is_the_report_url_for_readers_only(world, api, unit, signed_in, client):
    expected = segno.make_qr(equipment.report_url(unit), error="m")
    r = api.as_(world.manager).get(f"/equipment/{unit.id}/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    svg = r.get_data(as_text=True)
    assert svg.startswith("<svg") and "CR-001" in svg  # the title names the unit
    import io

    out = io.BytesIO()
    expected.save(out, kind="svg", scale=4, border=4, xmldecl=False, title="CR-001")
    assert r.data == out.getvalue()
    assert "private" in r.headers["Cache-Control"]
    # The page session works too (an <img> on a page); other readers and strangers do not.
    assert signed_in(world.tech).get(f"/equipment/{unit.id}/qr.svg").status_code == 200
    assert signed_in(world.other_manager).get(f"/equipment/{unit.id}/qr.svg").status_code == 404
    assert api.as_(world.outsider_tech).get(f"/equipment/{unit.id}/qr.svg").status_code == 404
    signed_out = client.get(f"/equipment/{unit.id}/qr.svg")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert client.get(f"/equipment/{unit.id}/qr.svg", headers={"Authorization": "Bearer nope"}).status_code == 401
