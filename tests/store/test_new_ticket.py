"""/store/tickets/new: report a problem in a few taps, only for my branches."""
import io
import os

from sqlalchemy import func, select

from app.extensions import db
from app.models import PhotoType, ServiceTicket, TicketPhoto, TicketPriority
from tests.factories import jpeg_bytes
from tests.store.conftest import finished_ticket


def _form(world, **over):
    data = {"branchId": world.branch.id, "categoryId": world.category.id,
            "subcategoryId": world.subcategory.id, "description": "Meat chamber at 9°C, should be 2°C",
            "priority": "HIGH"}
    data.update(over)
    return data


def _ticket_count():
    return db.session.scalar(select(func.count()).select_from(ServiceTicket))


def test_form_preselects_my_branch_and_explains_each_priority(world, login):
    page = login(world.manager).get("/store/tickets/new").get_data(as_text=True)
    assert f'<option value="{world.branch.id}" selected>' in page
    assert world.other_branch.id not in page and world.branch2.id not in page
    # One category: chosen already, its subcategories listed.
    assert f'<option value="{world.category.id}" selected>' in page
    assert "Cold Chambers" in page
    for words in ("Not cooling at all", "needs a fix today", "Still cooling", "can wait"):
        assert words in page
    assert 'value="NORMAL" checked' in page
    assert 'type="file" name="photos"' in page


def test_subcategories_follow_the_category(world, login):
    r = login(world.manager).get(f"/store/tickets/new/subcategories?categoryId={world.category.id}",
                                 headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert body.lstrip().startswith('<label class="field" id="subcategory-field">')
    assert all(name in body for name in world.subcategories)
    empty = login(world.manager).get("/store/tickets/new/subcategories?categoryId=nope").get_data(as_text=True)
    assert "Choose a category first" in empty


def test_reporting_shows_the_number_and_who_is_coming(world, login):
    client = login(world.manager)
    r = client.post("/store/tickets/new", data=_form(world))
    assert r.status_code == 302
    ticket = db.session.execute(select(ServiceTicket)).scalar_one()
    assert ticket.priority == TicketPriority.HIGH
    assert ticket.created_by_id == world.manager.id
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert ticket.ticket_number in page
    assert "Problem reported" in page
    assert "Assigned to <strong>Timur Primary</strong>" in page
    assert 'href="tel:+998900000001"' in page


def test_without_a_free_technician_the_page_says_the_dispatcher_will_assign(world, login):
    from app.models import TechnicianStatus

    world.primary.status = world.secondary.status = TechnicianStatus.ON_LEAVE
    db.session.commit()
    client = login(world.manager)
    page = client.get(client.post("/store/tickets/new", data=_form(world)).headers["Location"]).get_data(as_text=True)
    assert "Waiting for a technician" in page


def test_another_branch_is_refused_with_a_clear_error_and_keeps_what_was_typed(world, login):
    r = login(world.manager).post("/store/tickets/new", data=_form(world, branchId=world.other_branch.id,
                                                                    description="Typed text stays"))
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "You can only report problems for your own branch." in page
    assert "Typed text stays" in page
    assert _ticket_count() == 0


def test_missing_description_and_subcategory_are_flagged(world, login):
    r = login(world.manager).post("/store/tickets/new", data=_form(world, description="", subcategoryId=""))
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert page.count("This field is required.") == 2
    assert _ticket_count() == 0


def test_photos_are_attached_as_before_photos(world, login, app):
    client = login(world.manager)
    data = _form(world)
    data["photos"] = [(io.BytesIO(jpeg_bytes()), "fridge.jpg"), (io.BytesIO(jpeg_bytes(color=(0, 0, 0))), "Фото.jpg")]
    r = client.post("/store/tickets/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    photos = list(db.session.execute(select(TicketPhoto)).scalars())
    assert len(photos) == 2 and {p.type for p in photos} == {PhotoType.BEFORE}
    assert {p.original_name for p in photos} == {"fridge.jpg", "Фото.jpg"}
    ticket_page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f"/photos/{photos[0].id}?size=thumb" in ticket_page
    assert client.get(f"/photos/{photos[0].id}").status_code == 200


def test_a_file_that_is_not_a_photo_refuses_the_whole_report(world, login, app):
    data = _form(world, description="Keep me")
    data["photos"] = [(io.BytesIO(jpeg_bytes()), "ok.jpg"), (io.BytesIO(b"%PDF-1.4 not an image"), "x.jpg")]
    r = login(world.manager).post("/store/tickets/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 415
    page = r.get_data(as_text=True)
    assert "Upload a JPEG, PNG, WebP or HEIC photo." in page and "Keep me" in page
    assert _ticket_count() == 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TicketPhoto)) == 0
    import os

    root = app.config["UPLOAD_DIR"]
    left = [f for _, _, files in os.walk(root) for f in files] if os.path.exists(root) else []
    assert left == []


def test_more_than_five_photos_are_refused(world, login):
    data = _form(world)
    data["photos"] = [(io.BytesIO(jpeg_bytes(40, 30)), f"{i}.jpg") for i in range(6)]
    r = login(world.manager).post("/store/tickets/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 400
    assert "Attach at most 5 photos." in r.get_data(as_text=True)
    assert _ticket_count() == 0


def test_only_store_managers_use_this_form(world, login):
    assert login(world.dispatcher).get("/store/tickets/new").status_code == 403
    assert login(world.tech).post("/store/tickets/new", data=_form(world)).status_code == 403
    assert _ticket_count() == 0


def test_photos_over_the_request_limit_come_back_on_the_form_not_an_error_page(world, login, app):
    """Past MAX_CONTENT_LENGTH the body is never read: the form again, with the reason
    next to the photos, and nothing saved."""
    data = _form(world)
    data["photos"] = [(io.BytesIO(os.urandom(40_000)), f"{i}.jpg") for i in range(2)]
    finished = finished_ticket(world)
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    try:
        client = login(world.manager)
        r = client.post("/store/tickets/new", data=data, content_type="multipart/form-data")
        other = client.post(f"/tickets/{finished.id}/approve", data={"reason": "x" * 60_000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert r.status_code == 413
    page = r.get_data(as_text=True)
    assert 'id="report-form"' in page
    assert '<div class="field-error">The photos together are too large to send' in page
    assert f'<option value="{world.branch.id}" selected>' in page
    assert _ticket_count() == 1  # the finished one only
    assert other.status_code == 413 and "report-form" not in other.get_data(as_text=True)


def _assert_everything_typed_is_kept(page, world):
    assert f'<option value="{world.branch.id}" selected>' in page
    assert f'<option value="{world.category.id}" selected>' in page
    assert f'<option value="{world.subcategory.id}" selected>' in page
    assert ">Meat chamber at 9°C, should be 2°C</textarea>" in page
    assert 'value="HIGH" checked' in page and 'value="NORMAL" checked' not in page


def test_a_report_refused_as_too_large_keeps_every_field(world, login, monkeypatch, app):
    """Five phone photos past the request limit: nothing is saved, but the branch, the
    category and subcategory, the description and the priority all come back."""
    data = _form(world)
    data["photos"] = [(io.BytesIO(os.urandom(30_000)), f"IMG_{i}.jpg") for i in range(5)]
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100_000)
    r = login(world.manager).post("/store/tickets/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 413
    page = r.get_data(as_text=True)
    assert "Your answers are kept" in page
    _assert_everything_typed_is_kept(page, world)
    assert _ticket_count() == 0


def test_a_report_refused_for_a_bad_photo_keeps_every_field(world, login):
    data = _form(world)
    data["photos"] = [(io.BytesIO(b"not a photo"), "IMG_1.jpg")]
    r = login(world.manager).post("/store/tickets/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 415
    _assert_everything_typed_is_kept(r.get_data(as_text=True), world)
    assert _ticket_count() == 0


def test_the_subcategory_list_can_come_with_one_chosen(world, login):
    """A draft restored on the phone asks for its category's list with its choice."""
    r = login(world.manager).get(f"/store/tickets/new/subcategories?categoryId={world.category.id}"
                                 f"&subcategoryId={world.subcategory.id}", headers={"HX-Request": "true"})
    assert f'<option value="{world.subcategory.id}" selected>' in r.get_data(as_text=True)
