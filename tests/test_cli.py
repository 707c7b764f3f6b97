"""The command line: `flask seed`, `flask demo`, `flask users create` and `flask users set-password`."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    SLA_DEFAULTS,
    ApprovalStatus,
    Customer,
    CustomerBranch,
    IssueCategory,
    IssueSubcategory,
    Notification,
    PauseReason,
    Role,
    ServiceCompletion,
    ServiceTicket,
    Technician,
    TechnicianBranchAssignment,
    TechnicianStatus,
    TicketEvent,
    TicketPause,
    TicketStatus,
    User,
    WorkingCalendar,
)
from app.services import users

NOW = "2026-11-24T09:30:00Z"


@pytest.fixture
def cli(app, ctx):
    """Invoke a `flask ...` command inside the test's app context; returns the result."""
    runner = app.test_cli_runner()

    def _invoke(*args):
        result = runner.invoke(args=list(args))
        db.session.expire_all()
        return result

    return _invoke


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _sla_table():
    rows = db.session.execute(select(IssueSubcategory).order_by(IssueSubcategory.name)).scalars()
    return {s.name: (s.id, {k: getattr(s, k) for k in SLA_DEFAULTS}) for s in rows}


# --- seed -------------------------------------------------------------------------

def test_seed_loads_the_plans_category_with_six_subcategories_and_sla_minutes(cli):
    result = cli("seed")
    assert result.exit_code == 0, result.output
    categories = {c.name: c for c in db.session.execute(select(IssueCategory)).scalars()}
    assert set(categories) == {"Cooling Equipment Problems", "Refrigerant"}  # the logbook's own (issue 18)
    table = _sla_table()
    plans = {name for name, (sub_id, _) in table.items()
             if db.session.get(IssueSubcategory, sub_id).category_id == categories["Cooling Equipment Problems"].id}
    assert plans == {"Cold Chambers", "Glass Repair", "Temperature Control", "Leaking Water",
                     "Equipment Not Working", "Noise/Vibration"}  # exactly the plan's six
    assert set(table) == plans | {"Refrigerant Leak"}
    for _, minutes in table.values():
        assert minutes == {
            "sla_response_critical": 60, "sla_response_high": 240, "sla_response_normal": 1440,
            "sla_response_low": 2880, "sla_resolution_critical": 240, "sla_resolution_high": 1440,
            "sla_resolution_normal": 2880, "sla_resolution_low": 4320,
        }


def test_seed_twice_changes_nothing(cli):
    assert cli("seed").exit_code == 0
    before = _sla_table()
    result = cli("seed")
    assert result.exit_code == 0, result.output
    assert _count(IssueCategory) == 2
    assert _sla_table() == before  # same rows (ids) with the same minutes


# --- demo -------------------------------------------------------------------------

def test_demo_fills_an_empty_database_once_with_a_believable_quarter(cli, freeze):
    from app.demo import DEMO_LOGINS

    now = freeze(NOW)
    result = cli("demo")
    assert result.exit_code == 0, result.output

    # Logins and the shared password are printed.
    assert "password for all: evercold" in result.output
    for role, email in DEMO_LOGINS:
        assert re.search(rf"{role}\s+{re.escape(email)}", result.output)
    # Some demo users read Russian, some Uzbek: printed next to their login, and kept on them.
    assert re.search(r"timur@evercold\.example\s+ru \(Русский\)", result.output)
    assert re.search(r"sardor@evercold\.example\s+uz \(Oʻzbekcha\)", result.output)
    assert re.search(r"admin@evercold\.example\s+en \(English\)", result.output)
    locales = dict(db.session.execute(select(User.email, User.locale)).all())
    assert locales["timur@evercold.example"] == "ru" and locales["sardor@evercold.example"] == "uz"
    assert locales["dispatcher@evercold.example"] is None
    # Their store managers report faults in their own words (data, never translated), and
    # what they are told comes in their language.
    by_uz_manager = db.session.execute(select(ServiceTicket.description).join(User, User.id == ServiceTicket.created_by_id)
                                       .where(User.locale == "uz", User.role == Role.STORE_MANAGER)).scalars().all()
    by_ru_manager = db.session.execute(select(ServiceTicket.description).join(User, User.id == ServiceTicket.created_by_id)
                                       .where(User.locale == "ru", User.role == Role.STORE_MANAGER)).scalars().all()
    assert by_uz_manager and all(re.search(r"[a-z]", d) and not re.search(r"[а-я]", d) for d in by_uz_manager)
    assert any("ʻ" in d for d in by_uz_manager)
    assert by_ru_manager and all(re.search(r"[а-яё]", d) for d in by_ru_manager)
    timur = db.session.execute(select(User).where(User.email == "timur@evercold.example")).scalar_one()
    titles = db.session.execute(select(Notification.title).where(Notification.user_id == timur.id)).scalars().all()
    assert titles and all(re.search(r"[А-Яа-я]", t) for t in titles)

    assert _count(Customer) == 2
    branches = db.session.execute(select(CustomerBranch)).scalars().all()
    assert len(branches) == 12
    assert all(b.latitude and b.longitude and b.contact_person and b.phone for b in branches)

    techs = db.session.execute(select(Technician)).scalars().all()
    assert len(techs) == 6
    assert [t.status for t in techs].count(TechnicianStatus.ON_LEAVE) == 1
    current = db.session.execute(select(TechnicianBranchAssignment).where(
        TechnicianBranchAssignment.end_date.is_(None))).scalars().all()
    assert {a.technician_id for a in current if a.is_primary} == {t.id for t in techs}
    assert {a.technician_id for a in current if not a.is_primary} == {t.id for t in techs}

    roles = [u.role for u in db.session.execute(select(User)).scalars()]
    assert roles.count(Role.ADMIN) == 1 and roles.count(Role.DISPATCHER) == 2
    assert roles.count(Role.TECHNICIAN) == 6 and roles.count(Role.STORE_MANAGER) == 12
    admin = db.session.execute(select(User).where(User.role == Role.ADMIN)).scalar_one()
    assert admin.password_hash.startswith("$argon2") and "evercold" not in admin.password_hash
    assert users.authenticate(admin.email, "evercold").id == admin.id

    tickets = db.session.execute(select(ServiceTicket)).scalars().all()
    assert 180 <= len(tickets) <= 220
    assert {t.status for t in tickets} == set(TicketStatus)
    created = [t.created_at for t in tickets]
    assert min(created) >= now - timedelta(days=91) and max(created) <= now
    assert max(created) - min(created) > timedelta(days=80)
    assert len({t.ticket_number for t in tickets}) == len(tickets)
    assert all(re.fullmatch(r"TKT-\d{6}-\d{5}", t.ticket_number) for t in tickets)

    # SLA hits and misses, both kinds.
    responded = [t for t in tickets if t.first_response_at]
    assert any(t.first_response_at <= t.response_due_at for t in responded)
    assert any(t.first_response_at > t.response_due_at for t in responded)
    finished = [t for t in tickets if t.completed_at]
    assert any(t.completed_at <= t.resolution_due_at for t in finished)
    assert any(t.completed_at > t.resolution_due_at for t in finished)

    # Costs computed by the service; some work rejected before approval; a few escalations.
    done = db.session.execute(select(ServiceCompletion)).scalars().all()
    assert all(c.total_cost == c.parts_cost + c.labor_cost for c in done)
    assert sum((c.total_cost for c in done), Decimal(0)) > 0
    statuses = {c.approval_status for c in done}
    assert statuses == {ApprovalStatus.APPROVED, ApprovalStatus.REJECTED, ApprovalStatus.PENDING}
    kinds = dict(db.session.execute(select(TicketEvent.kind, func.count()).group_by(TicketEvent.kind)).all())
    for kind in ("created", "accepted", "arrived", "completed", "approved", "rejected", "declined", "closed"):
        assert kinds.get(kind), kind
    assert kinds.get("escalated", 0) + kinds.get("reassigned", 0) >= 3
    # Every ticket's timeline starts with its creation, at its creation time.
    first = dict(db.session.execute(
        select(TicketEvent.ticket_id, func.min(TicketEvent.at)).group_by(TicketEvent.ticket_id)).all())
    assert all(first[t.id] == t.created_at for t in tickets)

    # Working calendars and pauses (issue 19): the company week on every branch but one,
    # which works around the clock; paused work in progress, one of each reason at least,
    # and resumed pauses in the past (the pauses report has something to show).
    calendar = db.session.execute(select(WorkingCalendar)).scalar_one()
    assert (calendar.name, calendar.timezone, calendar.country) == ("Company week", "Asia/Tashkent", "UZ")
    assert calendar.week["sun"] == [] and all(calendar.week[d] == [["08:00", "20:00"]]
                                              for d in ("mon", "tue", "wed", "thu", "fri", "sat"))
    around_the_clock = [b.branch_code for b in branches if b.calendar_id is None]
    assert around_the_clock == ["PF-05"] and all(b.calendar_id == calendar.id for b in branches if b.calendar_id)
    paused = [t for t in tickets if t.paused_at is not None]
    assert all(t.status == TicketStatus.IN_PROGRESS and t.paused_at <= now for t in paused)
    assert {t.pause_reason for t in paused} == set(PauseReason)
    assert any(t.branch.calendar_id is None for t in paused)
    pauses = db.session.execute(select(TicketPause)).scalars().all()
    still_open = [p for p in pauses if p.resumed_at is None]
    assert sorted(p.ticket_id for p in still_open) == sorted(t.id for t in paused)
    resumed = [p for p in pauses if p.resumed_at is not None]
    assert len(resumed) >= 10 and all(p.paused_at < p.resumed_at <= now and p.wall_minutes > 0 for p in resumed)
    assert {p.reason for p in resumed} == set(PauseReason)
    assert all(p.technician_id and p.branch_id for p in pauses)
    # Each resume moved the due time by the pause's working minutes (none for a pause
    # that lay outside the branch's working hours): the ticket keeps their sum.
    for t in {p.ticket_id for p in resumed}:
        ticket = db.session.get(ServiceTicket, t)
        assert ticket.paused_minutes_total == sum(p.paused_minutes for p in resumed if p.ticket_id == t)

    # A second run refuses and changes nothing, but still tells you how to sign in.
    again = cli("demo")
    assert again.exit_code == 0, again.output
    assert "already has data" in again.output and "admin@evercold.example" in again.output
    assert _count(ServiceTicket) == len(tickets) and _count(User) == len(roles)


def test_demo_refuses_a_database_with_tickets_and_still_prints_the_logins(cli, world):
    from tests.factories import make_ticket

    make_ticket(world)
    db.session.commit()
    counts = (_count(ServiceTicket), _count(User), _count(Customer))

    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert "already has data" in result.output
    assert "admin@evercold.example" in result.output
    assert (_count(ServiceTicket), _count(User), _count(Customer)) == counts


def test_demo_refuses_a_database_with_users_unless_forced(cli, freeze):
    freeze(NOW)
    assert cli("users", "create", "--email", "boss@example.com", "--password", "long-enough-1",
               "--role", "admin").exit_code == 0

    result = cli("demo")
    assert "already has data" in result.output
    assert _count(ServiceTicket) == 0 and _count(Customer) == 0

    result = cli("demo", "--force")
    assert result.exit_code == 0, result.output
    assert _count(ServiceTicket) >= 180
    assert db.session.execute(select(User).where(User.email == "boss@example.com")).scalar_one().role == Role.ADMIN


# --- users create -----------------------------------------------------------------

def test_users_create_makes_an_admin_who_can_sign_in(cli):
    result = cli("users", "create", "--email", "Root@Example.com", "--password", "s3cret-enough",
                 "--role", "admin", "--name", "Root")
    assert result.exit_code == 0, result.output
    assert "Created admin root@example.com" in result.output
    user = users.authenticate("root@example.com", "s3cret-enough")
    assert user.name == "Root" and user.role == Role.ADMIN


def test_users_create_links_technicians_and_store_managers(cli):
    from tests.factories import make_branch, make_customer, make_technician

    tech = make_technician()
    branch = make_branch(make_customer())
    db.session.commit()
    r1 = cli("users", "create", "--email", "t@example.com", "--password", "password-123", "--role", "technician",
             "--technician-id", tech.id)
    r2 = cli("users", "create", "--email", "m@example.com", "--password", "password-123", "--role",
             "store_manager", "--branch-id", branch.id)
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    t_user = db.session.execute(select(User).where(User.email == "t@example.com")).scalar_one()
    m_user = db.session.execute(select(User).where(User.email == "m@example.com")).scalar_one()
    assert t_user.technician_id == tech.id
    assert [b.id for b in m_user.branches] == [branch.id]


@pytest.mark.parametrize("args, message", [
    (["--role", "admin", "--password", "short"], "password: At least 8 characters"),
    (["--role", "admin", "--password", "long-enough-1", "--email", "not-an-email"], "email: Enter a valid email"),
    (["--role", "technician", "--password", "long-enough-1"], "technicianId"),
    (["--role", "technician", "--password", "long-enough-1", "--technician-id", "nope"], "Unknown technician"),
    (["--role", "store_manager", "--password", "long-enough-1"], "branchIds"),
    (["--role", "store_manager", "--password", "long-enough-1", "--branch-id", "nope"], "Unknown branch"),
])
def test_users_create_explains_bad_input_and_writes_nothing(cli, args, message):
    if "--email" not in args:
        args = ["--email", "new@example.com", *args]
    result = cli("users", "create", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert _count(User) == 0


def test_users_create_refuses_a_duplicate_email(cli):
    assert cli("users", "create", "--email", "a@example.com", "--password", "long-enough-1",
               "--role", "dispatcher").exit_code == 0
    result = cli("users", "create", "--email", "A@example.com", "--password", "long-enough-2", "--role", "admin")
    assert result.exit_code == 1
    assert "already" in result.output.lower()
    assert _count(User) == 1


def test_users_create_refuses_an_unknown_role(cli):
    result = cli("users", "create", "--email", "a@example.com", "--password", "long-enough-1", "--role", "king")
    assert result.exit_code == 2
    assert "king" in result.output
    assert _count(User) == 0


# --- users set-password -------------------------------------------------------------

def test_users_set_password_gives_a_new_password_and_ends_sign_ins(app, cli):
    from tests.conftest import new_client, sign_in
    from tests.factories import PASSWORD, make_user

    user = make_user(Role.DISPATCHER, "d@example.com")
    token = users.issue_token(user)
    crm, crm_raw = users.create_service_token(user, {"name": "CRM"})
    db.session.commit()
    browser = sign_in(new_client(app), user)

    result = cli("users", "set-password", "--email", "D@Example.com", "--password", "brand-new-pass-1")
    assert result.exit_code == 0, result.output
    assert "d@example.com" in result.output and "ended" in result.output

    api = app.test_client()
    assert api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/users/me", headers={"Authorization": f"Bearer {crm_raw}"}).status_code == 200
    assert browser.get("/dispatcher/tickets").status_code == 302
    assert api.post("/api/auth/token", json={"email": "d@example.com", "password": PASSWORD}).status_code == 401
    assert api.post("/api/auth/token", json={"email": "d@example.com",
                                             "password": "brand-new-pass-1"}).status_code == 200


@pytest.mark.parametrize("args, message", [
    (["--email", "nobody@example.com", "--password", "brand-new-pass-1"], "No user has this email address"),
    (["--email", "d@example.com", "--password", "short"], "newPassword: At least 8 characters"),
    (["--email", "d@example.com", "--password", "d@example.com"], "must not be the email address"),
])
def test_users_set_password_explains_bad_input_and_changes_nothing(cli, args, message):
    from tests.factories import make_user

    user = make_user(Role.DISPATCHER, "d@example.com")
    db.session.commit()
    before = user.password_hash
    result = cli("users", "set-password", *args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert db.session.get(User, user.id).password_hash == before
