"""Issue 15, item 11: the store's ticket page is no dead end. The manager sees the
timeline (accepted, on site, completed; never the internal notes), adds a note or a
photo while the ticket is open, and reads what "due" means in plain words."""
from __future__ import annotations

import io
import re

from app.extensions import db
from app.models import PhotoType, TicketEvent, TicketPhoto
from app.services import tickets
from tests.factories import jpeg_bytes, make_ticket
from tests.store.conftest import finished_ticket


def _html(resp) -> str:
    return resp.get_data(as_text=True)


def test_the_store_sees_the_timeline_of_its_ticket_but_not_the_internal_notes(world, login):
    t = finished_ticket(world)
    tickets.update_notes(t, world.dispatcher, internal="Customer owes us money")
    db.session.commit()
    html = _html(login(world.manager).get(f"/tickets/{t.id}"))
    timeline = html[html.index('id="timeline"'):]
    for line in ("Ticket created", "Accepted by the technician", "Arrived on site", "Work completed"):
        assert line in timeline, line
    assert "Customer owes us money" not in html


def test_due_says_who_must_do_what_by_when(world, login, freeze):
    freeze("2026-11-24T09:00:00Z")
    t = make_ticket(world)  # NORMAL cold chamber: response in 1440 min
    db.session.commit()
    html = _html(login(world.manager).get(f"/tickets/{t.id}"))
    assert "Technician must respond by 25 Nov 09:00 UTC" in html
    assert "Must be fixed by" in html
    assert not re.search(r">\s*due ", html), "no bare 'due' left on the page"


def test_the_manager_adds_a_note_and_everyone_reads_it_in_the_timeline(world, login, signed_in):
    t = make_ticket(world, by=world.manager)
    db.session.commit()
    client = login(world.manager)
    page = _html(client.get(f"/tickets/{t.id}"))
    assert 'action="/tickets/%s/store-note"' % t.id in page and 'action="/tickets/%s/store-photo"' % t.id in page
    resp = client.post(f"/tickets/{t.id}/store-note", data={"note": "The alarm went off again at 14:00"})
    assert resp.status_code == 302
    html = _html(client.get(resp.headers["Location"]))
    assert "Your note was added to the timeline" in html
    assert "Store note: The alarm went off again at 14:00" in html
    tech_view = _html(signed_in(world.tech).get(f"/tickets/{t.id}"))
    assert "Store note: The alarm went off again at 14:00" in tech_view


def test_an_empty_or_too_long_note_is_refused_and_keeps_what_was_typed(world, login):
    t = make_ticket(world, by=world.manager)
    db.session.commit()
    client = login(world.manager)
    events = db.session.query(TicketEvent).filter_by(ticket_id=t.id).count()
    resp = client.post(f"/tickets/{t.id}/store-note", data={"note": "   "})
    assert resp.status_code == 400
    assert "Write the note first." in _html(resp)
    long = "x" * 2001
    resp = client.post(f"/tickets/{t.id}/store-note", data={"note": long})
    assert resp.status_code == 400
    assert "At most 2000 characters." in _html(resp) and long in _html(resp)
    assert db.session.query(TicketEvent).filter_by(ticket_id=t.id).count() == events


def test_the_manager_adds_a_photo_of_the_problem_while_the_ticket_is_open(world, login):
    t = make_ticket(world, by=world.manager)
    db.session.commit()
    client = login(world.manager)
    resp = client.post(f"/tickets/{t.id}/store-photo", data={
        "photo": (io.BytesIO(jpeg_bytes(color=(200, 20, 20))), "leak.jpg"), "caption": "Water under the fridge"},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    photo = db.session.query(TicketPhoto).filter_by(ticket_id=t.id).one()
    assert photo.type == PhotoType.BEFORE and photo.caption == "Water under the fridge"
    html = _html(client.get(resp.headers["Location"]))
    assert f"/photos/{photo.id}?size=thumb" in html and "Your photo was added" in html


def test_a_photo_that_is_not_an_image_is_refused_with_the_reason_beside_the_field(world, login):
    t = make_ticket(world, by=world.manager)
    db.session.commit()
    client = login(world.manager)
    resp = client.post(f"/tickets/{t.id}/store-photo", data={"photo": (io.BytesIO(b"not a picture"), "x.jpg")},
                       content_type="multipart/form-data")
    assert resp.status_code in (400, 415)
    assert 'id="store-photo-error"' in _html(resp)
    resp = client.post(f"/tickets/{t.id}/store-photo", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "Choose a photo to add." in _html(resp)
    assert db.session.query(TicketPhoto).filter_by(ticket_id=t.id).count() == 0


def test_nothing_can_be_added_once_the_work_is_done_or_by_anyone_else(world, login, signed_in):
    done = finished_ticket(world)
    client = login(world.manager)
    html = _html(client.get(f"/tickets/{done.id}"))
    assert "store-note" not in html and "Notes and photos can be added while the technician is working" in html
    resp = client.post(f"/tickets/{done.id}/store-note", data={"note": "Late"})
    assert resp.status_code == 409 and "notes can be added while the ticket is open" in _html(resp)
    resp = client.post(f"/tickets/{done.id}/store-photo", data={"photo": (io.BytesIO(jpeg_bytes()), "late.jpg")},
                       content_type="multipart/form-data")
    assert resp.status_code == 409 and "photos can be added while the ticket is open" in _html(resp)
    open_ticket = make_ticket(world, by=world.manager)
    db.session.commit()
    assert "store-note" not in _html(signed_in(world.tech).get(f"/tickets/{open_ticket.id}"))
    assert signed_in(world.tech).post(f"/tickets/{open_ticket.id}/store-note", data={"note": "x"}).status_code == 403
    assert signed_in(world.other_manager).post(f"/tickets/{open_ticket.id}/store-note",
                                               data={"note": "x"}).status_code == 404
