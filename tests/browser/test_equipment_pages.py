"""The equipment pages in real Chromium on a phone (390x844, touch), in Russian: the store
manager picks the unit on the report form (large tap targets, nothing clipped, no
sideways scroll) and the ticket names it; the unit's page with its figures and QR code;
the dispatcher's labels sheet prints on A4."""
from __future__ import annotations

from contextlib import contextmanager

from tests.browser.conftest import login

PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2,
             locale="ru-RU", extra_http_headers={"Accept-Language": "ru"})


@contextmanager
def _phone(browser):
    context = browser.new_context(**PHONE)
    try:
        yield context.new_page()
    finally:
        context.close()


def _fits(page):
    scroll = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll[0] <= scroll[1], f"page is {scroll[0]}px wide in a {scroll[1]}px window"
    wide = page.evaluate("""() => [...document.querySelectorAll('main table')]
        .filter(t => t.getBoundingClientRect().right > window.innerWidth + 0.5).map(t => t.className)""")
    assert wide == [], f"tables wider than the phone: {wide}"
    clipped = page.evaluate("""() => [...document.querySelectorAll('button, .btn, .unit-option, input[type=radio]')]
        .filter(e => e.offsetParent !== null)
        .filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth + 0.5
                       || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow === 'hidden'; })
        .map(e => e.outerHTML.slice(0, 120))""")
    assert clipped == [], clipped


def _units(live, ids):
    from app.extensions import db
    from app.models import User
    from app.services import equipment, tickets

    with live.ctx():
        dispatcher = db.session.get(User, ids["dispatcher"])
        db.session.get(User, ids["manager"]).locale = "ru"
        units = [equipment.create_unit(dispatcher, {
            "branchId": ids["branch"], "assetTag": tag, "kind": kind, "name": name, "refrigerant": gas,
            "chargeKg": kg, "replacementCost": "6000"})
            for tag, kind, name, gas, kg in (
                ("FM-001-CR1", "COLD_ROOM", "Мясная холодильная камера", "R404A", "14.5"),
                ("FM-001-DC1", "DISPLAY_CASE", "Молочная витрина", "R290", "0.15"),
                ("FM-001-CU1", "CONDENSING_UNIT", "Компрессорно-конденсаторный агрегат на крыше", "R448A", "7.5"))]
        from app.models import IssueSubcategory

        sub = db.session.get(IssueSubcategory, ids["subcategory"])
        tickets.create_ticket(dispatcher, {"branchId": ids["branch"], "categoryId": sub.category_id,
                                           "subcategoryId": sub.id, "description": "Дверь не закрывается",
                                           "equipmentId": units[0].id})
        db.session.commit()
        return [u.id for u in units]


def test_the_store_picks_the_unit_on_a_phone_and_opens_its_page(live, live_world, browser, screenshot):
    unit_ids = _units(live, live_world.ids)
    with _phone(browser) as page:
        login(page, live.url, live_world.emails["manager"])
        page.goto(f"{live.url}/store/tickets/new")
        assert page.locator("#unit-picker legend").inner_text().startswith("Какая установка?")
        options = page.locator(".unit-option")
        assert options.count() == 4  # three units and "not sure / other"
        for i in range(4):
            box = options.nth(i).bounding_box()
            assert box["height"] >= 44 and box["width"] >= 140, box
        _fits(page)
        # Tap the display case: it is chosen (the whole card is the target).
        page.locator(".unit-option", has_text="Молочная витрина").tap()
        assert page.locator(f"input[value='{unit_ids[1]}']").is_checked()
        screenshot(page, "equipment-store-picker-phone-ru")

        page.select_option("select[name=categoryId]", index=1)
        page.wait_for_selector("select[name=subcategoryId] option:nth-child(2)", state="attached")
        page.select_option("select[name=subcategoryId]", index=1)
        page.fill("textarea[name=description]", "Витрина не холодит, +12")
        page.click("#report-form button[type=submit]")
        page.wait_for_url("**/tickets/*?created=1")
        unit_box = page.locator("#unit")
        assert "Молочная витрина" in unit_box.inner_text() and "FM-001-DC1" in unit_box.inner_text()
        _fits(page)

        page.goto(f"{live.url}/equipment/{unit_ids[0]}")
        body = page.locator("main").inner_text()
        assert "Ремонтировать или заменить?" in body and "Дверь не закрывается" in body
        qr = page.locator("img.eq-qr")
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
        _fits(page)
        screenshot(page, "equipment-unit-page-phone-ru")

        # ?equipment= from the unit's page preselects it in the served form.
        page.goto(f"{live.url}/store/tickets/new?equipment={unit_ids[2]}")
        assert page.locator(f"input[value='{unit_ids[2]}']").is_checked()


def test_the_labels_sheet_prints_on_a4(live, live_world, browser, screenshot):
    _units(live, live_world.ids)
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    try:
        page = context.new_page()
        login(page, live.url, live_world.emails["dispatcher"])
        page.goto(f"{live.url}/dispatcher/branches/{live_world.ids['branch']}/labels")
        assert page.locator(".eq-label").count() == 3
        assert page.locator("img.eq-qr").first.evaluate("img => img.complete && img.naturalWidth > 0")
        screenshot(page, "equipment-labels-screen")
        page.emulate_media(media="print")
        assert page.locator(".topbar").is_hidden()
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf[:4] == b"%PDF" and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page\r") + \
            pdf.count(b"/Type /Page>>") + pdf.count(b"/Type /Page ") >= 1
        screenshot(page, "equipment-labels-print")
    finally:
        context.close()


def test_the_technician_sees_the_unit_on_the_card_and_opens_its_page(live, live_world, browser, screenshot):
    unit_ids = _units(live, live_world.ids)  # its ticket is assigned to the branch's technician
    with _phone(browser) as page:
        login(page, live.url, live_world.emails["tech"])
        page.goto(f"{live.url}/tech/dashboard")
        line = page.locator(".tcard .tunit").first
        assert "Мясная холодильная камера" in line.inner_text() and "FM-001-CR1" in line.inner_text()
        box = line.locator("a").bounding_box()
        assert box["height"] >= 44
        _fits(page)
        screenshot(page, "tech-card-unit-phone-ru")
        line.locator("a").click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/equipment/{unit_ids[0]}")


def test_the_labels_language_is_chosen_on_the_page(live, live_world, browser, screenshot):
    _units(live, live_world.ids)
    for width, name in ((390, "phone"), (1440, "desk")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            login(page, live.url, live_world.emails["dispatcher"])
            page.goto(f"{live.url}/dispatcher/branches/{live_world.ids['branch']}/labels")
            assert page.locator(".eq-label-scan").first.inner_text() == "Scan to report a fault"
            page.locator(".eq-label-langs a[hreflang=uz]").click()
            page.wait_for_load_state("load")
            assert page.url.endswith("?lang=uz")
            assert page.locator(".eq-label-scan").first.inner_text() == "Nosozlik haqida xabar berish uchun skanerlang"
            assert page.locator(".eq-label-langs a[aria-current=true]").inner_text() == "Oʻzbekcha"
            for box in page.locator(".eq-label-langs a").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)"):
                assert box >= 44
            if width == 390:
                _fits(page)
            screenshot(page, f"equipment-labels-uz-{name}")
        finally:
            context.close()
