"""The completion form keeps what the technician typed on the phone: a submit without
signal keeps the page and the work, a reload brings the draft back, and the draft is
cleared once the server has taken the submission."""
from __future__ import annotations

from tests.browser.conftest import login
from tests.browser.test_technician import (
    accepted_ticket, assert_fits_the_phone, choose_tag, exif_jpeg, phone, upload,  # noqa: F401 (fixture)
)


def test_a_submit_without_signal_keeps_the_work_and_the_draft_survives_a_reload(live, live_world, phone,
                                                                                 screenshot):
    from app.extensions import db
    from app.models import ServiceTicket, TicketStatus

    ticket_id = accepted_ticket(live, live_world)
    page = phone()
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    assert page.locator("#draft-note").is_hidden()

    page.fill("textarea[name=workDescription]", "Replaced the door gasket; 3°C after 30 min")
    page.fill("input[name=laborHours]", "2")
    page.get_by_role("button", name="+ Add part").tap()
    row = page.locator("[data-part]").nth(0)
    row.wait_for()
    row.locator("input[name$=-name]").fill("Door gasket")
    row.locator("input[name$=-quantity]").fill("1")
    row.locator("input[name$=-unitCost]").fill("15.25")
    choose_tag(page, "after")
    upload(page, "after.jpg", exif_jpeg(640, 480))
    page.locator("#photo-list .photo").wait_for()

    page.context.set_offline(True)
    page.get_by_role("button", name="Submit for approval").tap()
    note = page.locator("[data-offline-note]")
    note.wait_for()
    assert "Not sent — no connection" in note.inner_text()
    assert page.url.endswith(f"/tech/tickets/{ticket_id}/complete"), "the page is kept, not the offline page"
    assert page.input_value("textarea[name=workDescription]") == "Replaced the door gasket; 3°C after 30 min"
    screenshot(page, "tech-complete-offline-390x844")
    assert_fits_the_phone(page)
    with live.ctx():
        assert db.session.get(ServiceTicket, ticket_id).status == TicketStatus.IN_PROGRESS

    # The phone is back online later; the technician reopens the form: the work is back.
    page.context.set_offline(False)
    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    page.locator("#draft-note").wait_for()
    assert "Draft restored" in page.locator("#draft-note").inner_text()
    assert page.input_value("textarea[name=workDescription]") == "Replaced the door gasket; 3°C after 30 min"
    assert page.input_value("input[name=laborHours]") == "2"
    row = page.locator("[data-part]").nth(0)
    row.wait_for()
    assert row.locator("input[name$=-name]").input_value() == "Door gasket"
    assert row.locator("input[name$=-unitCost]").input_value() == "15.25"
    page.locator("[data-total]", has_text="105.25").wait_for()  # 15.25 + 2 x 45.00
    screenshot(page, "tech-complete-draft-restored-390x844")

    page.get_by_role("button", name="Submit for approval").tap()
    page.wait_for_url("**/tech/dashboard")
    assert "submitted and waiting for the store manager" in page.locator(".flash").inner_text()
    with live.ctx():
        ticket = db.session.get(ServiceTicket, ticket_id)
        assert ticket.status == TicketStatus.COMPLETED
        assert [p.name for p in ticket.completion.parts] == ["Door gasket"]
    key = f"evercold.tech.complete.{live_world.ids['tech']}.{ticket_id}"
    assert page.evaluate(f"localStorage.getItem({key!r})") is None, "the draft is cleared once the server took it"
