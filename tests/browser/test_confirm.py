"""The one confirm mechanism in a real browser (issue 14, item 5): an htmx action with
data-confirm waits for the answer; "Cancel" sends nothing, "OK" sends it."""
from __future__ import annotations

from tests.browser.conftest import login
from tests.browser.test_technician import accepted_ticket, exif_jpeg, stored_photos


def test_removing_a_photo_waits_for_the_confirmation(live, live_world, browser):
    from app.extensions import db
    from app.models import User
    from app.services import photos, tickets

    ticket_id = accepted_ticket(live, live_world)
    with live.ctx():
        tech = db.session.get(User, live_world.ids["tech"])
        photos.add_photo(tickets.get_ticket(ticket_id), tech, exif_jpeg(320, 240, 1), "work", None, "work.jpg")
        db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    photo = page.locator("#photo-list .photo[data-photo-type=work]")
    questions, deletes = [], []
    page.on("request", lambda r: deletes.append(r.url) if r.method == "DELETE" else None)

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    with page.expect_event("dialog"):
        photo.get_by_role("button", name="Remove this work photo").tap()
    page.evaluate("1")  # htmx sends in the same task as the answer: it would have gone by now
    assert questions == ["Remove this photo?"] and deletes == []
    assert photo.count() == 1 and len(stored_photos(live, ticket_id)) == 1

    page.once("dialog", lambda dialog: dialog.accept())
    photo.get_by_role("button", name="Remove this work photo").tap()
    photo.wait_for(state="detached")
    assert len(deletes) == 1
    assert stored_photos(live, ticket_id) == []
    context.close()
