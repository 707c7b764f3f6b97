"""Who may do what (API.md): every role against every endpoint, on their own object and
on someone else's. A ticket the caller may not read is 404, not 403; no token is 401.

Actors: admin, dispatcher, tech (the ticket's technician), tech_other (another branch's
technician), mgr (store manager of the ticket's branch), mgr_other (of another branch), anon.
"""
import io

import pytest

from app.extensions import db
from app.models import TechnicianBranchAssignment
from app.services import completions, photos, tickets, users
from tests.factories import PASSWORD, jpeg_bytes, make_ticket, signature_data_url

ACTORS = {"admin": "admin", "dispatcher": "dispatcher", "tech": "tech", "tech_other": "outsider_tech",
          "mgr": "manager", "mgr_other": "other_manager", "anon": None}


# --- scenarios: state to act on, and the request ---------------------------------

def assigned(w):
    t = make_ticket(w)
    db.session.commit()
    return t


def in_progress(w):
    t = assigned(w)
    tickets.accept(t, w.tech)
    db.session.commit()
    return t


def with_after_photo(w):
    t = in_progress(w)
    p = photos.add_photo(t, w.tech, jpeg_bytes(), "after", None, "a.jpg")
    db.session.commit()
    return t, p


def completed(w):
    t, p = with_after_photo(w)
    c = completions.complete(t, w.tech, {"workDescription": "Done", "laborHours": 1, "laborCostPerHour": "10"})
    db.session.commit()
    return c


def approved(w):
    c = completed(w)
    completions.decide(c, w.manager, {"action": "approve", "signedBy": "D", "signature": signature_data_url()})
    db.session.commit()
    return c


def paused(w):
    from app.services import pauses

    t = in_progress(w)
    pauses.pause_ticket(t, w.tech, "WAITING_PARTS")
    db.session.commit()
    return t


def service_token(w):
    token, _ = users.create_service_token(w.dispatcher2, {"name": "CRM"})
    db.session.commit()
    return token.id


def new_ticket_body(w):
    return {"branchId": w.branch.id, "categoryId": w.category.id, "subcategoryId": w.subcategory.id,
            "description": "Warm"}


def unit(w):
    """A unit of the ticket's branch (FM-001): its technician and store manager read it."""
    from app.services import equipment

    u = equipment.create_unit(w.dispatcher, {"branchId": w.branch.id, "assetTag": "CR-1", "kind": "COLD_ROOM",
                                             "name": "Cold room"})
    db.session.commit()
    return u


def calendar_body(name):
    return {"name": name, "timezone": "Asia/Tashkent", "week": {"mon": [["08:00", "20:00"]]}}


def calendar(w):
    from app.services import calendar_admin

    cal = calendar_admin.create_calendar(calendar_body("Company"), w.dispatcher)
    db.session.commit()
    return cal.id


def photo_form():
    return {"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "type": "after"}


ENDPOINTS = {
    # tickets
    "list tickets": lambda w, c: c.get("/api/tickets"),
    "create ticket": lambda w, c: c.post("/api/tickets", json=new_ticket_body(w)),
    "read ticket": lambda w, c: c.get(f"/api/tickets/{assigned(w).id}"),
    "read events": lambda w, c: c.get(f"/api/tickets/{assigned(w).id}/events"),
    "reassign": lambda w, c: c.patch(f"/api/tickets/{assigned(w).id}", json={"assignedTechnicianId": w.secondary.id}),
    "change priority": lambda w, c: c.patch(f"/api/tickets/{assigned(w).id}", json={"priority": "CRITICAL"}),
    "close without completion": lambda w, c: c.patch(f"/api/tickets/{assigned(w).id}",
                                                     json={"status": "CLOSED", "reason": "Duplicate"}),
    "internal notes": lambda w, c: c.patch(f"/api/tickets/{assigned(w).id}", json={"internalNotes": "x"}),
    "store notes": lambda w, c: c.patch(f"/api/tickets/{assigned(w).id}", json={"storeNotes": "x"}),
    "accept": lambda w, c: c.post(f"/api/tickets/{assigned(w).id}/accept"),
    "start (PATCH IN_PROGRESS)": lambda w, c: c.patch(f"/api/tickets/{assigned(w).id}", json={"status": "IN_PROGRESS"}),
    "decline": lambda w, c: c.post(f"/api/tickets/{assigned(w).id}/decline", json={"reason": "Busy"}),
    "arrive": lambda w, c: c.post(f"/api/tickets/{in_progress(w).id}/arrive", json={}),
    "pause": lambda w, c: c.post(f"/api/tickets/{in_progress(w).id}/pause", json={"reason": "WAITING_PARTS"}),
    "resume": lambda w, c: c.post(f"/api/tickets/{paused(w).id}/resume", json={}),
    "upload photo": lambda w, c: c.post(f"/api/tickets/{in_progress(w).id}/photos", data=photo_form(),
                                        content_type="multipart/form-data"),
    "read photo": lambda w, c: c.get(f"/api/photos/{with_after_photo(w)[1].id}"),
    "complete": lambda w, c: c.post(f"/api/tickets/{with_after_photo(w)[0].id}/complete",
                                    json={"workDescription": "Done", "laborHours": 1, "laborCostPerHour": "10"}),
    "approve": lambda w, c: c.post(f"/api/completions/{completed(w).id}/approve",
                                   json={"action": "approve", "signedBy": "D", "signature": signature_data_url()}),
    "reject": lambda w, c: c.post(f"/api/completions/{completed(w).id}/approve",
                                  json={"action": "reject", "reason": "Not fixed"}),
    "read signature": lambda w, c: c.get(f"/api/completions/{approved(w).id}/signature"),
    # reference data
    "list categories": lambda w, c: c.get("/api/issue-categories"),
    "list subcategories": lambda w, c: c.get(f"/api/issue-categories/{w.category.id}/subcategories"),
    "create category": lambda w, c: c.post("/api/issue-categories", json={"name": "Electrical"}),
    "create subcategory": lambda w, c: c.post(f"/api/issue-categories/{w.category.id}/subcategories",
                                              json={"name": "Ice"}),
    "edit subcategory": lambda w, c: c.patch(f"/api/issue-subcategories/{w.subcategory.id}",
                                             json={"slaResponseHigh": 120}),
    "list customers": lambda w, c: c.get("/api/customers"),
    "create customer": lambda w, c: c.post("/api/customers", json={"name": "Korzinka"}),
    "list branches": lambda w, c: c.get("/api/customer-branches"),
    "create branch": lambda w, c: c.post("/api/customer-branches", json={
        "customerId": w.customer.id, "branchCode": "FM-777", "branchName": "New"}),
    # working calendars (issue 19)
    "list calendars": lambda w, c: c.get("/api/calendars"),
    "create calendar": lambda w, c: c.post("/api/calendars", json=calendar_body("New")),
    "edit calendar": lambda w, c: c.patch(f"/api/calendars/{calendar(w)}", json={"name": "Renamed"}),
    # technicians
    "list technicians": lambda w, c: c.get("/api/technicians"),
    "read technician": lambda w, c: c.get(f"/api/technicians/{w.primary.id}"),
    "report location": lambda w, c: c.patch(f"/api/technicians/{w.primary.id}",
                                            json={"latitude": 41.3, "longitude": 69.2}),
    "set technician status": lambda w, c: c.patch(f"/api/technicians/{w.primary.id}", json={"status": "ON_LEAVE"}),
    "create technician": lambda w, c: c.post("/api/technicians", json={"name": "New", "phone": "+998900000099"}),
    "assign territory": lambda w, c: c.post(f"/api/technicians/{w.outsider.id}/assign",
                                            json={"branchId": w.branch2.id, "isPrimary": False}),
    "end territory": lambda w, c: c.delete("/api/technician-assignments/" + db.session.query(
        TechnicianBranchAssignment.id).filter_by(technician_id=w.primary.id).first()[0]),
    # equipment (issue 18)
    "list equipment": lambda w, c: c.get("/api/equipment"),
    "create equipment": lambda w, c: c.post("/api/equipment", json={
        "branchId": w.branch.id, "assetTag": "DC-9", "kind": "DISPLAY_CASE", "name": "Dairy"}),
    "read equipment": lambda w, c: c.get(f"/api/equipment/{unit(w).id}"),
    "edit equipment": lambda w, c: c.patch(f"/api/equipment/{unit(w).id}", json={"name": "Meat room"}),
    "equipment history": lambda w, c: c.get(f"/api/equipment/{unit(w).id}/history"),
    "new report token": lambda w, c: c.post(f"/api/equipment/{unit(w).id}/report-token"),
    "equipment QR code": lambda w, c: c.get(f"/equipment/{unit(w).id}/qr.svg"),
    "ticket's unit": lambda w, c: c.patch(f"/api/tickets/{assigned(w).id}", json={"equipmentId": unit(w).id}),
    # users
    "create user": lambda w, c: c.post("/api/users", json={"email": "new@example.com", "password": "long-enough-1",
                                                           "role": "dispatcher"}),
    "list users": lambda w, c: c.get("/api/users"),
    "read me": lambda w, c: c.get("/api/users/me"),
    "edit me": lambda w, c: c.patch("/api/users/me", json={"notifySms": False}),
    "edit another user": lambda w, c: c.patch(f"/api/users/{w.dispatcher2.id}", json={"name": "Renamed"}),
    "revoke my token": lambda w, c: c.delete("/api/auth/token"),
    "change my password": lambda w, c: c.post("/api/users/me/password", json={
        "currentPassword": PASSWORD, "newPassword": "a-brand-new-one-7"}),
    "set another user's password": lambda w, c: c.post(f"/api/users/{w.dispatcher2.id}/password",
                                                       json={"newPassword": "a-brand-new-one-7"}),
    "end another user's tokens": lambda w, c: c.delete(f"/api/users/{w.dispatcher2.id}/tokens"),
    "issue a service token": lambda w, c: c.post(f"/api/users/{w.dispatcher2.id}/service-tokens",
                                                 json={"name": "CRM"}),
    "list service tokens": lambda w, c: c.get(f"/api/users/{w.dispatcher2.id}/service-tokens"),
    "revoke a service token": lambda w, c: c.delete(
        f"/api/users/{w.dispatcher2.id}/service-tokens/{service_token(w)}"),
}

#                              admin dispatcher tech tech_other mgr mgr_other anon
TABLE = {
    "list tickets":               (200, 200, 200, 200, 200, 200, 401),
    "create ticket":              (201, 201, 403, 403, 201, 400, 401),  # another branch: as unknown as a made-up id
    "read ticket":                (200, 200, 200, 404, 200, 404, 401),
    "read events":                (200, 200, 200, 404, 200, 404, 401),
    "reassign":                   (200, 200, 403, 404, 403, 404, 401),
    "change priority":            (200, 200, 403, 404, 403, 404, 401),
    "close without completion":   (200, 200, 403, 404, 403, 404, 401),
    "internal notes":             (200, 200, 403, 404, 403, 404, 401),
    "store notes":                (200, 200, 403, 404, 200, 404, 401),
    "accept":                     (403, 403, 200, 404, 403, 404, 401),
    "start (PATCH IN_PROGRESS)":  (403, 403, 200, 404, 403, 404, 401),
    "decline":                    (403, 403, 200, 404, 403, 404, 401),
    "arrive":                     (403, 403, 200, 404, 403, 404, 401),
    "pause":                      (200, 200, 200, 404, 403, 404, 401),
    "resume":                     (200, 200, 200, 404, 403, 404, 401),
    "upload photo":               (403, 403, 201, 404, 403, 404, 401),
    "read photo":                 (200, 200, 200, 404, 200, 404, 401),
    "complete":                   (403, 403, 201, 404, 403, 404, 401),
    "approve":                    (200, 403, 403, 404, 200, 404, 401),
    "reject":                     (200, 403, 403, 404, 200, 404, 401),
    "read signature":             (200, 200, 200, 404, 200, 404, 401),
    "list categories":            (200, 200, 200, 200, 200, 200, 401),
    "list subcategories":         (200, 200, 200, 200, 200, 200, 401),
    "create category":            (201, 201, 403, 403, 403, 403, 401),
    "create subcategory":         (201, 201, 403, 403, 403, 403, 401),
    "edit subcategory":           (200, 200, 403, 403, 403, 403, 401),
    "list customers":             (200, 200, 403, 403, 403, 403, 401),
    "create customer":            (201, 201, 403, 403, 403, 403, 401),
    "list branches":              (200, 200, 200, 200, 200, 200, 401),
    "create branch":              (201, 201, 403, 403, 403, 403, 401),
    "list calendars":             (200, 200, 200, 200, 200, 200, 401),
    "create calendar":            (201, 201, 403, 403, 403, 403, 401),
    "edit calendar":              (200, 200, 403, 403, 403, 403, 401),
    "list technicians":           (200, 200, 403, 403, 403, 403, 401),
    "read technician":            (200, 200, 200, 404, 403, 403, 401),  # a technician sees only themself
    "report location":            (200, 200, 200, 404, 403, 403, 401),
    "set technician status":      (200, 200, 403, 404, 403, 403, 401),
    "create technician":          (201, 201, 403, 403, 403, 403, 401),
    "assign territory":           (201, 201, 403, 403, 403, 403, 401),
    "end territory":              (200, 200, 403, 403, 403, 403, 401),
    "list equipment":             (200, 200, 200, 200, 200, 200, 401),  # each their own (tests/equipment)
    "create equipment":           (201, 201, 403, 403, 403, 403, 401),
    "read equipment":             (200, 200, 200, 404, 200, 404, 401),
    "edit equipment":             (200, 200, 403, 404, 403, 404, 401),
    "equipment history":          (200, 200, 200, 404, 200, 404, 401),
    "new report token":           (200, 200, 403, 404, 403, 404, 401),
    "equipment QR code":          (200, 200, 200, 404, 200, 404, 302),  # a page URL: signed out, to /login
    "ticket's unit":              (200, 200, 403, 404, 403, 404, 401),
    "create user":                (201, 403, 403, 403, 403, 403, 401),
    "list users":                 (200, 403, 403, 403, 403, 403, 401),
    "read me":                    (200, 200, 200, 200, 200, 200, 401),
    "edit me":                    (200, 200, 200, 200, 200, 200, 401),
    "edit another user":          (200, 403, 403, 403, 403, 403, 401),
    "revoke my token":            (204, 204, 204, 204, 204, 204, 401),
    "change my password":         (200, 200, 200, 200, 200, 200, 401),
    "set another user's password": (204, 403, 403, 403, 403, 403, 401),
    "end another user's tokens":  (204, 403, 403, 403, 403, 403, 401),
    "issue a service token":      (201, 403, 403, 403, 403, 403, 401),
    "list service tokens":        (200, 403, 403, 403, 403, 403, 401),
    "revoke a service token":     (204, 403, 403, 403, 403, 403, 401),
}
assert set(TABLE) == set(ENDPOINTS)

CASES = [(endpoint, actor, expected[i]) for endpoint, expected in TABLE.items() for i, actor in enumerate(ACTORS)]


@pytest.mark.parametrize("endpoint,actor,expected", CASES, ids=[f"{e}|{a}" for e, a, _ in CASES])
def test_access_matrix(world, api, endpoint, actor, expected):
    user = getattr(world, ACTORS[actor]) if ACTORS[actor] else None
    client = api.as_(user) if user is not None else api
    r = ENDPOINTS[endpoint](world, client)
    assert r.status_code == expected, (r.status_code, r.get_json(silent=True))
    if expected >= 400 and r.request.path.startswith("/api/"):
        assert r.is_json and r.get_json()["error"]


def test_the_matrix_covers_every_api_route_in_scope(app):
    """A new route must be added to the matrix (notifications, analytics, cron and
    telegram have their own tests)."""
    elsewhere = ("/api/notifications", "/api/analytics", "/api/cron", "/api/telegram")
    routes = {(sorted(r.methods - {"HEAD", "OPTIONS"})[0], r.rule) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/") and not r.rule.startswith(elsewhere)}
    covered = {
        ("GET", "/api/tickets"), ("POST", "/api/tickets"), ("GET", "/api/tickets/<ticket_id>"),
        ("GET", "/api/tickets/<ticket_id>/events"), ("PATCH", "/api/tickets/<ticket_id>"),
        ("POST", "/api/tickets/<ticket_id>/accept"), ("POST", "/api/tickets/<ticket_id>/decline"),
        ("POST", "/api/tickets/<ticket_id>/arrive"), ("POST", "/api/tickets/<ticket_id>/photos"),
        ("POST", "/api/tickets/<ticket_id>/pause"), ("POST", "/api/tickets/<ticket_id>/resume"),
        ("DELETE", "/api/tickets/<ticket_id>/photos/<photo_id>"),  # tests/api/test_completion_api.py
        ("GET", "/api/photos/<photo_id>"), ("POST", "/api/tickets/<ticket_id>/complete"),
        ("POST", "/api/completions/<completion_id>/approve"), ("GET", "/api/completions/<completion_id>/signature"),
        ("GET", "/api/issue-categories"), ("POST", "/api/issue-categories"),
        ("GET", "/api/issue-categories/<category_id>/subcategories"),
        ("POST", "/api/issue-categories/<category_id>/subcategories"),
        ("PATCH", "/api/issue-subcategories/<subcategory_id>"), ("GET", "/api/customers"), ("POST", "/api/customers"),
        ("GET", "/api/customer-branches"), ("POST", "/api/customer-branches"),
        ("PATCH", "/api/customer-branches/<branch_id>"),  # staff only, like create (test_reference.py)
        ("GET", "/api/calendars"), ("POST", "/api/calendars"), ("PATCH", "/api/calendars/<calendar_id>"),
        ("GET", "/api/technicians"), ("POST", "/api/technicians"), ("GET", "/api/technicians/<technician_id>"),
        ("PATCH", "/api/technicians/<technician_id>"), ("POST", "/api/technicians/<technician_id>/assign"),
        ("DELETE", "/api/technician-assignments/<assignment_id>"), ("POST", "/api/users"), ("GET", "/api/users"),
        ("GET", "/api/users/me"), ("PATCH", "/api/users/me"), ("GET", "/api/users/<user_id>"),
        ("PATCH", "/api/users/<user_id>"), ("POST", "/api/auth/token"), ("DELETE", "/api/auth/token"),
        ("POST", "/api/users/me/password"), ("POST", "/api/users/<user_id>/password"),
        ("DELETE", "/api/users/<user_id>/tokens"), ("POST", "/api/users/<user_id>/service-tokens"),
        ("GET", "/api/users/<user_id>/service-tokens"),
        ("DELETE", "/api/users/<user_id>/service-tokens/<token_id>"),
        ("GET", "/api/equipment"), ("POST", "/api/equipment"), ("GET", "/api/equipment/<unit_id>"),
        ("PATCH", "/api/equipment/<unit_id>"), ("GET", "/api/equipment/<unit_id>/history"),
        ("POST", "/api/equipment/<unit_id>/report-token"),
    }
    assert routes <= covered, sorted(routes - covered)
