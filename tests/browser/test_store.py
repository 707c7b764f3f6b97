"""The store manager in real Chromium: on a phone (390x844, touch) and on a small
desktop (1024x768). Report a problem, sign with pointer events on the canvas and
approve, refuse an empty pad, reject with a reason, and keep other branches out."""
from __future__ import annotations

import io
import re
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from PIL import Image

from tests.browser.conftest import login

SIZES = {
    "phone": dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2),
    "desktop": dict(viewport={"width": 1024, "height": 768}),
}


@contextmanager
def _page(browser, size):
    context = browser.new_context(**SIZES[size])
    try:
        yield context.new_page()
    finally:
        context.close()


def _world(live, ids):
    """The live world's rows, loaded in the current app context."""
    from app.extensions import db
    from app.models import CustomerBranch, IssueSubcategory, User

    return SimpleNamespace(
        branch=db.session.get(CustomerBranch, ids["branch"]),
        other_branch=db.session.get(CustomerBranch, ids["other_branch"]),
        subcategory=db.session.get(IssueSubcategory, ids["subcategory"]),
        manager=db.session.get(User, ids["manager"]),
        tech=db.session.get(User, ids["tech"]),
        dispatcher=db.session.get(User, ids["dispatcher"]),
    )


def _finished_ticket(live, live_world) -> dict:
    """A ticket of the manager's branch waiting for approval (before + after photos, parts)."""
    from tests.store.conftest import finished_ticket

    with live.ctx():
        t = finished_ticket(_world(live, live_world.ids))
        return {"id": t.id, "number": t.ticket_number, "completion": t.completion.id,
                "photo": t.photos[0].id}


def _ticket_state(live, ticket_id):
    from app.extensions import db
    from app.models import ServiceTicket
    from app.services.storage import get_storage

    with live.ctx():
        t = db.session.get(ServiceTicket, ticket_id)
        c = t.completion
        png = get_storage().get(c.signature_key) if c and c.signature_key else None
        return SimpleNamespace(status=t.status.value, approval=c.approval_status.value if c else None,
                               signed_by=c.signed_by if c else None, png=png,
                               notes=c.approval_notes if c else None)


def _no_horizontal_scroll(page):
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"page is {width[0]}px wide in a {width[1]}px window"


def _draw_signature(page, size):
    """Draw a zig-zag on the pad: the mouse on desktop, touch pointer events on the phone."""
    canvas = page.locator("#signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    points = [(box["x"] + box["width"] * f, box["y"] + box["height"] * (0.3 if i % 2 else 0.7))
              for i, f in enumerate((0.15, 0.3, 0.45, 0.6, 0.75, 0.85))]
    if size == "desktop":
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y, steps=6)
        page.mouse.up()
        return
    # Touch: one pointermove per animation frame, as a finger on a phone produces them.
    page.evaluate(
        """async (points) => {
            const canvas = document.getElementById('signature-pad');
            const frame = () => new Promise(requestAnimationFrame);
            const fire = (target, type, x, y, buttons) => target.dispatchEvent(new PointerEvent(type, {
                bubbles: true, cancelable: true, composed: true, pointerId: 7, pointerType: 'touch',
                isPrimary: true, clientX: x, clientY: y, buttons: buttons, button: 0, pressure: buttons ? 0.5 : 0,
                width: 10, height: 10}));
            const [x0, y0] = points[0];
            fire(canvas, 'pointerdown', x0, y0, 1);
            for (let i = 1; i < points.length; i++) {
                const [xa, ya] = points[i - 1], [xb, yb] = points[i];
                for (let s = 1; s <= 6; s++) {
                    await frame();
                    fire(canvas, 'pointermove', xa + (xb - xa) * s / 6, ya + (yb - ya) * s / 6, 1);
                }
            }
            await frame();
            const [xn, yn] = points[points.length - 1];
            fire(canvas, 'pointerup', xn, yn, 0);
        }""",
        [[x, y] for x, y in points],  # bounding_box() is relative to the viewport, as clientX/Y are
    )


def _jpeg():
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_store_manager_reports_a_problem_and_sees_the_ticket_number(live, live_world, browser, screenshot, size):
    with _page(browser, size) as page:
        login(page, live.url, live_world.emails["manager"])
        assert page.url.endswith("/store")
        screenshot(page, f"store-home-empty-{size}")
        page.get_by_role("link", name="Report a problem").first.click()
        page.wait_for_url("**/store/tickets/new")
        # Category then subcategory, through htmx.
        page.select_option("select[name=categoryId]", "")
        page.wait_for_selector("select[name=subcategoryId]:disabled")
        page.select_option("select[name=categoryId]", live_world.ids["category"])
        page.wait_for_selector("select[name=subcategoryId]:enabled")
        page.select_option("select[name=subcategoryId]", live_world.ids["subcategory"])
        page.fill("textarea[name=description]", "Meat chamber shows 9°C, should be 2°C")
        page.get_by_text("Temperature is rising").click()
        page.set_input_files("input[name=photos]", files=[
            {"name": "chamber.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
        assert page.locator(".photo-count").inner_text() == "1 photo chosen"
        _no_horizontal_scroll(page)
        screenshot(page, f"store-new-ticket-{size}")
        page.get_by_role("button", name="Send to service").click()
        page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]+\?created=1$"))
        number = page.locator("#created-number").inner_text()
        assert re.fullmatch(r"TKT-\d{6}-\d{5}", number)
        assert "Assigned to Timur Primary" in page.locator(".created-box").inner_text()
        assert page.locator(".created-box a[href^='tel:']").get_attribute("href") == "tel:+998900000001"
        assert page.locator(".tp-photo-grid img").evaluate("img => img.complete && img.naturalWidth > 0")
        _no_horizontal_scroll(page)
        screenshot(page, f"store-ticket-created-{size}")
        page.goto(f"{live.url}/store")
        assert number in page.locator("#store-tickets").inner_text()
        assert "Technician assigned" in page.locator("#store-tickets").inner_text()


def test_another_branch_is_refused_on_the_report_form(live, live_world, browser, screenshot):
    with _page(browser, "phone") as page:
        login(page, live.url, live_world.emails["manager"])
        page.goto(f"{live.url}/store/tickets/new")
        # A tampered form: another chain's branch id in the select.
        page.evaluate("(id) => { document.querySelector('select[name=branchId] option').value = id; }",
                      live_world.ids["other_branch"])
        page.select_option("select[name=subcategoryId]", live_world.ids["subcategory"])
        page.fill("textarea[name=description]", "Typed text must stay")
        page.get_by_role("button", name="Send to service").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("[role=alert]").inner_text() == "You can only report problems for your own branch."
        assert page.input_value("textarea[name=description]") == "Typed text must stay"
        _no_horizontal_scroll(page)
        screenshot(page, "store-new-ticket-error-phone")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_manager_signs_on_the_canvas_and_approves(live, live_world, browser, screenshot, size):
    t = _finished_ticket(live, live_world)
    with _page(browser, size) as page:
        login(page, live.url, live_world.emails["manager"])
        assert "Waiting for your approval" in page.locator(".ticket-card.is-awaiting").inner_text()
        screenshot(page, f"store-home-awaiting-{size}")
        page.get_by_role("link", name="Review and sign").click()
        page.wait_for_url(f"**/tickets/{t['id']}/approve")
        approve = page.get_by_role("button", name="Approve", exact=True)
        assert approve.is_disabled()
        assert page.get_by_role("button", name="Reject", exact=True).is_visible()
        assert page.locator("#signature-pad").is_visible()
        # Tap a photo to enlarge it.
        page.locator("a.photo-link").last.click()
        assert page.locator("#photo-viewer").is_visible()
        assert page.locator("#photo-viewer-img").evaluate("img => img.complete && img.naturalWidth > 0")
        page.get_by_role("button", name="Close").click()
        assert not page.locator("#photo-viewer").is_visible()
        _no_horizontal_scroll(page)
        screenshot(page, f"store-approve-{size}")

        _draw_signature(page, size)
        assert approve.is_enabled()
        page.fill("input[name=signedBy]", "Dilnoza Karimova")
        screenshot(page, f"store-approve-signed-{size}")
        approve.click()
        page.wait_for_url(f"**/tickets/{t['id']}/report")

        state = _ticket_state(live, t["id"])
        assert (state.status, state.approval, state.signed_by) == ("CLOSED", "APPROVED", "Dilnoza Karimova")
        png = Image.open(io.BytesIO(state.png))
        assert png.format == "PNG"
        alpha = png.getchannel("A")
        assert alpha.getextrema()[1] > 0  # something was drawn
        left, top, right, bottom = alpha.getbbox()
        assert right - left > png.width * 0.5  # the whole zig-zag, not a dot

        assert page.locator(".signature-img").evaluate("img => img.complete && img.naturalWidth > 0")
        assert "Dilnoza Karimova" in page.locator(".report-approval").inner_text()
        _no_horizontal_scroll(page)
        screenshot(page, f"store-report-{size}")
        page.emulate_media(media="print")
        screenshot(page, f"store-report-print-{size}")
        page.emulate_media(media="screen")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download PDF").click()
        assert download.value.suggested_filename == f"service-report-{t['number']}.pdf"

        page.goto(f"{live.url}/tickets/{t['id']}")
        assert page.locator(".tp-signature img").evaluate("img => img.complete && img.naturalWidth > 0")
        _no_horizontal_scroll(page)
        screenshot(page, f"store-ticket-closed-{size}")


def test_an_empty_pad_cannot_approve(live, live_world, browser, screenshot):
    t = _finished_ticket(live, live_world)
    with _page(browser, "phone") as page:
        login(page, live.url, live_world.emails["manager"])
        page.goto(f"{live.url}/tickets/{t['id']}/approve")
        approve = page.get_by_role("button", name="Approve", exact=True)
        assert approve.is_disabled()
        _draw_signature(page, "phone")
        assert approve.is_enabled()
        page.get_by_role("button", name="Clear").click()
        assert approve.is_disabled()
        # Past the disabled button: the server still refuses a blank PNG.
        page.evaluate("""() => {
            const c = document.createElement('canvas'); c.width = 300; c.height = 150;
            const form = document.getElementById('approve-form');
            document.getElementById('signature-data').value = c.toDataURL('image/png');
            form.submit();
        }""")
        page.wait_for_load_state("networkidle")
        assert "The signature is blank" in page.locator("[role=alert]").inner_text()
        assert "Please sign in the box." in page.locator("#signature-error").inner_text()
        screenshot(page, "store-approve-blank-refused-phone")
    state = _ticket_state(live, t["id"])
    assert (state.status, state.approval, state.png) == ("COMPLETED", "PENDING", None)


def test_rejecting_with_a_reason_puts_it_back_in_the_technicians_queue(live, live_world, browser, screenshot):
    t = _finished_ticket(live, live_world)
    with _page(browser, "desktop") as page:
        login(page, live.url, live_world.emails["manager"])
        page.goto(f"{live.url}/tickets/{t['id']}/approve")
        page.once("dialog", lambda d: d.accept())
        page.fill("textarea[name=reason]", "Chamber still at 8°C an hour later")
        page.get_by_role("button", name="Reject", exact=True).click()
        page.wait_for_url("**/store")
        assert "Sent back to the technician" in page.locator("#store-tickets").inner_text()
        screenshot(page, "store-home-after-reject-desktop")

        state = _ticket_state(live, t["id"])
        assert (state.status, state.approval, state.notes) == ("IN_PROGRESS", "REJECTED",
                                                                "Chamber still at 8°C an hour later")
        # The technician's queue, as the technician's phone app reads it (the API).
        token = page.request.post(f"{live.url}/api/auth/token", data={
            "email": live_world.emails["tech"], "password": "correct-horse-9"}).json()["token"]
        queue = page.request.get(f"{live.url}/api/tickets?status=IN_PROGRESS",
                                 headers={"Authorization": f"Bearer {token}"}).json()["items"]
        assert [q["ticketNumber"] for q in queue] == [t["number"]]
        events = page.request.get(f"{live.url}/api/tickets/{t['id']}/events",
                                  headers={"Authorization": f"Bearer {token}"}).json()["items"]
        assert events[-1]["kind"] == "rejected"
        assert events[-1]["data"]["reason"] == "Chamber still at 8°C an hour later"
    # And on the technician's own page.
    with _page(browser, "phone") as tech_page:
        login(tech_page, live.url, live_world.emails["tech"])
        tech_page.goto(f"{live.url}/tech/dashboard")
        card = tech_page.locator(".tcard-rejected")
        assert t["number"] in card.inner_text()
        assert "Chamber still at 8°C an hour later" in card.inner_text()
        screenshot(tech_page, "store-rejected-in-tech-queue-phone")


def test_reject_needs_a_reason_in_the_browser(live, live_world, browser):
    t = _finished_ticket(live, live_world)
    with _page(browser, "phone") as page:
        login(page, live.url, live_world.emails["manager"])
        page.goto(f"{live.url}/tickets/{t['id']}/approve")
        page.get_by_role("button", name="Reject", exact=True).click()
        assert page.url.endswith(f"/tickets/{t['id']}/approve")
        assert page.locator("textarea[name=reason]").evaluate("el => el.validity.valueMissing")
    assert _ticket_state(live, t["id"]).status == "COMPLETED"


def test_another_branch_manager_gets_404_everywhere(live, live_world, browser, screenshot):
    t = _finished_ticket(live, live_world)
    from app.models import Role
    from tests.factories import PASSWORD, make_user

    with live.ctx():
        from app.extensions import db

        w = _world(live, live_world.ids)
        make_user(Role.STORE_MANAGER, "coldline.manager@example.com", branches=[w.other_branch])
        db.session.commit()
    with _page(browser, "phone") as page:
        login(page, live.url, "coldline.manager@example.com", PASSWORD)
        for path in (f"/tickets/{t['id']}/approve", f"/store/tickets/{t['id']}", f"/tickets/{t['id']}/report",
                     f"/photos/{t['photo']}", f"/photos/{t['photo']}?size=thumb"):
            response = page.goto(f"{live.url}{path}")
            assert response.status == 404, path
        assert t["number"] not in page.goto(f"{live.url}/store").text()
        page.goto(f"{live.url}/tickets/{t['id']}/approve")
        screenshot(page, "store-approve-other-branch-404-phone")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_store_home_with_tickets_in_every_state(live, live_world, browser, screenshot, size):
    from tests.factories import make_ticket

    _finished_ticket(live, live_world)
    with live.ctx():
        from app.extensions import db
        from app.models import TicketPriority
        from app.services import tickets

        w = _world(live, live_world.ids)
        w_ns = SimpleNamespace(branch=w.branch, subcategory=w.subcategory, dispatcher=w.dispatcher)
        make_ticket(w_ns, by=w.manager, priority=TicketPriority.CRITICAL,
                    description="Freezer island not cooling at all, ice cream melting")
        on_way = make_ticket(w_ns, by=w.manager, description="Glass door of the dairy fridge does not close")
        tickets.accept(on_way, w.tech)
        closed = make_ticket(w_ns, by=w.manager, priority=TicketPriority.LOW, description="Light in chamber 2 flickers")
        tickets.close_without_completion(closed, "Fixed by the store's electrician", w.dispatcher)
        db.session.commit()
    with _page(browser, size) as page:
        login(page, live.url, live_world.emails["manager"])
        text = page.locator("#store-tickets").inner_text()
        for words in ("Waiting for your approval", "Technician assigned", "Technician on the way", "Closed"):
            assert words in text
        _no_horizontal_scroll(page)
        screenshot(page, f"store-home-{size}")
