"""Completing the job on the phone: the form, the running total, photos (/tech/tickets/<id>/...)."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import ApprovalStatus, PhotoType, ServiceCompletion, ServiceTicket, TicketPhoto, TicketStatus
from app.services import completions, photos, tickets
from app.services.storage import LocalStorage
from tests.factories import jpeg_bytes, make_ticket
from tests.helpers import count_statements

HX = {"HX-Request": "true"}


@pytest.fixture
def working(world):
    """A ticket the signed-in technician has accepted."""
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    db.session.commit()
    return ticket


def rotated_jpeg_with_gps(width=640, height=480) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (41.0, 18.0, 40.0), 3: "E", 4: (69.0, 16.0, 47.0)})
    return jpeg_bytes(width, height, exif=exif)


def add_after_photo(world, ticket):
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    db.session.commit()


def form(**changes):
    data = {"workDescription": "Replaced the fan motor", "laborHours": "1,5", "laborCostPerHour": "45.00",
            "part": ["k1", "k2"],
            "part-k1-name": "Fan motor", "part-k1-quantity": "1", "part-k1-unitCost": "120,50",
            "part-k2-name": "Gasket", "part-k2-quantity": "2", "part-k2-unitCost": "15.25"}
    data.update(changes)
    return data


def test_the_complete_page_offers_camera_photos_and_the_default_labour_rate(tech, working, app):
    html = tech.get(f"/tech/tickets/{working.id}/complete").get_data(as_text=True)
    assert '<input type="file" id="photo-input" class="file-hidden" accept="image/*" capture="environment" multiple>' in html
    # The office's rate, with its currency, shown and not typed.
    assert f'id="labor-rate" aria-labelledby="rate-label">${app.config["DEFAULT_LABOR_RATE"]}</output>' in html
    assert 'name="laborCostPerHour"' not in html and "Set by the office" in html
    for tag in ("before", "after", "work"):
        assert f'name="photoTag" value="{tag}"' in html
    assert 'name="photoTag" value="before" checked' in html  # no photo yet: start with "before"


def test_submitting_creates_the_completion_with_totals_computed_by_the_server(tech, world, working):
    add_after_photo(world, working)
    r = tech.post(f"/tech/tickets/{working.id}/complete", data=form(totalCost="1.00"))
    assert r.status_code == 303 and r.headers["Location"].endswith("/tech/dashboard")
    db.session.expire_all()
    ticket = db.session.get(ServiceTicket, working.id)
    assert ticket.status == TicketStatus.COMPLETED
    c = ticket.completion
    assert (c.parts_cost, c.labor_cost, c.total_cost) == (Decimal("151.00"), Decimal("67.50"), Decimal("218.50"))
    assert [(p.name, p.quantity, p.unit_cost, p.total) for p in c.parts] == [
        ("Fan motor", Decimal("1.00"), Decimal("120.50"), Decimal("120.50")),
        ("Gasket", Decimal("2.00"), Decimal("15.25"), Decimal("30.50")),
    ]
    assert [p.type for p in c.photos] == [PhotoType.AFTER]
    page = tech.get("/tech/dashboard").get_data(as_text=True)
    assert "is submitted and waiting for the store manager" in page


def test_blank_parts_rows_are_ignored_and_a_blank_rate_uses_the_default(tech, world, working):
    add_after_photo(world, working)
    data = form(laborCostPerHour="", laborHours="2")
    data["part"] = ["k1", "k9"]
    data.update({"part-k9-name": "", "part-k9-quantity": "", "part-k9-unitCost": ""})
    assert tech.post(f"/tech/tickets/{working.id}/complete", data=data).status_code == 303
    db.session.expire_all()
    c = db.session.get(ServiceTicket, working.id).completion
    assert c.labor_cost_per_hour == Decimal("45.00") and len(c.parts) == 1
    assert c.total_cost == Decimal("210.50")


def test_without_an_after_photo_the_error_is_inline_and_everything_typed_stays(tech, world, working):
    photos.add_photo(working, world.tech, jpeg_bytes(), "before", "Before the repair", None)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{working.id}/complete", data=form())
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Add at least one “after” photo." in html
    assert "Replaced the fan motor</textarea>" in html
    assert 'value="1,5"' in html and 'value="120,50"' in html and 'value="Gasket"' in html
    assert "Before the repair" in html  # the uploaded photo is still there
    assert "218.50" in html  # and so is the total
    db.session.expire_all()
    assert db.session.get(ServiceTicket, working.id).status == TicketStatus.IN_PROGRESS


def test_an_empty_submit_names_the_description_the_hours_and_the_after_photo_at_once(tech, world, working, api):
    """One round of errors, not two: the missing "after" photo is named together with
    the empty fields (on the page and over the API)."""
    r = tech.post(f"/tech/tickets/{working.id}/complete", data={"workDescription": "", "laborHours": ""})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    errors = html.count('class="field-error"')
    assert "Add at least one “after” photo." in html
    assert html.count("has-error") >= 2 and errors >= 3
    for name in ("workDescription", "laborHours"):
        field = html.split(f'name="{name}"')[1].split("</label>")[0]
        assert 'class="field-error"' in field, name
    r = api.as_(world.tech).post(f"/api/tickets/{working.id}/complete", json={})
    assert r.status_code == 400
    assert {"workDescription", "laborHours", "photos"} <= set(r.get_json()["fields"])
    db.session.expire_all()
    assert db.session.get(ServiceTicket, working.id).status == TicketStatus.IN_PROGRESS


def test_a_bad_part_shows_its_error_on_its_own_row(tech, world, working):
    add_after_photo(world, working)
    r = tech.post(f"/tech/tickets/{working.id}/complete",
                  data=form(**{"part-k2-quantity": "0", "workDescription": ""}))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    gasket_row = html[html.index('value="Gasket"'):]
    gasket_row = gasket_row[:gasket_row.index("data-remove-part")]
    assert "Must be greater than zero." in gasket_row
    fan_row = html[html.index('value="Fan motor"'):html.index('value="Gasket"')]
    assert "field-error" not in fan_row
    assert "This field is required." in html  # the work description
    assert db.session.scalar(select(ServiceCompletion.id)) is None


def test_the_running_total_is_computed_by_the_server_in_decimal(tech, working):
    working.assigned_technician.labor_rate = Decimal("0.30")  # the office's rate for them
    db.session.commit()
    data = form(laborHours="0.1")
    data["part"] = ["k1"]
    data.update({"part-k1-quantity": "3", "part-k1-unitCost": "0.10"})
    r = tech.post(f"/tech/tickets/{working.id}/totals", data=data, headers=HX)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<strong class="num" data-total>$0.33</strong>' in html  # 0.30 + 0.03, no float drift
    assert "Parts (1)" in html and "0.1 h × $0.30" in html


def test_the_running_total_counts_unfinished_values_as_zero(tech, working):
    r = tech.post(f"/tech/tickets/{working.id}/totals", data={"laborHours": "abc", "part": ["k1"],
                                                              "part-k1-quantity": "2", "part-k1-unitCost": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "data-total>$0.00<" in html
    assert "Fill in the hours" in html


def test_preview_totals_and_complete_share_one_costing_rule():
    data = {"laborHours": "1.25", "laborCostPerHour": "33.33",
            "partsUsed": [{"quantity": "3", "unitCost": "1.11"}, {"quantity": "0.5", "unitCost": "0.05"}]}
    preview = completions.preview_totals(data, Decimal("45"))
    costs = completions.cost_totals([{"quantity": Decimal("3"), "unit_cost": Decimal("1.11")},
                                     {"quantity": Decimal("0.5"), "unit_cost": Decimal("0.05")}],
                                    Decimal("1.25"), Decimal("33.33"))
    assert preview["part_totals"] == costs["part_totals"] == [Decimal("3.33"), Decimal("0.03")]
    assert preview["labor_cost"] == costs["labor_cost"] == Decimal("41.66")
    assert preview["total_cost"] == costs["total_cost"] == Decimal("45.02")
    assert preview["incomplete"] is False


def test_add_part_returns_an_empty_row_with_its_own_key(tech, working):
    r = tech.get(f"/tech/tickets/{working.id}/parts/new", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html
    assert 'name="part" value="' in html and "data-remove-part" in html
    other = tech.get(f"/tech/tickets/{working.id}/parts/new", headers=HX).get_data(as_text=True)
    key = html.split('name="part" value="')[1].split('"')[0]
    assert key not in other


def test_an_uploaded_photo_comes_back_as_a_thumbnail_upright_and_without_exif(tech, working, app):
    r = tech.post(f"/tech/tickets/{working.id}/photos", data={
        "file": (io.BytesIO(rotated_jpeg_with_gps()), "IMG_0001.jpg", "image/jpeg"),
        "type": "before", "caption": "Iced-up evaporator"}, content_type="multipart/form-data")
    assert r.status_code == 201
    html = r.get_data(as_text=True)
    photo = db.session.scalar(select(TicketPhoto))
    assert f'id="photo-{photo.id}"' in html and f"/photos/{photo.id}?size=thumb" in html
    assert "Iced-up evaporator" in html and 'data-confirm="Remove this photo?"' in html
    storage = LocalStorage(app.config["UPLOAD_DIR"])
    full = Image.open(io.BytesIO(storage.get(photo.storage_key)))
    assert full.size == (480, 640) and not full.getexif()
    thumb = tech.get(f"/photos/{photo.id}?size=thumb")
    assert thumb.status_code == 200
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= app.config["PHOTO_THUMB_SIDE"]


def test_a_file_that_is_not_an_image_is_refused_with_a_short_reason(tech, working):
    r = tech.post(f"/tech/tickets/{working.id}/photos", data={
        "file": (io.BytesIO(b"%PDF-1.4 not a photo"), "photo.jpg", "image/jpeg"), "type": "after"},
        content_type="multipart/form-data")
    assert r.status_code == 415
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "not a JPEG, PNG, WebP or HEIC image" in r.get_data(as_text=True)
    assert db.session.scalar(select(TicketPhoto.id)) is None


def test_an_upload_without_a_file_or_tag_is_refused(tech, working):
    r = tech.post(f"/tech/tickets/{working.id}/photos", data={"type": "after"}, content_type="multipart/form-data")
    assert r.status_code == 400 and "Choose a photo" in r.get_data(as_text=True)
    r = tech.post(f"/tech/tickets/{working.id}/photos", data={
        "file": (io.BytesIO(jpeg_bytes()), "a.jpg", "image/jpeg"), "type": "selfie"},
        content_type="multipart/form-data")
    assert r.status_code == 400 and "Unknown photo type" in r.get_data(as_text=True)


def test_a_photo_can_be_removed_before_submitting_but_not_after(tech, world, working):
    photos.add_photo(working, world.tech, jpeg_bytes(), "work", None, None)
    add_after_photo(world, working)
    work, after = db.session.scalars(select(TicketPhoto).order_by(TicketPhoto.created_at)).all()
    r = tech.delete(f"/tech/tickets/{working.id}/photos/{work.id}", headers=HX)
    assert r.status_code == 200 and r.data == b""
    assert tech.post(f"/tech/tickets/{working.id}/complete", data=form()).status_code == 303
    r = tech.delete(f"/tech/tickets/{working.id}/photos/{after.id}", headers=HX)
    assert r.status_code == 409
    db.session.expire_all()
    assert [p.id for p in db.session.scalars(select(TicketPhoto))] == [after.id]


def test_the_complete_page_explains_when_the_ticket_cannot_be_completed(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    html = tech.get(f"/tech/tickets/{ticket.id}/complete").get_data(as_text=True)
    assert "Accept this ticket before completing it." in html
    assert 'id="complete-form"' not in html
    r = tech.post(f"/tech/tickets/{ticket.id}/complete", data=form())
    assert r.status_code == 409


def test_rejected_work_is_completed_again_and_the_first_completion_stays(tech, world, working):
    add_after_photo(world, working)
    assert tech.post(f"/tech/tickets/{working.id}/complete", data=form()).status_code == 303
    db.session.expire_all()
    first = db.session.get(ServiceTicket, working.id).completion
    completions.decide(first, world.manager, {"action": "reject", "reason": "Gasket is the wrong size"})
    db.session.commit()

    page = tech.get(f"/tech/tickets/{working.id}/complete").get_data(as_text=True)
    assert "Your last submission was rejected" in page and "Gasket is the wrong size" in page
    assert "Remove" not in page.split('id="photo-list"')[1].split("</ul>")[0]  # the old photos are on record
    ticket = db.session.get(ServiceTicket, working.id)
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", "Right gasket fitted", None)
    db.session.commit()
    assert tech.post(f"/tech/tickets/{working.id}/complete",
                     data=form(**{"part-k2-name": "Gasket 40 cm"})).status_code == 303

    db.session.expire_all()
    rows = db.session.scalars(select(ServiceCompletion).order_by(ServiceCompletion.created_at)).all()
    assert [c.approval_status for c in rows] == [ApprovalStatus.REJECTED, ApprovalStatus.PENDING]
    timeline = tech.get(f"/tickets/{working.id}").get_data(as_text=True)
    assert timeline.count("Work completed, total") == 2 and "Gasket is the wrong size" in timeline


@pytest.mark.postgres_only
def test_uploading_and_removing_a_photo_lock_the_ticket_as_the_api_does(tech, working):
    """A photo cannot slip in beside a completion being submitted at the same moment."""
    with count_statements(only=("SELECT",), keep=lambda sql: "FOR UPDATE" in sql) as locks:
        r = tech.post(f"/tech/tickets/{working.id}/photos", data={
            "file": (io.BytesIO(jpeg_bytes()), "a.jpg", "image/jpeg"), "type": "after"},
            content_type="multipart/form-data")
    assert r.status_code == 201 and len(locks) == 1
    photo = db.session.scalars(select(TicketPhoto)).one()
    with count_statements(only=("SELECT",), keep=lambda sql: "FOR UPDATE" in sql) as locks:
        assert tech.delete(f"/tech/tickets/{working.id}/photos/{photo.id}", headers=HX).status_code == 200
    assert len(locks) == 1
