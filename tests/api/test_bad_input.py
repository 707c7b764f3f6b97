"""Bad input is answered 4xx with a JSON error, and nothing is written: no row, no file."""
import io

import pytest

from tests.factories import jpeg_bytes, signature_data_url
from tests.services.flow import in_progress
from tests.services.images import SVG, TEXT_AS_JPG, png_bomb, truncated_jpeg

WORK = {"workDescription": "Fixed", "laborHours": 1, "laborCostPerHour": "45.00",
        "partsUsed": [{"name": "Seal", "quantity": 1, "unitCost": "12.00"}]}


def ticket_body(world, **over):
    body = {"branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
            "description": "Fridge warm", "priority": "HIGH"}
    body.update(over)
    return {k: v for k, v in body.items() if v is not ...}


def assert_error(r, status, field=None):
    assert r.status_code == status, (r.status_code, r.data[:300])
    assert r.is_json, r.data[:200]
    body = r.get_json()
    assert isinstance(body["error"], str) and body["error"]
    assert set(body) <= {"error", "fields"}
    if field:
        assert field in body["fields"], body


@pytest.mark.parametrize("over,field", [
    ({"branchId": ...}, "branchId"),
    ({"categoryId": ...}, "categoryId"),
    ({"subcategoryId": ...}, "subcategoryId"),
    ({"description": ...}, "description"),
    ({"description": "   "}, "description"),
    ({"branchId": 42}, "branchId"),
    ({"branchId": ["x"]}, "branchId"),
    ({"description": {"text": "warm"}}, "description"),
    ({"priority": "URGENT"}, "priority"),
    ({"priority": 1}, "priority"),
    ({"priority": None, "description": None}, "description"),
    ({"branchId": "no-such-branch"}, "branchId"),
    ({"categoryId": "no-such-category"}, "categoryId"),
    ({"subcategoryId": "no-such-subcategory"}, "subcategoryId"),
    ({"externalId": "x" * 101}, "externalId"),
    ({"contactPhone": 998901234567}, "contactPhone"),
    ({"description": "x" * (10 * 1024 * 1024)}, "description"),
])
def test_bad_tickets_are_400_and_write_nothing(world, api, nothing_written, over, field):
    c = api.as_(world.dispatcher)
    with nothing_written():
        assert_error(c.post("/api/tickets", json=ticket_body(world, **over)), 400, field)


def test_a_subcategory_of_another_category_is_400(world, api, nothing_written):
    c = api.as_(world.admin)
    other = c.post("/api/issue-categories", json={"name": "Electrical"}).get_json()["id"]
    wiring = c.post(f"/api/issue-categories/{other}/subcategories", json={"name": "Wiring"}).get_json()["id"]
    with nothing_written():
        assert_error(c.post("/api/tickets", json=ticket_body(world, subcategoryId=wiring)), 400, "subcategoryId")
        assert_error(c.post("/api/tickets", json=ticket_body(world, categoryId=other)), 400, "subcategoryId")


def test_an_inactive_branch_takes_no_tickets(world, api, nothing_written):
    from app.extensions import db

    world.branch.is_active = False
    db.session.commit()
    c = api.as_(world.dispatcher)
    with nothing_written():
        assert_error(c.post("/api/tickets", json=ticket_body(world)), 400, "branchId")


@pytest.mark.parametrize("kwargs,status", [
    ({"data": "branchId=x", "content_type": "application/x-www-form-urlencoded"}, 415),
    ({"data": "not json at all", "content_type": "application/json"}, 400),
    ({"data": '{"branchId": ', "content_type": "application/json"}, 400),
    ({"json": ["a", "list"]}, 400),
    ({"json": "a string"}, 400),
    ({}, 415),
])
def test_bodies_that_are_not_a_json_object(world, api, nothing_written, kwargs, status):
    c = api.as_(world.dispatcher)
    with nothing_written():
        assert_error(c.post("/api/tickets", **kwargs), status)


def test_nul_characters_and_odd_unicode_are_not_500(world, api, nothing_written):
    c = api.as_(world.dispatcher)
    with nothing_written():
        r = c.post("/api/tickets", json=ticket_body(world, branchId="abc\x00def"))
        assert r.status_code in (400, 404) and r.is_json
        r = c.post("/api/tickets", json=ticket_body(world, description="warm\x00fridge"))
        assert r.status_code == 400 and r.is_json
        assert c.get("/api/tickets/abc%00def").status_code == 404
        assert c.get("/api/tickets", query_string={"q": "a\x00b"}).status_code == 400
    r = c.post("/api/tickets", json=ticket_body(world, description="Холодильник 🥶 не работает"))
    assert r.status_code == 201 and r.get_json()["description"] == "Холодильник 🥶 не работает"


def test_a_body_over_the_request_limit_is_413(world, api, app, nothing_written, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    c = api.as_(world.dispatcher)
    with nothing_written():
        assert_error(c.post("/api/tickets", json=ticket_body(world, description="x" * (2 * 1024 * 1024))), 413)


def test_unknown_ids_in_paths_are_404(world, api, nothing_written):
    c = api.as_(world.admin)
    with nothing_written():
        for method, path in [("get", "/api/tickets/nope"), ("get", "/api/tickets/nope/events"),
                             ("patch", "/api/tickets/nope"), ("post", "/api/tickets/nope/accept"),
                             ("post", "/api/tickets/nope/decline"), ("post", "/api/tickets/nope/arrive"),
                             ("post", "/api/tickets/nope/complete"), ("post", "/api/completions/nope/approve"),
                             ("get", "/api/completions/nope/signature"), ("get", "/api/photos/nope"),
                             ("get", "/api/technicians/nope"), ("patch", "/api/technicians/nope"),
                             ("get", "/api/tickets/" + "x" * 300)]:
            kwargs = {"json": {"reason": "x", "priority": "LOW"}} if method != "get" else {}
            assert_error(getattr(c, method)(path, **kwargs), 404)


# --- completion ---------------------------------------------------------------------

@pytest.mark.parametrize("over,field", [
    ({"laborHours": -1.5}, "laborHours"),
    ({"laborHours": "1,5"}, "laborHours"),
    ({"laborHours": None}, "laborHours"),
    ({"laborHours": True}, "laborHours"),
    ({"laborHours": [1]}, "laborHours"),
    ({"laborHours": "1e400"}, "laborHours"),  # a bare 1e400 (Infinity) is refused with the body: test_hostile_json
    ({"laborCostPerHour": "-45.00"}, "laborCostPerHour"),
    ({"laborCostPerHour": "45.001"}, "laborCostPerHour"),
    ({"laborCostPerHour": "NaN"}, "laborCostPerHour"),
    ({"laborHours": "1_0"}, "laborHours"),  # Decimal() alone reads 10
    ({"laborHours": "\u0661\u0662"}, "laborHours"),  # Arabic-Indic 12
    ({"partsUsed": [{"name": "Seal", "quantity": -1, "unitCost": "12.00"}]}, "partsUsed[0].quantity"),
    ({"partsUsed": [{"name": "Seal", "quantity": "lots", "unitCost": "12.00"}]}, "partsUsed[0].quantity"),
    ({"partsUsed": [{"name": "Seal", "quantity": 1, "unitCost": "-12.00"}]}, "partsUsed[0].unitCost"),
    ({"partsUsed": [{"name": "Seal", "quantity": 1}]}, "partsUsed[0].unitCost"),
    ({"partsUsed": [{"quantity": 1, "unitCost": "1"}]}, "partsUsed[0].name"),
    ({"partsUsed": {"name": "Seal"}}, "partsUsed"),
    ({"partsUsed": [{"name": "Seal", "quantity": 1, "unitCost": "1"}] * 51}, "partsUsed"),
    ({"workDescription": ""}, "workDescription"),
    ({"workDescription": "x" * (10 * 1024 * 1024)}, "workDescription"),
    ({"photoIds": "all"}, "photoIds"),
    ({"photoIds": ["no-such-photo"]}, "photoIds"),
])
def test_bad_completions_are_400_and_write_nothing(world, api, nothing_written, over, field):
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    r = tech.post(f"/api/tickets/{ticket.id}/photos", content_type="multipart/form-data",
                  data={"file": (io.BytesIO(jpeg_bytes()), "after.jpg"), "type": "after"})
    assert r.status_code == 201
    with nothing_written():
        assert_error(tech.post(f"/api/tickets/{ticket.id}/complete", json={**WORK, **over}), 400, field)


# --- photos ------------------------------------------------------------------------

@pytest.mark.parametrize("data,name,status", [
    (TEXT_AS_JPG, "photo.jpg", 415),
    (truncated_jpeg(), "truncated.jpg", 415),
    (SVG, "drawing.svg", 415),
    (SVG, "drawing.jpg", 415),
    (png_bomb(), "bomb.png", 413),
    (b"", "empty.jpg", 400),
], ids=["text-named-jpg", "truncated-jpeg", "svg", "svg-named-jpg", "pixel-bomb", "empty"])
def test_hostile_uploads_are_refused_and_leave_no_file(world, api, nothing_written, data, name, status):
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    with nothing_written():
        r = tech.post(f"/api/tickets/{ticket.id}/photos", content_type="multipart/form-data",
                      data={"file": (io.BytesIO(data), name, "image/jpeg"), "type": "after"})
        assert_error(r, status, "file")


def test_an_upload_over_the_photo_limit_is_413(world, api, app, nothing_written, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 50_000)
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    big = jpeg_bytes(1600, 1200) + b"\0" * 60_000
    with nothing_written():
        assert_error(tech.post(f"/api/tickets/{ticket.id}/photos", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(big), "big.jpg"), "type": "after"}), 413)


def test_a_request_over_the_size_limit_is_413_json(world, api, app, nothing_written, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100_000)
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    with nothing_written():
        assert_error(tech.post(f"/api/tickets/{ticket.id}/photos", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(b"\xff" * 200_000), "big.jpg"), "type": "after"}), 413)


@pytest.mark.parametrize("form,status,field", [
    ({"type": "after"}, 400, "file"),
    ({"file": "not-a-file", "type": "after"}, 400, "file"),
    ({"type": "selfie", "file": True}, 400, "type"),
    ({"file": True}, 400, "type"),
    ({"type": "after", "caption": "x" * 301, "file": True}, 400, "caption"),
])
def test_bad_upload_forms_are_400(world, api, nothing_written, form, status, field):
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    form = {k: ((io.BytesIO(jpeg_bytes()), "p.jpg") if v is True else v) for k, v in form.items()}
    with nothing_written():
        assert_error(tech.post(f"/api/tickets/{ticket.id}/photos", data=form, content_type="multipart/form-data"),
                     status, field)


def test_a_photo_sent_as_json_or_raw_bytes_is_415(world, api, nothing_written):
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    with nothing_written():
        assert_error(tech.post(f"/api/tickets/{ticket.id}/photos", json={"file": "base64..."}), 415)
        assert_error(tech.post(f"/api/tickets/{ticket.id}/photos", data=jpeg_bytes(),
                               content_type="image/jpeg"), 415)


# --- approval -----------------------------------------------------------------------

def test_a_blank_signature_is_400_and_leaves_no_file(world, api, nothing_written):
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    tech.post(f"/api/tickets/{ticket.id}/photos", content_type="multipart/form-data",
              data={"file": (io.BytesIO(jpeg_bytes()), "after.jpg"), "type": "after"})
    c = tech.post(f"/api/tickets/{ticket.id}/complete", json=WORK).get_json()
    mgr = api.as_(world.manager)
    with nothing_written():
        r = mgr.post(f"/api/completions/{c['id']}/approve",
                     json={"action": "approve", "signedBy": "D", "signature": signature_data_url(draw=False)})
        assert_error(r, 400, "signature")
        r = mgr.post(f"/api/completions/{c['id']}/approve",
                     json={"action": "approve", "signedBy": "D", "signature": "data:image/png;base64,"
                           + __import__("base64").b64encode(png_bomb(3000)).decode()})
        assert_error(r, 413, "signature")
