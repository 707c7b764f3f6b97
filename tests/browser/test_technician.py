"""The technician's phone workspace in real headless Chromium at a phone viewport
(390x844, touch, mobile user agent): queue, location, arrival, photos, completion."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS, login

PHONE = {"width": 390, "height": 844}
MOBILE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Mobile Safari/537.36")
# Freshmart Central (the world's branch) is at 41.3111, 69.2797; this is ~110 m north.
NEAR_BRANCH = {"latitude": 41.3121, "longitude": 69.2797}


@pytest.fixture
def phone(browser):
    """phone(**context_options) -> a page in a fresh phone-sized touch context."""
    contexts = []

    def _open(**options):
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, user_agent=MOBILE_UA,
                                      **options)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield _open
    for context in contexts:
        context.close()


def exif_jpeg(width: int, height: int, orientation: int = 6) -> bytes:
    """A JPEG whose raw pixels are width x height, shown rotated by EXIF orientation,
    and carrying GPS tags (which must not survive the upload)."""
    img = Image.new("RGB", (width, height), (30, 120, 200))
    # A marker in the raw top-left corner, so a rotation is visible to the eye too.
    img.paste((250, 200, 0), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (41.0, 18.0, 40.0)
    gps[3] = "E"
    gps[4] = (69.0, 16.0, 47.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif, quality=90)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the test image must carry GPS"
    return data


def new_ticket(live, world, **changes) -> str:
    """A ticket for the world's branch (auto-assigned to the primary technician)."""
    from app.extensions import db
    from app.models import IssueSubcategory, User
    from app.services import tickets

    with live.ctx():
        dispatcher = db.session.get(User, world.ids["dispatcher"])
        sub = db.session.get(IssueSubcategory, world.ids["subcategory"])
        ticket = tickets.create_ticket(dispatcher, {
            "branchId": world.ids["branch"], "categoryId": sub.category_id, "subcategoryId": sub.id,
            "description": changes.get("description", "Cold chamber at 12°C, should be 2°C; the fan is noisy"),
            "priority": changes.get("priority", "HIGH"),
        })
        db.session.commit()
        return ticket.id


def accepted_ticket(live, world) -> str:
    from app.extensions import db
    from app.models import User
    from app.services import tickets

    ticket_id = new_ticket(live, world)
    with live.ctx():
        tech = db.session.get(User, world.ids["tech"])
        tickets.accept(tickets.get_ticket(ticket_id), tech)
        db.session.commit()
    return ticket_id


def assert_fits_the_phone(page):
    """No horizontal scrolling at this width."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def choose_tag(page, tag: str):
    page.locator(f".tag-choice:has(input[value={tag}])").tap()


def upload(page, name: str, data: bytes):
    page.set_input_files("#photo-input", files=[{"name": name, "mimeType": "image/jpeg", "buffer": data}])


def stored_photos(live, ticket_id):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import TicketPhoto
    from app.services.storage import LocalStorage

    with live.ctx():
        storage = LocalStorage(live.app.config["UPLOAD_DIR"])
        rows = db.session.execute(select(TicketPhoto).where(TicketPhoto.ticket_id == ticket_id)
                                  .order_by(TicketPhoto.created_at)).scalars().all()
        return [(p.type.value, Image.open(io.BytesIO(storage.get(p.storage_key))),
                 Image.open(io.BytesIO(storage.get(p.thumb_key)))) for p in rows]


def test_technician_accepts_uploads_photos_adds_parts_and_completes_on_a_phone(live, live_world, phone, screenshot):
    ticket_id = new_ticket(live, live_world)
    page = phone(permissions=["geolocation"], geolocation=NEAR_BRANCH)
    login(page, live.url, live_world.emails["tech"])
    assert page.url.endswith("/tech/dashboard")
    card = page.locator(f"#ticket-{ticket_id}")
    assert "Freshmart Central" in card.inner_text()
    assert card.locator("a.addr").get_attribute("href") == "https://maps.google.com/?q=41.311100,69.279700"
    screenshot(page, "tech-dashboard-390x844")
    assert_fits_the_phone(page)

    card.get_by_role("button", name="Accept").tap()
    page.locator(f"#ticket-{ticket_id}[data-status=IN_PROGRESS]").wait_for()
    assert "Accepted" in page.locator(".notice").inner_text()

    page.locator(f"#ticket-{ticket_id}").get_by_role("button", name="I'm on site").tap()
    arrival = page.locator(f"#ticket-{ticket_id} .arrival")
    arrival.wait_for()
    assert re.search(r"On site since \d\d:\d\d · 1\d\d m from the branch", arrival.inner_text())
    screenshot(page, "tech-dashboard-on-site-390x844")

    page.locator(f"#ticket-{ticket_id}").get_by_role("link", name="Complete job").tap()
    page.wait_for_url(f"**/tech/tickets/{ticket_id}/complete")
    file_input = page.locator("#photo-input")
    assert file_input.get_attribute("accept") == "image/*"
    assert file_input.get_attribute("capture") == "environment"
    assert file_input.get_attribute("multiple") is not None
    assert page.locator("#labor-rate").inner_text() == "$45.00"  # the office's rate, not typed here
    screenshot(page, "tech-complete-empty-390x844")
    assert_fits_the_phone(page)

    page.fill("textarea[name=workDescription]", "Replaced the condenser fan motor; chamber at 2°C after 40 min.")
    choose_tag(page, "before")
    upload(page, "before.jpg", exif_jpeg(640, 480))
    page.locator("#photo-list .photo").nth(0).wait_for()
    choose_tag(page, "after")
    page.fill("#photo-caption", "New fan running")
    upload(page, "after.jpg", exif_jpeg(640, 480))
    page.locator("#photo-list .photo").nth(1).wait_for()
    assert page.locator("#photo-list .photo[data-photo-type=after] .caption").inner_text() == "New fan running"

    page.fill("input[name=laborHours]", "1,5")
    add = page.get_by_role("button", name="+ Add part")
    add.tap()
    page.locator("[data-part]").nth(0).wait_for()
    add.tap()
    page.locator("[data-part]").nth(1).wait_for()
    rows = page.locator("[data-part]")
    rows.nth(0).locator("input[name$=-name]").fill("Fan motor 220V")
    rows.nth(0).locator("input[name$=-quantity]").fill("1")
    rows.nth(0).locator("input[name$=-unitCost]").fill("120.50")
    rows.nth(1).locator("input[name$=-name]").fill("Door gasket")
    rows.nth(1).locator("input[name$=-quantity]").fill("2")
    rows.nth(1).locator("input[name$=-unitCost]").fill("15.25")
    page.locator("[data-total]", has_text="218.50").wait_for()  # 120.50 + 2 x 15.25 + 1.5 x 45.00
    screenshot(page, "tech-complete-filled-390x844")
    rows.nth(0).get_by_role("button", name="Remove this part").tap()
    assert page.locator("[data-part]").count() == 1
    page.locator("[data-total]", has_text="98.00").wait_for()  # 30.50 + 67.50, from the server
    assert_fits_the_phone(page)

    page.get_by_role("button", name="Submit for approval").tap()
    page.wait_for_url("**/tech/dashboard")
    assert "submitted and waiting for the store manager" in page.locator(".flash").inner_text()
    done = page.locator(f"#ticket-{ticket_id}")
    assert done.locator(".status").inner_text() == "Waiting for approval"
    assert "Waiting for approval" in page.locator(".queue").inner_text()
    screenshot(page, "tech-dashboard-submitted-390x844")

    from app.extensions import db
    from app.models import ServiceTicket, TicketStatus

    with live.ctx():
        ticket = db.session.get(ServiceTicket, ticket_id)
        assert ticket.status == TicketStatus.COMPLETED
        completion = ticket.completion
        assert completion.total_cost == Decimal("98.00")
        assert [(p.name, p.quantity) for p in completion.parts] == [("Door gasket", Decimal("2.00"))]
        assert ticket.arrival_distance_m is not None and 100 < ticket.arrival_distance_m < 130

    photos = stored_photos(live, ticket_id)
    assert [kind for kind, _, _ in photos] == ["before", "after"]
    for _, full, thumb in photos:
        assert full.size == (480, 640), "stored upright: EXIF orientation 6 applied (raw was 640x480)"
        assert thumb.width < thumb.height
        assert not full.getexif() and "exif" not in full.info, "no EXIF (GPS included) is kept"
        assert not thumb.getexif()
        # The raw top-left marker is at the top-right once turned upright.
        assert full.getpixel((full.width - 10, 10))[0] > 200


def test_a_failed_upload_can_be_retried_without_losing_the_form(live, live_world, phone, screenshot):
    ticket_id = accepted_ticket(live, live_world)
    page = phone()
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    page.fill("textarea[name=workDescription]", "Cleaned the evaporator coil")
    page.fill("input[name=laborHours]", "2")

    attempts = []

    def flaky_network(route):
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/tech/tickets/*/photos", flaky_network)
    choose_tag(page, "after")
    upload(page, "after.jpg", exif_jpeg(640, 480))
    failed = page.locator(".upload.upload-failed")
    failed.wait_for()
    assert "Network problem" in failed.inner_text()
    assert page.locator("#photo-list .photo").count() == 0
    screenshot(page, "tech-complete-upload-failed-390x844")
    assert_fits_the_phone(page)

    failed.get_by_role("button", name="Retry").tap()
    page.locator("#photo-list .photo[data-photo-type=after]").wait_for()
    assert page.locator(".upload").count() == 0
    assert len(attempts) == 2
    assert page.locator("textarea[name=workDescription]").input_value() == "Cleaned the evaporator coil"
    assert page.locator("input[name=laborHours]").input_value() == "2"

    page.get_by_role("button", name="Submit for approval").tap()
    page.wait_for_url("**/tech/dashboard")
    assert page.locator(f"#ticket-{ticket_id} .status").inner_text() == "Waiting for approval"


def test_a_refused_file_says_why_and_a_photo_can_be_removed_before_submitting(live, live_world, phone, screenshot):
    ticket_id = accepted_ticket(live, live_world)
    page = phone()
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    page.set_input_files("#photo-input", files=[{"name": "notes.jpg", "mimeType": "image/jpeg",
                                                 "buffer": b"this is not a picture"}])
    failed = page.locator(".upload.upload-failed")
    failed.wait_for()
    assert "not a JPEG, PNG, WebP or HEIC" in failed.inner_text()
    assert failed.get_by_role("button", name="Retry").is_hidden()
    failed.get_by_role("button", name="Discard").tap()
    assert page.locator(".upload").count() == 0

    choose_tag(page, "work")
    upload(page, "work.jpg", exif_jpeg(320, 240, orientation=1))
    photo = page.locator("#photo-list .photo[data-photo-type=work]")
    photo.wait_for()
    photo.get_by_role("button", name="Remove this work photo").tap()  # confirm dialog accepted
    photo.wait_for(state="detached")
    assert stored_photos(live, ticket_id) == []

    # Submitting without an "after" photo: the error is inline and the typing is kept.
    page.fill("textarea[name=workDescription]", "Adjusted the thermostat")
    page.fill("input[name=laborHours]", "0.5")
    page.get_by_role("button", name="Submit for approval").tap()
    page.locator("[role=alert]", has_text="after").first.wait_for()
    assert page.locator("textarea[name=workDescription]").input_value() == "Adjusted the thermostat"
    assert page.locator("input[name=laborHours]").input_value() == "0.5"
    screenshot(page, "tech-complete-errors-390x844")
    assert_fits_the_phone(page)


def test_a_large_photo_is_downscaled_upright_in_the_browser_before_upload(live, live_world, phone):
    ticket_id = accepted_ticket(live, live_world)
    page = phone()
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    sizes = []
    page.on("request", lambda r: sizes.append(len(r.post_data_buffer or b""))
            if r.method == "POST" and r.url.endswith("/photos") else None)
    big = exif_jpeg(3000, 2000)
    choose_tag(page, "after")
    upload(page, "big.jpg", big)
    page.locator("#photo-list .photo").wait_for()
    [(kind, full, _)] = stored_photos(live, ticket_id)
    assert full.size == (1365, 2048), "downscaled to 2048 px, portrait: the orientation was applied"
    assert sizes and sizes[0] < len(big)


def test_location_is_shared_on_opening_the_queue_on_accepting_and_once_a_minute(live, live_world, phone):
    new_ticket(live, live_world)
    page = phone(permissions=["geolocation"], geolocation=NEAR_BRANCH)
    page.clock.install()
    sent = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/tech/location") and r.method == "POST" else None)
    with page.expect_request("**/tech/location"):
        login(page, live.url, live_world.emails["tech"])
    page.locator("[data-geo-state=sent]").wait_for()
    assert sent[0].headers.get("x-csrftoken")

    from app.extensions import db
    from app.models import Technician

    with live.ctx():
        tech = db.session.get(Technician, live_world.ids["primary"])
        assert (round(tech.latitude, 4), round(tech.longitude, 4)) == (41.3121, 69.2797)
        assert tech.last_location_update is not None

    page.clock.run_for("00:30")
    page.wait_for_load_state("networkidle")
    assert len(sent) == 1, "not more than once a minute"
    with page.expect_request("**/tech/location"):
        page.clock.run_for("00:45")
    assert len(sent) == 2

    with page.expect_request("**/tech/location"):
        page.get_by_role("button", name="Accept").tap()
    assert len(sent) == 3


def test_denied_location_is_a_quiet_note_and_nothing_is_sent(live, live_world, phone, screenshot):
    ticket_id = new_ticket(live, live_world)
    page = phone(permissions=[])
    sent = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/tech/location") else None)
    login(page, live.url, live_world.emails["tech"])
    note = page.locator("[data-geo-state=off]")
    note.wait_for()
    assert "Location is off" in note.inner_text()
    assert sent == []
    screenshot(page, "tech-dashboard-location-off-390x844")

    # Arrival still works, just without a distance.
    page.locator(f"#ticket-{ticket_id}").get_by_role("button", name="Accept").tap()
    page.locator(f"#ticket-{ticket_id}[data-status=IN_PROGRESS]").wait_for()
    page.locator(f"#ticket-{ticket_id}").get_by_role("button", name="I'm on site").tap()
    page.locator(".notice", has_text="location was not available").wait_for()
    assert page.locator(f"#ticket-{ticket_id} .arrival").inner_text().startswith("On site since")
    assert sent == []


def test_decline_asks_for_a_reason_and_the_ticket_leaves_the_queue(live, live_world, phone, screenshot):
    ticket_id = new_ticket(live, live_world)
    page = phone()
    login(page, live.url, live_world.emails["tech"])
    card = page.locator(f"#ticket-{ticket_id}")
    card.locator("summary", has_text="Decline").tap()
    reason = card.locator("textarea[name=reason]")
    reason.wait_for()
    screenshot(page, "tech-dashboard-decline-390x844")
    assert_fits_the_phone(page)
    reason.fill("   ")
    reason.evaluate("el => el.removeAttribute('required')")  # the server checks too
    card.get_by_role("button", name="Decline ticket").tap()
    page.locator(f"#ticket-{ticket_id} .field-error").wait_for()
    assert page.locator(f"#ticket-{ticket_id} details.decline").get_attribute("open") is not None

    page.locator(f"#ticket-{ticket_id} textarea[name=reason]").fill("On another job across town until 16:00")
    page.locator(f"#ticket-{ticket_id}").get_by_role("button", name="Decline ticket").tap()
    page.locator(".notice", has_text="Declined").wait_for()
    assert page.locator(f"#ticket-{ticket_id}").count() == 0
    assert "Nothing to do right now" in page.locator(".queue").inner_text()
    screenshot(page, "tech-dashboard-empty-390x844")


def test_rejected_work_comes_back_with_the_reason_and_is_completed_again(live, live_world, phone, screenshot):
    from app.extensions import db
    from app.models import User
    from app.services import completions, photos, tickets
    from tests.factories import jpeg_bytes

    ticket_id = accepted_ticket(live, live_world)
    with live.ctx():
        tech = db.session.get(User, live_world.ids["tech"])
        manager = db.session.get(User, live_world.ids["manager"])
        ticket = tickets.get_ticket(ticket_id)
        photos.add_photo(ticket, tech, jpeg_bytes(), "after", None, "a.jpg")
        completion = completions.complete(ticket, tech, {"workDescription": "Reset the controller",
                                                         "laborHours": "1", "partsUsed": []}, Decimal("45"))
        db.session.flush()
        completions.decide(completion, manager, {"action": "reject", "reason": "Still 9°C inside this morning"})
        db.session.commit()

    page = phone()
    login(page, live.url, live_world.emails["tech"])
    card = page.locator(f"#ticket-{ticket_id}")
    assert "Still 9°C inside this morning" in card.locator(".rejection").inner_text()
    assert "Manager" in card.locator(".rejection").inner_text()
    screenshot(page, "tech-dashboard-rejected-390x844")

    card.get_by_role("link", name="Complete again").tap()
    page.wait_for_url(f"**/tech/tickets/{ticket_id}/complete")
    assert "Still 9°C inside this morning" in page.locator(".rejection").inner_text()
    page.fill("textarea[name=workDescription]", "Replaced the thermostat sensor; 2°C after an hour")
    page.fill("input[name=laborHours]", "1")
    choose_tag(page, "after")
    upload(page, "after2.jpg", exif_jpeg(640, 480))
    page.locator("#photo-list .photo").wait_for()
    screenshot(page, "tech-complete-again-390x844")
    page.get_by_role("button", name="Submit for approval").tap()
    page.wait_for_url("**/tech/dashboard")

    page.goto(f"{live.url}/tickets/{ticket_id}")
    page.locator(".tp-earlier summary").tap()
    history = page.locator(".tp-completion")
    assert history.count() == 2
    assert "Waiting for approval" in history.nth(0).inner_text() and "Sent back" in history.nth(1).inner_text()
    timeline = page.locator(".tp-timeline").inner_text()
    assert "Sent back by the store: “Still 9°C inside this morning”" in timeline
    assert timeline.count("Work completed") == 2
    screenshot(page, "tech-ticket-390x844")
    assert_fits_the_phone(page)


@pytest.mark.parametrize("width", [360, 414])
def test_every_technician_page_fits_narrow_and_wide_phones(live, live_world, phone, width, screenshot):
    open_id = new_ticket(live, live_world, description="Display fridge " + "very long description " * 20)
    busy_id = accepted_ticket(live, live_world)
    page = phone()
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live.url, live_world.emails["tech"])
    for path in ("/tech/dashboard", f"/tickets/{open_id}", f"/tickets/{busy_id}", f"/tech/tickets/{busy_id}/complete"):
        page.goto(live.url + path)
        assert_fits_the_phone(page)
        small = page.evaluate("""() => [...document.querySelectorAll('main button, main .btn, main summary')]
            .filter(e => e.offsetParent !== null)
            .filter(e => e.getBoundingClientRect().height < 40)
            .map(e => e.textContent.trim())""")
        assert small == [], f"targets too small to tap on {path}: {small}"
    page.goto(f"{live.url}/tech/tickets/{busy_id}/complete")
    page.get_by_role("button", name="+ Add part").tap()
    page.locator("[data-part]").wait_for()
    assert_fits_the_phone(page)
    screenshot(page, f"tech-complete-part-{width}")


def test_after_accept_the_tapped_card_stays_in_view_with_the_confirmation_on_it(live, live_world, phone, screenshot):
    """Accepting re-sorts the queue (the ticket now races its resolution clock, so it
    moves down the list): the tapped card stays on screen with "Accepted ..." on it,
    instead of the list jumping and the notice landing far above (issue 15, item 4)."""
    from tests.browser.test_ticket_page import axe_violations

    ids = [new_ticket(live, live_world, description=f"Display case {n} is warm") for n in range(6)]
    page = phone(bypass_csp=True)
    login(page, live.url, live_world.emails["tech"])
    cards = page.locator("#queue article.tcard")
    order = [c.get_attribute("data-ticket-id") for c in cards.all()]
    assert sorted(order) == sorted(ids)
    tapped = order[1]
    card = page.locator(f"#ticket-{tapped}")
    card.scroll_into_view_if_needed()
    card.get_by_role("button", name="Accept").tap()
    page.locator(f"#ticket-{tapped}[data-status=IN_PROGRESS]").wait_for()
    page.wait_for_timeout(100)  # the scroll correction runs right after the swap
    new_order = [c.get_attribute("data-ticket-id") for c in cards.all()]
    assert new_order.index(tapped) > 1, "the accepted ticket should move down the queue"

    viewport = page.viewport_size
    note = page.locator(f"#ticket-{tapped} [data-card-notice]")
    assert "Accepted" in note.inner_text()
    for box in (note.bounding_box(), page.locator(f"#ticket-{tapped} .tcard-top").bounding_box()):
        assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], (box, viewport)
    assert page.locator("#queue > .notice").count() == 0  # not far above, on the card
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tech-accept-in-view-viewport-390x844.png"))  # what the thumb sees
    screenshot(page, "tech-accept-in-view-390x844")
    assert axe_violations(page) == []


def test_the_store_photo_is_shown_read_only_on_the_complete_page(live, live_world, phone, screenshot):
    """The store manager's photo of the problem is "From the store", with no Remove
    (issue 15, item 1); the technician's own photos keep theirs."""
    from app.extensions import db
    from app.models import User
    from app.services import photos, tickets
    from tests.browser.test_ticket_page import axe_violations

    ticket_id = new_ticket(live, live_world)
    with live.ctx():
        ticket = tickets.get_ticket(ticket_id)
        photos.add_reporter_photo(ticket, db.session.get(User, live_world.ids["manager"]),
                                  exif_jpeg(800, 600, orientation=1), "warm-chamber.jpg")
        tickets.accept(ticket, db.session.get(User, live_world.ids["tech"]))
        db.session.commit()
    page = phone(bypass_csp=True)
    login(page, live.url, live_world.emails["tech"])
    page.goto(f"{live.url}/tech/tickets/{ticket_id}/complete")
    choose_tag(page, "before")
    upload(page, "coil.jpg", exif_jpeg(800, 600, orientation=1))
    page.locator("#photo-list .photo").wait_for()
    store = page.locator("#store-photos .photo")
    assert store.count() == 1 and store.locator("img").get_attribute("alt") == "Photo from the store"
    assert "Photos from the store" in page.locator("#photos").inner_text()
    assert store.get_by_role("button").count() == 0
    assert page.locator("#photo-list .photo").get_by_role("button", name="Remove this before photo").count() == 1
    page.locator("#photos").scroll_into_view_if_needed()
    assert_fits_the_phone(page)
    screenshot(page, "tech-complete-store-photo-390x844")
    assert axe_violations(page) == []
