"""Evidence stays with whoever made it: the store's photos of the problem are read-only
for everyone but admins, on the technician's page and over the API (issue 15, item 1)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import TicketPhoto
from app.services import photos, tickets
from app.services.errors import Forbidden
from tests.factories import jpeg_bytes, make_ticket

HX = {"HX-Request": "true"}


@pytest.fixture
def reported(world):
    """A ticket the store manager reported with a photo of the problem; the technician
    accepted it and added a photo of their own."""
    ticket = make_ticket(world, by=world.manager)
    store_photo = photos.add_reporter_photo(ticket, world.manager, jpeg_bytes(color=(20, 20, 200)), "warm.jpg")
    tickets.accept(ticket, world.tech)
    own = photos.add_photo(ticket, world.tech, jpeg_bytes(), "before", None, "coil.jpg")
    db.session.commit()
    return ticket, store_photo.id, own.id


def photo_ids():
    db.session.expire_all()
    return set(db.session.scalars(select(TicketPhoto.id)))


def test_the_technician_cannot_remove_the_store_managers_photo_on_the_page(tech, world, reported):
    ticket, store_photo, own = reported
    r = tech.delete(f"/tech/tickets/{ticket.id}/photos/{store_photo}", headers=HX)
    assert r.status_code == 403
    assert store_photo in photo_ids()
    # the technician's own photo can go
    assert tech.delete(f"/tech/tickets/{ticket.id}/photos/{own}", headers=HX).status_code == 200
    assert photo_ids() == {store_photo}


def test_the_technician_cannot_remove_the_store_managers_photo_over_the_api(api, world, reported):
    ticket, store_photo, own = reported
    r = api.as_(world.tech).delete(f"/api/tickets/{ticket.id}/photos/{store_photo}")
    assert r.status_code == 403 and "cannot be removed" in r.get_json()["error"]
    assert store_photo in photo_ids()
    assert api.as_(world.tech).get(f"/api/photos/{store_photo}").status_code == 200


def test_the_store_manager_cannot_remove_their_report_photo_but_an_admin_can(api, world, reported):
    ticket, store_photo, own = reported
    assert api.as_(world.manager).delete(f"/api/tickets/{ticket.id}/photos/{store_photo}").status_code == 403
    assert api.as_(world.dispatcher).delete(f"/api/tickets/{ticket.id}/photos/{store_photo}").status_code == 403
    assert photo_ids() == {store_photo, own}
    assert api.as_(world.admin).delete(f"/api/tickets/{ticket.id}/photos/{store_photo}").status_code == 204
    assert photo_ids() == {own}


def test_a_technician_removes_only_photos_they_added(world, reported):
    """The service rule itself: another technician's photo on the ticket stays too."""
    ticket, store_photo, own = reported
    other = photos.add_photo(ticket, world.tech, jpeg_bytes(), "work", None, None)
    other.uploaded_by_id = world.tech2.id  # added while tech2 held the ticket
    db.session.commit()

    with pytest.raises(Forbidden, match="Only the person who added this photo"):
        photos.remove_photo(db.session.get(type(ticket), ticket.id), other.id, world.tech)


def test_the_complete_page_shows_the_store_photos_read_only_and_not_as_before(tech, world, reported):
    ticket, store_photo, own = reported
    html = tech.get(f"/tech/tickets/{ticket.id}/complete").get_data(as_text=True)
    store_part = html.split('id="store-photos"')[1].split("</ul>")[0]
    assert f'id="photo-{store_photo}"' in store_part and 'alt="Photo from the store"' in store_part
    assert "Photos from the store" in html and '<span class="badge tag-store">Store</span>' in store_part
    assert "Remove" not in store_part and "Before" not in store_part
    own_part = html.split('id="photo-list"')[1].split("</ul>")[0]
    assert f'id="photo-{own}"' in own_part and "Remove this before photo" in own_part
    assert f'id="photo-{store_photo}"' not in own_part
