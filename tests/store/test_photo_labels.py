"""The store's photos are the problem as reported, labelled as the store's everywhere
(issue 15, item 1): never "Before", which is the technician's photo before the repair."""
from __future__ import annotations

import re

from app.extensions import db
from app.services import photos, tickets
from tests.factories import jpeg_bytes, make_ticket
from tests.store.conftest import finished_ticket


def _group_of(page: str, photo_id: str) -> str:
    """The caption of the photo group that holds this photo."""
    for caption, body in re.findall(r"<figcaption>([^<]+)</figcaption>(.*?)</figure>", page, re.S):
        if f"/photos/{photo_id}?size=thumb" in body:
            return caption
    raise AssertionError(f"photo {photo_id} is not on the page")


def test_the_ticket_page_tells_the_store_photo_from_the_technicians_before_photo(world, login):
    t = make_ticket(world, by=world.manager)
    store_photo = photos.add_reporter_photo(t, world.manager, jpeg_bytes(color=(20, 20, 200)), "leak.jpg")
    tickets.accept(t, world.tech)
    tickets.arrive(t, world.tech)
    tech_photo = photos.add_photo(t, world.tech, jpeg_bytes(color=(200, 20, 20)), "before", None, "b.jpg")
    db.session.commit()
    for user in (world.manager, world.tech):
        page = login(user).get(f"/tickets/{t.id}").get_data(as_text=True)
        assert _group_of(page, store_photo.id) == "From the store"
        assert _group_of(page, tech_photo.id) == "Before the repair"


def test_the_approval_page_labels_the_store_photo_as_the_stores(world, login):
    t = finished_ticket(world)
    store_photo = next(p for p in t.photos if p.uploaded_by_id == world.manager.id)
    page = login(world.manager).get(f"/tickets/{t.id}/approve").get_data(as_text=True)
    assert _group_of(page, store_photo.id) == "From the store"
