"""Issue 15 walk: after "Add note" / "Add photo" the store manager lands back at the form
and the confirmation is there, beside it (a flash at the top of the page was off
screen); a photo's caption is shown under its thumbnail."""
from __future__ import annotations

import io

from app.extensions import db
from tests.factories import jpeg_bytes, make_ticket


def _section(html: str) -> str:
    return html.split('id="add-to-report"')[1].split("</section>")[0]


def test_the_note_confirmation_is_beside_the_form_not_at_the_top(world, login):
    t = make_ticket(world, by=world.manager)
    db.session.commit()
    client = login(world.manager)
    resp = client.post(f"/tickets/{t.id}/store-note", data={"note": "The alarm went off again at 14:00"})
    assert resp.headers["Location"].endswith("#add-to-report")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Your note was added to the timeline" in _section(html)
    before_section = html.split('id="add-to-report"')[0]
    assert "was added" not in before_section  # no flash at the top, off screen
    # Shown once: the page opened again later does not say it again.
    assert "was added" not in client.get(f"/tickets/{t.id}").get_data(as_text=True)


def test_the_photo_confirmation_is_beside_the_form_and_the_caption_under_the_thumbnail(world, login):
    t = make_ticket(world, by=world.manager)
    db.session.commit()
    client = login(world.manager)
    resp = client.post(f"/tickets/{t.id}/store-photo", data={
        "photo": (io.BytesIO(jpeg_bytes(color=(200, 20, 20))), "leak.jpg"), "caption": "Water under the fridge"},
        content_type="multipart/form-data")
    assert resp.headers["Location"].endswith("#add-to-report")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Your photo was added" in _section(html)
    assert "was added" not in html.split('id="add-to-report"')[0]
    assert '<p class="tp-photo-caption" aria-hidden="true">Water under the fridge</p>' in html
    assert 'data-caption="Water under the fridge"' in html


def test_the_photo_service_itself_refuses_a_closed_ticket_and_another_branch(world):
    """The rule lives in the service (photos.add_store_photo), not only in the page."""
    import pytest

    from app.services import photos, tickets
    from app.services.errors import DomainError
    t = make_ticket(world, by=world.manager)
    tickets.close_without_completion(t, "Duplicate", world.dispatcher)
    db.session.flush()
    with pytest.raises(DomainError):
        photos.add_store_photo(t, world.manager, jpeg_bytes(), "late.jpg")
    with pytest.raises(DomainError):
        photos.add_store_photo(make_ticket(world, by=world.manager), world.tech, jpeg_bytes(), "x.jpg")
