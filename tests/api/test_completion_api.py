"""Photos, completion and approval over the API."""
import io

import pytest
from PIL import Image

from app.extensions import db
from app.models import ApprovalStatus, ServiceCompletion, TicketPhoto
from tests.factories import PASSWORD, jpeg_bytes, make_ticket, signature_data_url
from tests.services.flow import in_progress
from tests.services.images import jpeg_with_exif

WORK = {"workDescription": "Replaced the fuses", "laborHours": 1.5, "laborCostPerHour": "45.00",
        "partsUsed": [{"name": "Fuse 10A", "quantity": 3, "unitCost": "0.10"}]}


def upload(client, ticket_id, data=None, kind="after", name="photo.jpg", caption=None):
    form = {"file": (io.BytesIO(data if data is not None else jpeg_bytes()), name), "type": kind}
    if caption is not None:
        form["caption"] = caption
    return client.post(f"/api/tickets/{ticket_id}/photos", data=form, content_type="multipart/form-data")


@pytest.fixture
def working(world):
    return in_progress(world)


def test_upload_answers_201_with_urls_and_size(world, api, working):
    tech = api.as_(world.tech)
    r = upload(tech, working.id, jpeg_with_exif(400, 200), kind="before", caption="Frost on the coil")
    assert r.status_code == 201, r.get_json()
    p = r.get_json()
    assert set(p) >= {"id", "type", "caption", "url", "thumbnailUrl", "width", "height"}
    assert (p["type"], p["caption"], p["width"], p["height"]) == ("before", "Frost on the coil", 200, 400)
    full = tech.get(p["url"])
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(full.data)) as img:
        assert img.size == (200, 400) and len(img.getexif()) == 0
    thumb = tech.get(p["thumbnailUrl"])
    assert thumb.status_code == 200 and len(thumb.data) < len(full.data) + 1


def test_photo_urls_need_read_access_to_the_ticket(world, api, working):
    p = upload(api.as_(world.tech), working.id).get_json()
    for who in (world.manager, world.dispatcher, world.admin, world.tech):
        assert api.as_(who).get(p["url"]).status_code == 200
        assert api.as_(who).get(p["thumbnailUrl"]).status_code == 200
    for who in (world.other_manager, world.outsider_tech, world.tech2):
        r = api.as_(who).get(p["url"])
        assert r.status_code == 404 and r.is_json
        assert api.as_(who).get(p["thumbnailUrl"]).status_code == 404
    assert api.as_(world.admin).get("/api/photos/nope").status_code == 404
    assert api.client.get(p["url"]).status_code == 401  # no token


def test_the_photo_page_route_checks_read_access_too(world, app, working, api):
    p = upload(api.as_(world.tech), working.id).get_json()
    page = f"/photos/{p['id']}"

    def as_signed_in(email):
        # Requests reuse an app context a test has pushed (and its `g`, where Flask-Login
        # keeps the user): give each person their own.
        with app.app_context():
            browser = app.test_client()
            assert browser.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
            return browser.get(page).status_code, browser.get(page + "?size=thumb").status_code

    assert as_signed_in("manager@example.com") == (200, 200)
    assert as_signed_in("other.manager@example.com") == (404, 404)
    with app.app_context():
        assert app.test_client().get(page).status_code == 302  # signed out: to /login


def test_only_the_assigned_technician_uploads_while_in_progress(world, api, nothing_written):
    assigned = make_ticket(world)
    db.session.commit()
    working = in_progress(world)
    for who in (world.admin, world.dispatcher, world.manager):
        api.as_(who)
    api.as_(world.tech2), api.as_(world.other_manager), api.as_(world.tech)
    with nothing_written():
        assert upload(api.as_(world.tech), assigned.id).status_code == 409
        for who in (world.admin, world.dispatcher, world.manager):
            assert upload(api.as_(who), working.id).status_code == 403
        for who in (world.other_manager, world.tech2):  # may not even read it
            assert upload(api.as_(who), working.id).status_code == 404


def test_complete_answers_201_with_server_side_totals(world, api, working, freeze):
    freeze("2026-11-24T14:00:00Z")
    tech = api.as_(world.tech)
    photo = upload(tech, working.id).get_json()
    r = tech.post(f"/api/tickets/{working.id}/complete",
                  json={**WORK, "partsCost": "99.99", "laborCost": "0.01", "totalCost": "100.00",
                        "partsUsed": [{"name": "Fuse 10A", "quantity": 3, "unitCost": 0.1, "total": "50.00"}]})
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert set(c) >= {"id", "ticketId", "completedBy", "completedAt", "workDescription", "laborHours",
                      "laborCostPerHour", "parts", "partsCost", "laborCost", "totalCost", "photos",
                      "approvalStatus", "approvalNotes", "signatureUrl", "signedBy", "signedAt"}
    assert c["parts"] == [{"name": "Fuse 10A", "quantity": 3, "unitCost": "0.10", "total": "0.30"}]
    assert (c["partsCost"], c["laborCost"], c["totalCost"]) == ("0.30", "67.50", "67.80")
    assert (c["laborHours"], c["laborCostPerHour"]) == (1.5, "45.00")
    assert (c["completedBy"], c["completedAt"], c["approvalStatus"], c["signatureUrl"]) == (
        world.tech.name, "2026-11-24T14:00:00Z", "PENDING", None)
    assert [p["id"] for p in c["photos"]] == [photo["id"]]
    t = api.as_(world.manager).get(f"/api/tickets/{working.id}").get_json()
    assert (t["status"], t["completedAt"], t["completion"]["id"]) == ("COMPLETED", "2026-11-24T14:00:00Z", c["id"])


def test_completing_without_an_after_photo_is_400(world, api, working, nothing_written):
    tech = api.as_(world.tech)
    upload(tech, working.id, kind="before")
    with nothing_written():
        r = tech.post(f"/api/tickets/{working.id}/complete", json=WORK)
    assert r.status_code == 400 and "photos" in r.get_json()["fields"]


def test_approve_with_a_signature_closes_the_ticket(world, api, working, freeze):
    tech = api.as_(world.tech)
    upload(tech, working.id)
    c = tech.post(f"/api/tickets/{working.id}/complete", json=WORK).get_json()
    t1 = freeze("2026-11-24T16:00:00Z")
    mgr = api.as_(world.manager)
    r = mgr.post(f"/api/completions/{c['id']}/approve",
                 json={"action": "approve", "signedBy": "Dilnoza K.", "signature": signature_data_url()})
    assert r.status_code == 200, r.get_json()
    done = r.get_json()
    assert (done["approvalStatus"], done["signedBy"], done["signedAt"]) == ("APPROVED", "Dilnoza K.",
                                                                           "2026-11-24T16:00:00Z")
    sig = mgr.get(done["signatureUrl"])
    assert sig.status_code == 200 and sig.mimetype == "image/png"
    with Image.open(io.BytesIO(sig.data)) as img:
        assert img.format == "PNG"
    t = mgr.get(f"/api/tickets/{working.id}").get_json()
    assert (t["status"], t["closedAt"]) == ("CLOSED", "2026-11-24T16:00:00Z")
    assert api.as_(world.other_manager).get(done["signatureUrl"]).status_code == 404
    again = mgr.post(f"/api/completions/{c['id']}/approve", json={"action": "reject", "reason": "Changed my mind"})
    assert again.status_code == 409 and again.get_json()["error"]
    _ = t1


def test_reject_then_complete_again_keeps_both(world, api, working):
    tech, mgr = api.as_(world.tech), api.as_(world.manager)
    upload(tech, working.id)
    first = tech.post(f"/api/tickets/{working.id}/complete", json=WORK).get_json()
    r = mgr.post(f"/api/completions/{first['id']}/approve", json={"action": "reject", "reason": "Still warm"})
    assert r.status_code == 200 and (r.get_json()["approvalStatus"], r.get_json()["approvalNotes"]) == (
        "REJECTED", "Still warm")
    assert mgr.get(f"/api/tickets/{working.id}").get_json()["status"] == "IN_PROGRESS"
    upload(tech, working.id)
    second = tech.post(f"/api/tickets/{working.id}/complete", json={**WORK, "laborHours": 2}).get_json()
    assert second["id"] != first["id"] and second["laborCost"] == "90.00"
    t = mgr.get(f"/api/tickets/{working.id}").get_json()
    assert t["completion"]["id"] == second["id"] and t["status"] == "COMPLETED"
    kinds = [e["kind"] for e in mgr.get(f"/api/tickets/{working.id}/events").get_json()["items"]]
    assert [k for k in kinds if k in ("completed", "rejected")] == ["completed", "rejected", "completed"]
    assert mgr.post(f"/api/completions/{first['id']}/approve",
                    json={"action": "approve", "signedBy": "D", "signature": signature_data_url()}).status_code == 409
    assert db.session.query(ServiceCompletion).count() == 2


@pytest.mark.parametrize("body,status,field", [
    ({"action": "approve", "signedBy": "D", "signature": signature_data_url(draw=False)}, 400, "signature"),
    ({"action": "approve", "signedBy": "D"}, 400, "signature"),
    ({"action": "approve", "signedBy": "D", "signature": "data:image/png;base64,!!notbase64"}, 400, "signature"),
    ({"action": "approve", "signedBy": "D", "signature": "https://evil.example/sig.png"}, 400, "signature"),
    ({"action": "approve", "signature": signature_data_url()}, 400, "signedBy"),
    ({"action": "reject"}, 400, "reason"),
    ({"action": "shrug"}, 400, "action"),
    ({}, 400, "action"),
])
def test_bad_decisions_are_refused_and_change_nothing(world, api, working, nothing_written, body, status, field):
    tech, mgr = api.as_(world.tech), api.as_(world.manager)
    upload(tech, working.id)
    c = tech.post(f"/api/tickets/{working.id}/complete", json=WORK).get_json()
    with nothing_written():
        r = mgr.post(f"/api/completions/{c['id']}/approve", json=body)
    assert r.status_code == status and field in r.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(ServiceCompletion, c["id"]).approval_status == ApprovalStatus.PENDING


def test_who_may_decide(world, api, working, nothing_written):
    tech = api.as_(world.tech)
    upload(tech, working.id)
    c = tech.post(f"/api/tickets/{working.id}/complete", json=WORK).get_json()
    reject = {"action": "reject", "reason": "no"}
    clients = {who: api.as_(getattr(world, who)) for who in ("dispatcher", "tech", "other_manager", "outsider_tech")}
    with nothing_written():
        assert clients["dispatcher"].post(f"/api/completions/{c['id']}/approve", json=reject).status_code == 403
        assert clients["tech"].post(f"/api/completions/{c['id']}/approve", json=reject).status_code == 403
        assert clients["other_manager"].post(f"/api/completions/{c['id']}/approve", json=reject).status_code == 404
        assert clients["outsider_tech"].post(f"/api/completions/{c['id']}/approve", json=reject).status_code == 404
        assert clients["dispatcher"].post("/api/completions/nope/approve", json=reject).status_code == 404
    assert api.as_(world.admin).post(f"/api/completions/{c['id']}/approve", json=reject).status_code == 200


def test_a_removed_photo_goes_and_submitted_ones_stay(world, api, working):
    tech = api.as_(world.tech)
    p = upload(tech, working.id, kind="before").get_json()
    assert tech.delete(f"/api/tickets/{working.id}/photos/{p['id']}").status_code == 204
    assert tech.get(p["url"]).status_code == 404
    assert db.session.query(TicketPhoto).count() == 0
    assert tech.delete(f"/api/tickets/{working.id}/photos/{p['id']}").status_code == 404
