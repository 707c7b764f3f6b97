"""The dispatcher's day in real Chromium: create a ticket, watch the board update
while a technician accepts it on another device, reassign, close; other roles are
refused. Every dispatcher page is photographed at 1440x900."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import login

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _ticket(live, ids, **kw):
    """A ticket made through the services in the live database; returns (id, number)."""
    from app.extensions import db
    from app.models import User
    from tests.factories import make_ticket

    with live.ctx():
        world = type("W", (), {})()
        world.dispatcher = db.session.get(User, ids["dispatcher"])
        from app.models import CustomerBranch, IssueSubcategory

        world.branch = db.session.get(CustomerBranch, kw.pop("branch", ids["branch"]))
        world.subcategory = db.session.get(IssueSubcategory, ids["subcategory"])
        t = make_ticket(world, **kw)
        db.session.commit()
        return t.id, t.ticket_number


def _busy_board(live, ids):
    """A board with something in every column and every SLA colour: tickets are made
    with the clock moved back, then the clock is given back to real time."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import CustomerBranch, IssueSubcategory, Technician, TicketPriority, User
    from app import clock
    from app.services import completions, photos, tickets
    from tests.factories import jpeg_bytes, make_branch, make_ticket

    with live.ctx():
        w = type("W", (), {})()
        w.dispatcher = db.session.get(User, ids["dispatcher"])
        tech = db.session.get(User, ids["tech"])
        w.subcategory = db.session.get(IssueSubcategory, ids["subcategory"])
        branch = db.session.get(CustomerBranch, ids["branch"])
        branch2 = db.session.get(CustomerBranch, ids["branch2"])
        lonely = make_branch(branch.customer, "FM-003", "Freshmart South", lat=41.29, lon=69.25)
        outsider = db.session.get(Technician, ids["outsider"])
        now = clock.now()
        outsider.latitude, outsider.longitude, outsider.last_location_update = 41.30, 69.27, now - timedelta(minutes=7)
        try:
            def at(minutes_ago, where, priority=TicketPriority.NORMAL, text="Cold chamber at 12°C, should be 2°C"):
                clock.set_now(now - timedelta(minutes=minutes_ago))
                w.branch = where
                return make_ticket(w, priority=priority, description=text)

            at(70, branch, TicketPriority.CRITICAL, "Freezer alarm, goods at risk")  # response breached
            at(200, branch2, TicketPriority.HIGH, "Glass door does not close")  # under a quarter left: amber
            at(5, lonely, TicketPriority.LOW, "Noise from the compressor at night")  # NEW, nobody to take it
            on_site = at(30, branch, TicketPriority.HIGH, "Display fridge leaking water")
            tickets.accept(on_site, tech)
            tickets.arrive(on_site, tech, branch.latitude, branch.longitude, 500)
            done = at(300, branch, TicketPriority.NORMAL, "Thermostat replaced")
            tickets.accept(done, tech)
            photos.add_photo(done, tech, jpeg_bytes(), "after", "Fixed", "after.jpg")
            completions.complete(done, tech, {"workDescription": "New thermostat", "laborHours": 1,
                                              "laborCostPerHour": "40.00", "partsUsed": []})
            closed = at(90, branch2, TicketPriority.LOW, "Duplicate report")
            tickets.close_without_completion(closed, "Duplicate of an open ticket", w.dispatcher)
            db.session.commit()
        finally:
            clock.set_now(None)


def _no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_created_ticket_appears_and_the_board_follows_the_technician_without_reload(
        live, live_world, page, browser, screenshot):
    page.set_viewport_size(DESKTOP)
    login(page, live.url, live_world.emails["dispatcher"])

    page.goto(f"{live.url}/tickets/create")
    page.select_option("#branchId", label="FM-001 · Freshmart Central")
    page.select_option("#subcategoryId", label="Glass Repair")
    page.select_option("#priority", "HIGH")
    expect(page.locator(".due-preview")).to_contain_text("Resolution")
    page.fill("#description", "Glass door of the dairy fridge is cracked")
    page.fill("#externalId", "CRM-9001")
    screenshot(page, "dispatcher-create-1440")
    page.click("button:has-text('Create ticket')")
    expect(page.locator(".flash")).to_contain_text("assigned to Timur Primary")
    number = page.locator("h1").inner_text()
    assert re.fullmatch(r"TKT-\d{6}-\d{5}", number)
    ticket_id = page.url.rsplit("/", 1)[1]

    page.goto(f"{live.url}/dispatcher/tickets")
    card = page.locator(f"#card-{ticket_id}")
    expect(page.locator("#col-ASSIGNED").locator("xpath=..").locator(f"#card-{ticket_id}")).to_be_visible()
    expect(card).to_contain_text("Freshmart Central")
    expect(card).to_contain_text("Glass Repair")
    expect(card).to_contain_text("Timur Primary")
    page.evaluate("window.__sameDocument = true")
    screenshot(page, "dispatcher-board-live-1440")

    # The technician accepts on their own device (the JSON API with their token).
    tech_context = browser.new_context()
    try:
        api = tech_context.request
        token = api.post(f"{live.url}/api/auth/token",
                         data={"email": live_world.emails["tech"], "password": "correct-horse-9"}).json()["token"]
        resp = api.post(f"{live.url}/api/tickets/{ticket_id}/accept", headers={"Authorization": f"Bearer {token}"})
        assert resp.ok, resp.text()
    finally:
        tech_context.close()

    in_progress = page.locator("#col-IN_PROGRESS").locator("xpath=..").locator(f"#card-{ticket_id}")
    expect(in_progress).to_be_visible(timeout=8000)
    expect(in_progress).to_have_class(re.compile(r"\bis-changed\b"), timeout=2000)
    assert page.evaluate("window.__sameDocument === true"), "the board reloaded"
    expect(page.locator("#col-ASSIGNED").locator("xpath=..").locator(f"#card-{ticket_id}")).to_have_count(0)


def test_filters_go_in_the_url_and_the_board_stays_live(live, live_world, page, screenshot):
    from app.models import TicketPriority

    _, high = _ticket(live, live_world.ids, priority=TicketPriority.HIGH)
    _, normal = _ticket(live, live_world.ids)
    page.set_viewport_size(DESKTOP)
    login(page, live.url, live_world.emails["dispatcher"])
    page.select_option("select[name=priority]", "HIGH")
    expect(page).to_have_url(re.compile(r"priority=HIGH"))
    expect(page.locator("#board")).to_contain_text(high)
    expect(page.locator("#board")).not_to_contain_text(normal)
    page.fill("input[name=q]", normal)
    expect(page).to_have_url(re.compile(r"q=" + normal))
    expect(page.locator("#board")).to_contain_text("No tickets match these filters.")
    page.reload()  # a bookmarked view comes back the same
    expect(page.locator("select[name=priority]")).to_have_value("HIGH")
    expect(page.locator("input[name=q]")).to_have_value(normal)


def test_reassigning_and_closing_from_the_ticket_page(live, live_world, page, screenshot):
    ticket_id, number = _ticket(live, live_world.ids)
    page.set_viewport_size(DESKTOP)
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/tickets/{ticket_id}")
    screenshot(page, "dispatcher-ticket-reassign-1440")

    page.locator("label.candidate", has_text="Sardor Secondary").click()
    page.click("button:has-text('Assign')")
    expect(page.locator(".flash")).to_contain_text("waiting for them to accept")
    expect(page.locator("#ticket-technician")).to_contain_text("Sardor Secondary")
    expect(page.locator(".tp-timeline")).to_contain_text("Reassigned to Sardor Secondary")

    page.fill("#reason", "The store fixed it themselves")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Close ticket')")
    expect(page.locator("#ticket-status")).to_have_text("Closed")
    expect(page.locator(".tp-timeline")).to_contain_text("Closed without completion: The store fixed it themselves")
    screenshot(page, "dispatcher-ticket-closed-1440")


def test_closing_waits_for_confirmation(live, live_world, page):
    ticket_id, _ = _ticket(live, live_world.ids)
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/tickets/{ticket_id}")
    page.fill("#reason", "Changed my mind")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button:has-text('Close ticket')")
    expect(page.locator("#ticket-status")).to_have_text("Assigned, waiting for the technician to accept")


def test_store_manager_and_technician_are_refused_the_dispatcher_pages(live, live_world, page):
    for who in ("manager", "tech"):
        login(page, live.url, live_world.emails[who])
        for path in ("/dispatcher/tickets", "/tickets/create", "/dispatcher/technicians", "/dispatcher/branches",
                     "/dispatcher/categories"):
            resp = page.goto(f"{live.url}{path}")
            assert resp.status == 403, (who, path)
            expect(page.locator("h1")).to_have_text("Not allowed")
        page.context.clear_cookies()


def test_every_dispatcher_page_at_desktop_and_phone_width(live, live_world, page, screenshot):
    ids = live_world.ids
    _busy_board(live, ids)
    login(page, live.url, live_world.emails["dispatcher"])
    pages = {
        "board": "/dispatcher/tickets",
        "list": "/dispatcher/tickets/list",
        "ticket": None,
        "create": "/tickets/create",
        "technicians": "/dispatcher/technicians",
        "technician-edit": f"/dispatcher/technicians/{ids['primary']}",
        "branches": "/dispatcher/branches",
        "branch-edit": f"/dispatcher/branches/{ids['branch']}",
        "categories": "/dispatcher/categories",
        "subcategory-edit": f"/dispatcher/subcategories/{ids['subcategory']}",
    }
    for size, viewport in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            if path is None:  # the on-site ticket's page, reached from its card
                page.goto(f"{live.url}/dispatcher/tickets")
                page.locator(".tcard", has_text="On site").click()
                page.wait_for_load_state()
                screenshot(page, f"dispatcher-{name}-{size}")
                _no_horizontal_scroll(page)
                continue
            resp = page.goto(f"{live.url}{path}")
            assert resp.status == 200, path
            screenshot(page, f"dispatcher-{name}-{size}")
            _no_horizontal_scroll(page)


def test_a_new_ticket_is_seen_within_5_s_on_a_long_board(live, live_world, browser, screenshot):
    """61 ASSIGNED tickets more urgent than a NORMAL one: the column shows its 20 most
    urgent, and the NORMAL ticket that just arrived shows in "Just arrived" by the next
    poll. A ticket the store sent back carries its flag on the board."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import CustomerBranch, IssueSubcategory, TicketPriority, User
    from app import clock
    from app.services import completions, photos, tickets
    from tests.browser.axe import axe_violations
    from tests.factories import jpeg_bytes, make_ticket

    ids = live_world.ids
    with live.ctx():
        w = type("W", (), {})()
        w.dispatcher = db.session.get(User, ids["dispatcher"])
        w.branch = db.session.get(CustomerBranch, ids["branch"])
        w.subcategory = db.session.get(IssueSubcategory, ids["subcategory"])
        tech = db.session.get(User, ids["tech"])
        manager = db.session.get(User, ids["manager"])
        now = clock.now()
        try:
            clock.set_now(now - timedelta(minutes=40))
            for i in range(61):
                make_ticket(w, priority=TicketPriority.HIGH if i % 2 else TicketPriority.CRITICAL,
                            description=f"Display fridge {i} warm")
            back = make_ticket(w, priority=TicketPriority.HIGH, description="Door seal torn")
            tickets.accept(back, tech)
            photos.add_photo(back, tech, jpeg_bytes(), "after", "Fixed", "after.jpg")
            c = completions.complete(back, tech, {"workDescription": "New seal", "laborHours": 1,
                                                  "laborCostPerHour": "40.00", "partsUsed": []})
            completions.decide(c, manager, {"action": "reject", "reason": "The door still does not close"})
            db.session.commit()
            back_id = back.id
        finally:
            clock.set_now(None)

    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    try:
        page = context.new_page()
        login(page, live.url, live_world.emails["dispatcher"])
        page.goto(f"{live.url}/dispatcher/tickets")
        assigned = page.locator("#col-ASSIGNED").locator("xpath=..")
        expect(assigned.locator(".count")).to_have_text("61")
        expect(assigned.locator(".tcard")).to_have_count(20)
        expect(page.locator(".arrivals")).to_have_count(0)
        expect(page.locator(f"#card-{back_id}")).to_contain_text("Sent back by the store")
        page.evaluate("window.__sameDocument = true")

        new_id, number = _ticket(live, ids)  # NORMAL: the least urgent of the column
        strip = page.locator(".arrivals")
        expect(strip.locator(f"#arrival-{new_id}")).to_be_visible(timeout=5000)
        expect(strip).to_contain_text("Just arrived")
        expect(strip).to_contain_text(number)
        expect(assigned.locator(".count")).to_have_text("62")
        expect(assigned.locator(f"#card-{new_id}")).to_have_count(0)  # still not among the 20 most urgent
        assert page.evaluate("window.__sameDocument === true"), "the board reloaded"
        assert axe_violations(page) == []
        screenshot(page, "dispatcher-board-just-arrived-1440")
        page.set_viewport_size(PHONE)
        expect(strip.locator(f"#arrival-{new_id}")).to_be_in_viewport()  # near the top, not below 20 cards
        assert axe_violations(page) == []
        _no_horizontal_scroll(page)
        screenshot(page, "dispatcher-board-just-arrived-390")
        strip.locator(f"#arrival-{new_id} a").click()
        page.wait_for_url(f"**/tickets/{new_id}")
    finally:
        context.close()
