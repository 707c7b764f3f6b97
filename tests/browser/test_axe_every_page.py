"""axe-core on every page of every role (issue 15, item 10).

The demo world (`app.demo.load_demo`: 90 days of tickets in every status, photos,
signatures, notifications, analytics) goes into the live database once for this
module. Each role signs in and opens every HTML page it has, with real ids, on a phone
(390x844) and a desktop (1440x900); axe-core must find no serious or critical
violation on any of them. Screenshots are saved under artifacts/screenshots/axe/.

`ROLE_PAGES` names the routes each role visits and `NOT_PAGES` every GET route that
is not a page of its own (a fragment, a file, a redirect, a probe);
`test_every_html_get_route_is_visited` fails when a new GET route is in neither, so a
new page cannot escape the check. The JSON API (/api/...) is not HTML.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.browser.axe import axe_violations
from tests.browser.conftest import ARTIFACTS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
SIZES = (("390x844", PHONE), ("1440x900", DESKTOP))
SHOTS = ARTIFACTS / "axe"

# Every GET route that is not a page of its own, and why.
NOT_PAGES = {
    "/": "redirects to the role's home",
    "/favicon.ico": "redirects to the icon (static/favicon.svg)",
    "/healthz": "probe (JSON)",
    "/language/<code>": "the language switch: sets a cookie and redirects back",
    "/readyz": "probe (JSON)",
    "/dispatcher/tickets/poll": "the board's poll fragment (drawn inside the board)",
    "/dispatcher/analytics/<key>.csv": "CSV download",
    "/notifications/bell": "the bell's badge fragment (in every header)",
    "/profile/password": "redirects to /profile#password",
    "/profile/telegram": "the Telegram card fragment (on /profile)",
    "/photos/<photo_id>": "image",
    "/signatures/<completion_id>": "image",
    "/store/tickets/<ticket_id>": "old address: redirects to /tickets/<id>",
    "/store/tickets/new/subcategories": "<option> fragment of the new-ticket form",
    "/tech/tickets/<ticket_id>": "old address: redirects to /tickets/<id>",
    "/tech/tickets/<ticket_id>/parts/new": "a parts row fragment of the completion form",
    "/tickets/<ticket_id>/timeline": "the ticket page's timeline fragment",
    "/tickets/<ticket_id>/report.pdf": "PDF",
    "/tickets/<ticket_id>/pause": "redirects to the ticket page (the address a refused pause leaves)",
    "/tickets/<ticket_id>/resume": "redirects to the ticket page (the address a refused resume leaves)",
    "/tickets/create/preview": "the due-times fragment of the create form",
    "/tickets/create/subcategories": "<option> fragment of the create form",
    "/tickets/create/units": "<option> fragment of the create form (the branch's units)",
    "/equipment/<unit_id>/qr.svg": "image (SVG QR code)",
    "/dispatcher/calendars/country-holidays": "the country's holidays fragment of the calendar form",
}

# role -> [(page name, rule)]; the ids in a rule are filled from the demo world.
ROLE_PAGES = {
    "signed_out": [("login", "/login"), ("qr-report", "/r/<token>")],
    "dispatcher": [
        ("board", "/dispatcher/tickets"),
        ("list", "/dispatcher/tickets/list"),
        ("create", "/tickets/create"),
        ("ticket-new", "/tickets/<ticket_id>"),
        ("ticket-assigned", "/tickets/<ticket_id>"),
        ("ticket-in-progress", "/tickets/<ticket_id>"),
        ("ticket-sent-back", "/tickets/<ticket_id>"),
        ("ticket-completed", "/tickets/<ticket_id>"),
        ("ticket-closed", "/tickets/<ticket_id>"),
        ("report", "/tickets/<ticket_id>/report"),
        ("technicians", "/dispatcher/technicians"),
        ("technician-new", "/dispatcher/technicians/new"),
        ("technician-edit", "/dispatcher/technicians/<technician_id>"),
        ("branches", "/dispatcher/branches"),
        ("branch-new", "/dispatcher/branches/new"),
        ("branch-edit", "/dispatcher/branches/<branch_id>"),
        ("branch-units", "/dispatcher/branches/<branch_id>/equipment"),
        ("unit-new", "/dispatcher/branches/<branch_id>/equipment/new"),
        ("unit-edit", "/equipment/<unit_id>/edit"),
        ("labels", "/dispatcher/branches/<branch_id>/labels"),
        ("unit", "/equipment/<unit_id>"),
        ("categories", "/dispatcher/categories"),
        ("subcategory-new", "/dispatcher/categories/<category_id>/subcategories/new"),
        ("subcategory-edit", "/dispatcher/subcategories/<subcategory_id>"),
        ("calendars", "/dispatcher/calendars"),
        ("calendar-new", "/dispatcher/calendars/new"),
        ("calendar-edit", "/dispatcher/calendars/<calendar_id>"),
        ("analytics", "/dispatcher/analytics"),
        ("notifications", "/notifications"),
        ("profile", "/profile"),
    ],
    "admin": [
        ("board", "/dispatcher/tickets"),
        ("ticket-completed", "/tickets/<ticket_id>"),
        ("approve", "/tickets/<ticket_id>/approve"),
        ("analytics", "/dispatcher/analytics"),
        ("notifications", "/notifications"),
        ("profile", "/profile"),
    ],
    "technician": [
        ("queue", "/tech/dashboard"),
        ("ticket-assigned", "/tickets/<ticket_id>"),
        ("ticket-in-progress", "/tickets/<ticket_id>"),
        ("complete", "/tech/tickets/<ticket_id>/complete"),
        ("ticket-completed", "/tickets/<ticket_id>"),
        ("ticket-closed", "/tickets/<ticket_id>"),
        ("notifications", "/notifications"),
        ("profile", "/profile"),
    ],
    "store_manager": [
        ("home", "/store"),
        ("new-ticket", "/store/tickets/new"),
        ("ticket-open", "/tickets/<ticket_id>"),
        ("ticket-completed", "/tickets/<ticket_id>"),
        ("approve", "/tickets/<ticket_id>/approve"),
        ("ticket-closed", "/tickets/<ticket_id>"),
        ("report", "/tickets/<ticket_id>/report"),
        ("units", "/store/equipment"),
        ("unit", "/equipment/<unit_id>"),
        ("notifications", "/notifications"),
        ("profile", "/profile"),
    ],
}


def _html_get_rules(app) -> set[str]:
    return {r.rule for r in app.url_map.iter_rules()
            if "GET" in r.methods and r.endpoint != "static" and not r.rule.startswith("/api/")}


def test_every_html_get_route_is_visited(live_app):
    """A GET route that is neither visited below nor named in NOT_PAGES fails here."""
    visited = {rule for pages in ROLE_PAGES.values() for _, rule in pages}
    rules = _html_get_rules(live_app)
    assert rules - visited - set(NOT_PAGES) == set(), "add the new page to ROLE_PAGES (or say why not in NOT_PAGES)"
    assert (visited | set(NOT_PAGES)) - rules == set(), "a listed route no longer exists"


@dataclass
class Demo:
    emails: dict  # role -> email
    urls: dict  # role -> {page name: path}
    password: str


def _pick_ids(live) -> Demo:
    """Real ids from the demo world for every page in ROLE_PAGES."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import (
        ApprovalStatus,
        CustomerBranch,
        IssueSubcategory,
        Role,
        ServiceCompletion,
        ServiceTicket,
        Technician,
        TicketStatus,
        User,
        user_branches,
    )

    S = TicketStatus
    with live.ctx():
        def one(*where, order=ServiceTicket.created_at.desc()):
            return db.session.execute(select(ServiceTicket.id).where(*where).order_by(order).limit(1)).scalar()

        rejected = select(ServiceCompletion.ticket_id).where(
            ServiceCompletion.approval_status == ApprovalStatus.REJECTED)
        pending = select(ServiceCompletion.ticket_id).where(ServiceCompletion.approval_status == ApprovalStatus.PENDING)
        by_status = {s: one(ServiceTicket.status == s) for s in S}
        sent_back = one(ServiceTicket.status == S.IN_PROGRESS, ServiceTicket.id.in_(rejected)) or by_status[S.IN_PROGRESS]
        completed = one(ServiceTicket.status == S.COMPLETED, ServiceTicket.id.in_(pending))
        closed_done = one(ServiceTicket.status == S.CLOSED, ServiceTicket.completed_at.is_not(None))
        sub = db.session.execute(select(IssueSubcategory).limit(1)).scalar_one()
        branch = db.session.execute(select(CustomerBranch.id).limit(1)).scalar()
        technician = db.session.execute(select(Technician.id).limit(1)).scalar()

        # The technician with the most open tickets, one in each of their statuses.
        tech_id = db.session.execute(
            select(ServiceTicket.assigned_technician_id)
            .where(ServiceTicket.status.in_((S.ASSIGNED, S.IN_PROGRESS)))
            .group_by(ServiceTicket.assigned_technician_id).order_by(func.count().desc()).limit(1)).scalar()
        tech = db.session.execute(select(User).where(User.technician_id == tech_id)).scalar_one()
        mine = ServiceTicket.assigned_technician_id == tech_id
        t_assigned = one(mine, ServiceTicket.status == S.ASSIGNED) or one(mine, ServiceTicket.status == S.IN_PROGRESS)
        t_progress = one(mine, ServiceTicket.status == S.IN_PROGRESS)
        t_completed = one(mine, ServiceTicket.status == S.COMPLETED) or one(mine, ServiceTicket.status == S.CLOSED)
        t_closed = one(mine, ServiceTicket.status == S.CLOSED)

        # The store manager of the branch with work waiting for approval.
        completed_branch = db.session.execute(select(ServiceTicket.branch_id).where(ServiceTicket.id == completed)).scalar()
        manager = db.session.execute(
            select(User).join(user_branches, user_branches.c.user_id == User.id)
            .where(User.role == Role.STORE_MANAGER, user_branches.c.branch_id == completed_branch).limit(1)).scalar_one()
        here = ServiceTicket.branch_id == completed_branch
        m_open = one(here, ServiceTicket.status.in_((S.NEW, S.ASSIGNED, S.IN_PROGRESS))) or t_progress
        m_closed = one(here, ServiceTicket.status == S.CLOSED, ServiceTicket.completed_at.is_not(None))
        admin = db.session.execute(select(User.email).where(User.role == Role.ADMIN).limit(1)).scalar()
        dispatcher = db.session.execute(select(User.email).where(User.role == Role.DISPATCHER).limit(1)).scalar()
        assert all((by_status[S.NEW], by_status[S.ASSIGNED], completed, closed_done, t_progress, m_closed)), \
            "the demo has a ticket in every status"

        tickets = {
            "ticket-new": by_status[S.NEW], "ticket-assigned": by_status[S.ASSIGNED],
            "ticket-in-progress": by_status[S.IN_PROGRESS], "ticket-sent-back": sent_back,
            "ticket-completed": completed, "ticket-closed": closed_done, "report": closed_done,
            "approve": completed,
        }
        per_role = {
            "dispatcher": tickets,
            "admin": tickets,
            "technician": {"ticket-assigned": t_assigned, "ticket-in-progress": t_progress, "complete": t_progress,
                           "ticket-completed": t_completed, "ticket-closed": t_closed or t_completed},
            "store_manager": {"ticket-open": m_open, "ticket-completed": completed, "approve": completed,
                              "ticket-closed": m_closed, "report": m_closed},
        }
        # The unit with most tickets (the dispatcher's), and the store manager's busiest unit.
        def busiest_unit(*where):
            return db.session.execute(
                select(ServiceTicket.equipment_id).where(ServiceTicket.equipment_id.is_not(None), *where)
                .group_by(ServiceTicket.equipment_id).order_by(func.count().desc()).limit(1)).scalar()

        units = {"dispatcher": busiest_unit(), "admin": busiest_unit(), "store_manager": busiest_unit(here)}
        assert all(units.values()), "the demo links tickets to units"
        ids = {"technician_id": technician, "branch_id": branch, "category_id": sub.category_id,
               "subcategory_id": sub.id, "token": _report_token(branch, dispatcher),
               "calendar_id": _calendar(dispatcher)}
        urls = {}
        for role, pages in ROLE_PAGES.items():
            urls[role] = {}
            for name, rule in pages:
                path = rule.replace("<ticket_id>", per_role.get(role, {}).get(name) or "")
                path = path.replace("<unit_id>", units.get(role) or "")
                for key, value in ids.items():
                    path = path.replace(f"<{key}>", value)
                assert "<" not in path and "//" not in path, (role, name, path)
                urls[role][name] = path
        emails = {"dispatcher": dispatcher, "admin": admin, "technician": tech.email, "store_manager": manager.email}
    return Demo(emails=emails, urls=urls, password=live.app.config.get("DEMO_PASSWORD") or "evercold")


def _report_token(branch_id: str, dispatcher_email: str) -> str:
    """A unit's report token for /r/<token>: the demo's first unit, or one made for the
    page when the demo has no units."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Equipment, User
    from app.services import equipment

    token = db.session.execute(select(Equipment.report_token).where(Equipment.is_active.is_(True))
                               .order_by(Equipment.asset_tag).limit(1)).scalar()
    if token is None:
        dispatcher = db.session.execute(select(User).where(User.email == dispatcher_email)).scalar_one()
        token = equipment.create_unit(dispatcher, {"branchId": branch_id, "assetTag": "AXE-001", "kind": "COLD_ROOM",
                                                   "name": "Cold room 1"}).report_token
        db.session.commit()
    return token


def _calendar(dispatcher_email: str) -> str:
    """A working calendar for /dispatcher/calendars/<id>: the demo's first, or one made
    for the page (with a branch on it) when the demo has none."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import CustomerBranch, User, WorkingCalendar
    from app.services import calendar_admin

    found = db.session.execute(select(WorkingCalendar.id).order_by(WorkingCalendar.name).limit(1)).scalar()
    if found is None:
        dispatcher = db.session.execute(select(User).where(User.email == dispatcher_email)).scalar_one()
        cal = calendar_admin.create_calendar({
            "name": "Company week", "timezone": "Asia/Tashkent", "country": "UZ", "holidays": ["2026-12-08"],
            "week": {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}}, dispatcher)
        branch = db.session.execute(select(CustomerBranch).order_by(CustomerBranch.branch_code).limit(1)).scalar_one()
        calendar_admin.set_branch_calendar(branch, cal.id, dispatcher)
        db.session.commit()
        found = cal.id
    return found


@pytest.fixture(scope="module")
def demo(live_server):
    from app.demo import load_demo
    from app.extensions import db
    from tests.conftest import empty_database

    empty_database(live_server.app)
    with live_server.ctx():
        load_demo()
        db.session.commit()
    yield _pick_ids(live_server)
    empty_database(live_server.app)


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"{email} could not sign in"


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_no_serious_or_critical_axe_violation_on_any_page(role, demo, live_server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for size, viewport in SIZES:
        context = browser.new_context(viewport=viewport, bypass_csp=True, has_touch=viewport is PHONE)
        try:
            page = context.new_page()
            if role != "signed_out":
                _sign_in(page, live_server.url, demo.emails[role], demo.password)
            for name, path in demo.urls[role].items():
                response = page.goto(f"{live_server.url}{path}")
                assert response.status == 200, (role, name, path, response.status)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(SHOTS / f"{role}-{name}-{size}.png"), full_page=True)
                violations = axe_violations(page)
                if violations:
                    found[f"{role} {name} {size} ({path})"] = violations
        finally:
            context.close()
    assert found == {}, "\n".join(f"{where}:\n  " + "\n  ".join(v) for where, v in found.items())
