"""Reporting by QR code in real Chromium: a phone (390 px, touch) opens a unit's report
URL as a scan would, reports a fault without an account, and a dispatcher then sees the
ticket on the board. The same page in Russian: no horizontal scroll, nothing clipped.
Screenshots: artifacts/screenshots/qr-*.png."""
from __future__ import annotations

import re

from tests.browser.conftest import login

PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)


def _unit(live, live_world) -> dict:
    from app.extensions import db
    from app.services import equipment

    with live.ctx():
        from app.models import User

        unit = equipment.create_unit(db.session.get(User, live_world.ids["dispatcher"]), {
            "branchId": live_world.ids["branch"], "assetTag": "FM-001-CR01", "kind": "COLD_ROOM",
            "name": "Cold room 1 (dairy)", "refrigerant": "R404A", "chargeKg": "12.5"})
        db.session.commit()
        return {"id": unit.id, "url": f"/r/{unit.report_token}"}


def _fits(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= page.evaluate("innerWidth"), f"horizontal scroll: {width}px"
    clipped = page.evaluate("""() => [...document.querySelectorAll('button, .btn, input, select, textarea')]
        .filter(e => { const r = e.getBoundingClientRect(); return r.width && (r.left < 0 || r.right > innerWidth); })
        .map(e => e.outerHTML.slice(0, 80))""")
    assert clipped == [], clipped


def test_a_phone_scans_reports_and_the_dispatcher_sees_the_ticket_on_the_board(live, live_world, browser,
                                                                               screenshot):
    unit = _unit(live, live_world)
    context = browser.new_context(**PHONE, java_script_enabled=False)  # the page needs no script
    try:
        page = context.new_page()
        response = page.goto(f"{live.url}{unit['url']}")
        assert response.status == 200
        assert page.locator("h1").inner_text() == "Cold room 1 (dairy)"
        assert page.get_by_text("FM-001-CR01").is_visible() and page.get_by_text("Freshmart Central").is_visible()
        _fits(page)
        screenshot(page, "qr-report-phone")
        # the form as a person fills it in: the send button is large enough to tap
        box = page.locator("button.qr-send").bounding_box()
        assert box["height"] >= 48 and box["width"] >= 300
        page.fill("textarea[name=description]", "Cold room is at +9 °C, door seal torn")
        page.check("input[name=urgent]")
        page.fill("input[name=name]", "Aziz Karimov")
        page.fill("input[name=phone]", "+998 90 765 43 21")
        page.click("button.qr-send")
        page.wait_for_load_state("load")
        done = page.locator(".qr-done").inner_text()
        number = re.search(r"ticket (\S+)\.", done).group(1)
        assert page.locator(".qr-done .qr-open-line").inner_text() == f"Ticket {number}: Assigned"
        assert page.locator(".qr-open").count() == 0  # not "already reported": it is their own report
        assert not page.locator("textarea[name=description]").is_visible()  # folded, and empty
        assert page.locator("textarea[name=description]").input_value() == ""
        _fits(page)
        screenshot(page, "qr-reported-phone")
        page.locator(".qr-again > summary").click()  # works without JavaScript (details)
        assert page.locator("textarea[name=description]").is_visible()
        screenshot(page, "qr-reported-again-phone")
    finally:
        context.close()

    desk = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = desk.new_page()
        login(page, live.url, live_world.emails["dispatcher"])
        page.goto(f"{live.url}/dispatcher/tickets")
        page.wait_for_load_state("networkidle")
        card = page.locator(f"text={number}").first
        card.wait_for(state="visible", timeout=5000)
        board = page.locator("main").inner_text()
        assert number in board and "Freshmart Central" in board
        screenshot(page, "qr-board-dispatcher")
    finally:
        desk.close()

    with live.ctx():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import ServiceTicket

        t = db.session.execute(select(ServiceTicket).where(ServiceTicket.ticket_number == number)).scalar_one()
        assert (t.source.value, t.priority.value, t.equipment_id, t.contact_name) == \
            ("QR", "HIGH", unit["id"], "Aziz Karimov")


def test_the_report_page_in_russian_on_a_phone_with_a_mistake(live, live_world, browser, screenshot):
    unit = _unit(live, live_world)
    context = browser.new_context(**PHONE, locale="ru-RU", extra_http_headers={"Accept-Language": "ru"})
    try:
        page = context.new_page()
        page.goto(f"{live.url}{unit['url']}")
        assert page.locator("h2").first.inner_text() == "Сообщить о неисправности"
        page.fill("textarea[name=description]", "Не холодит")
        page.click("button.qr-send")
        page.wait_for_load_state("load")
        assert page.get_by_text("Укажите ваше имя.").is_visible()
        assert page.locator("textarea[name=description]").input_value() == "Не холодит"
        _fits(page)
        screenshot(page, "qr-report-ru-phone")
    finally:
        context.close()
