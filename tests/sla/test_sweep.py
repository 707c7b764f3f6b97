"""The escalation sweep, with a moved clock: who gets the ticket, who hears what, once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import (
    Notification,
    NotificationChannel,
    SLA_DEFAULTS,
    TechnicianBranchAssignment,
    TechnicianStatus,
    TicketAssignee,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from app.services import assignment, sla, sla_clock, tickets
from tests.factories import make_branch, make_ticket

from .conftest import T0, count_statements

RESPONSE_MINUTES = {p: SLA_DEFAULTS[f"sla_response_{p.value.lower()}"] for p in TicketPriority}
RESOLUTION_MINUTES = {p: SLA_DEFAULTS[f"sla_resolution_{p.value.lower()}"] for p in TicketPriority}


def inbox(kind: str) -> dict[str, int]:
    """In-app rows of one kind, counted per recipient email."""
    from app.models import User

    rows = db.session.execute(
        select(User.email).join(Notification, Notification.user_id == User.id)
        .where(Notification.kind == kind, Notification.channel == NotificationChannel.IN_APP)
    ).scalars()
    out: dict[str, int] = {}
    for email in rows:
        out[email] = out.get(email, 0) + 1
    return out


def timeline(ticket, kind: str) -> list[TicketEvent]:
    return list(db.session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
        .order_by(TicketEvent.at)).scalars())


def set_status(technician, status: TechnicianStatus) -> None:
    technician.status = status
    db.session.commit()


def new_ticket(world, **kw):
    ticket = make_ticket(world, **kw)
    db.session.commit()
    return ticket


DISPATCHERS = {"dispatcher@example.com": 1, "dispatcher2@example.com": 1}


# --- the response boundary, for each priority ------------------------------------------

@pytest.mark.parametrize("priority", list(TicketPriority))
def test_unanswered_ticket_goes_to_the_secondary_only_once_its_response_time_has_passed(world, at, sweep, priority):
    at()
    ticket = new_ticket(world, priority=priority)
    due = RESPONSE_MINUTES[priority]
    assert ticket.response_due_at == T0 + timedelta(minutes=due)

    at(minutes=due, seconds=-1)
    assert sweep().escalated == []
    at(minutes=due)
    assert sweep().escalated == []
    assert ticket.assigned_technician_id == world.primary.id and ticket.escalation_level == 0
    assert not sla_clock.response_breached(ticket)

    at(minutes=due, seconds=1)
    result = sweep()
    assert result.escalated == [ticket.ticket_number]
    assert ticket.status == TicketStatus.ASSIGNED
    assert ticket.assigned_technician_id == world.secondary.id
    assert ticket.escalation_level == 1 and ticket.escalated_at == T0 + timedelta(minutes=due, seconds=1)
    assert sla_clock.response_breached(ticket)
    [escalated] = timeline(ticket, "escalated")
    assert escalated.data["technicianId"] == world.secondary.id
    assert escalated.data["previousTechnicianId"] == world.primary.id
    # Both technicians keep reading it; everybody concerned hears about it once.
    assert db.session.get(TicketAssignee, (ticket.id, world.secondary.id)) is not None
    assert db.session.get(TicketAssignee, (ticket.id, world.primary.id)) is not None
    assert inbox("ticket_escalated") == {"tech@example.com": 1, "tech2@example.com": 1, **DISPATCHERS}
    body = db.session.execute(select(Notification.body).where(Notification.kind == "ticket_escalated")).scalar()
    assert ticket.ticket_number in body and "Freshmart Central" in body and "Sardor Secondary" in body

    version = ticket.version
    at(minutes=due, seconds=2)
    assert sweep().escalated == []
    assert inbox("ticket_escalated") == {"tech@example.com": 1, "tech2@example.com": 1, **DISPATCHERS}
    assert ticket.version == version and len(timeline(ticket, "escalated")) == 1


def test_the_secondary_can_open_the_escalated_ticket_through_the_api(world, at, sweep, api):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    at(minutes=61)
    sweep()
    r = api.as_(world.tech2).get(f"/api/tickets/{ticket.id}")
    assert r.status_code == 200
    assert r.json["escalationLevel"] == 1 and r.json["responseBreached"] is True
    assert api.as_(world.tech2).post(f"/api/tickets/{ticket.id}/accept").status_code == 200


# --- no eligible secondary -------------------------------------------------------------

@pytest.mark.parametrize("status", [TechnicianStatus.ON_LEAVE, TechnicianStatus.INACTIVE])
def test_secondary_who_is_away_does_not_get_the_ticket_and_dispatchers_are_told_once(world, at, sweep, status):
    at()
    ticket = new_ticket(world, priority=TicketPriority.HIGH)
    set_status(world.secondary, status)

    at(minutes=241)
    result = sweep()
    assert result.escalated == [] and result.no_secondary == [ticket.ticket_number]
    assert ticket.assigned_technician_id == world.primary.id
    assert ticket.escalation_level == 1
    assert inbox("sla_no_secondary") == DISPATCHERS
    assert "on leave" in db.session.execute(
        select(Notification.body).where(Notification.kind == "sla_no_secondary")).scalars().first() \
        or status == TechnicianStatus.INACTIVE
    [stayed] = timeline(ticket, "escalation_no_secondary")
    assert stayed.data["reason"] == status.value

    # Nobody is alerted again every minute.
    at(minutes=242)
    sweep()
    at(minutes=300)
    sweep()
    assert inbox("sla_no_secondary") == DISPATCHERS
    assert inbox("ticket_escalated") == {}


def test_branch_without_a_secondary_keeps_the_ticket_and_alerts_dispatchers(world, at, sweep):
    at()
    [current] = [a for a in assignment.current_assignments(world.branch.id).values() if not a.is_primary]
    assignment.end_assignment(current.id)
    db.session.commit()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)

    at(minutes=61)
    result = sweep()
    assert result.no_secondary == [ticket.ticket_number] and result.alerts == 1
    assert ticket.assigned_technician_id == world.primary.id and ticket.escalation_level == 1
    assert timeline(ticket, "escalation_no_secondary")[0].data["reason"] == "none"
    assert inbox("sla_no_secondary") == DISPATCHERS


def test_ticket_held_by_the_branch_secondary_is_not_escalated_to_the_same_person(world, at, sweep):
    at()
    set_status(world.primary, TechnicianStatus.ON_LEAVE)
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)  # the secondary gets it at creation
    assert ticket.assigned_technician_id == world.secondary.id

    at(minutes=61)
    result = sweep()
    assert result.escalated == [] and result.no_secondary == [ticket.ticket_number]
    assert ticket.assigned_technician_id == world.secondary.id and ticket.escalation_level == 1
    assert timeline(ticket, "escalation_no_secondary")[0].data["reason"] == "same_technician"
    assert inbox("ticket_escalated") == {}


def test_technician_recorded_as_both_primary_and_secondary_is_not_escalated_to_themself(world, at, sweep):
    at()
    # Territory rows as the old system could hold them: one person in both roles.
    for a in assignment.current_assignments(world.branch.id).values():
        a.end_date = T0
    db.session.flush()
    db.session.add_all([
        TechnicianBranchAssignment(technician_id=world.primary.id, branch_id=world.branch.id, is_primary=True),
        TechnicianBranchAssignment(technician_id=world.primary.id, branch_id=world.branch.id, is_primary=False),
    ])
    db.session.commit()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    assert ticket.assigned_technician_id == world.primary.id

    at(minutes=61)
    assert sweep().no_secondary == [ticket.ticket_number]
    assert ticket.assigned_technician_id == world.primary.id
    assert timeline(ticket, "escalation_no_secondary")[0].data["reason"] == "same_technician"


# --- responses -------------------------------------------------------------------------

def test_ticket_accepted_exactly_at_its_response_due_time_is_met_and_never_escalated(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    at(minutes=60)
    tickets.accept(ticket, world.tech)
    db.session.commit()

    at(minutes=60, seconds=1)
    assert sweep().escalated == []
    at(days=3)
    sweep()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert ticket.assigned_technician_id == world.primary.id and ticket.escalation_level == 0
    assert not sla_clock.response_breached(ticket)
    assert inbox("ticket_escalated") == {} and inbox("sla_response_level2") == {}


def test_declined_ticket_reassigned_by_a_dispatcher_is_escalated_from_its_new_technician(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.HIGH)
    set_status(world.secondary, TechnicianStatus.ON_LEAVE)
    at(minutes=10)
    tickets.decline(ticket, "Van broke down", world.tech)
    db.session.commit()
    assert ticket.status == TicketStatus.NEW
    at(minutes=20)
    tickets.assign(ticket, world.outsider.id, world.dispatcher)
    db.session.commit()
    set_status(world.secondary, TechnicianStatus.ACTIVE)  # back from leave

    at(minutes=241)
    assert sweep().escalated == [ticket.ticket_number]
    assert ticket.assigned_technician_id == world.secondary.id
    [escalated] = timeline(ticket, "escalated")
    assert escalated.data["previousTechnicianId"] == world.outsider.id
    assert inbox("ticket_escalated") == {"outsider@example.com": 1, "tech2@example.com": 1, **DISPATCHERS}
    # Everyone it passed through may still read it.
    assignees = set(db.session.execute(
        select(TicketAssignee.technician_id).where(TicketAssignee.ticket_id == ticket.id)).scalars())
    assert assignees == {world.primary.id, world.outsider.id, world.secondary.id}


def test_level_two_alerts_dispatchers_once_when_the_secondary_does_not_answer_either(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    at(minutes=61)
    sweep()
    assert ticket.escalation_level == 1

    # One more response window (60 min) after the escalation.
    at(minutes=121)
    assert sweep().level2 == []
    at(minutes=121, seconds=1)
    assert sweep().level2 == [ticket.ticket_number]
    assert ticket.escalation_level == 2 and ticket.assigned_technician_id == world.secondary.id
    assert inbox("sla_response_level2") == DISPATCHERS
    assert len(timeline(ticket, "escalation_level2")) == 1

    at(days=2)
    sweep()
    assert inbox("sla_response_level2") == DISPATCHERS and ticket.escalation_level == 2


def test_answered_escalated_ticket_never_reaches_level_two(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    at(minutes=61)
    sweep()
    at(minutes=90)
    tickets.accept(ticket, world.tech2)
    db.session.commit()
    at(minutes=200)
    assert sweep().level2 == []
    assert ticket.escalation_level == 1 and inbox("sla_response_level2") == {}


def test_priority_raised_after_creation_escalates_on_the_new_response_time(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.NORMAL)
    at(minutes=30)
    tickets.change_priority(ticket, TicketPriority.CRITICAL, world.dispatcher)
    db.session.commit()
    assert ticket.response_due_at == T0 + timedelta(minutes=60)

    at(minutes=60)
    assert sweep().escalated == []
    at(minutes=60, seconds=1)
    assert sweep().escalated == [ticket.ticket_number]


def test_subcategory_minutes_edited_later_do_not_move_an_existing_ticket(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    world.subcategory.sla_response_critical = 600
    db.session.commit()
    at(minutes=61)
    assert sweep().escalated == [ticket.ticket_number]


# --- NEW tickets, resolution, warnings -------------------------------------------------

def test_unassigned_ticket_past_its_response_time_alerts_dispatchers_once(world, at, sweep):
    at()
    set_status(world.primary, TechnicianStatus.ON_LEAVE)
    set_status(world.secondary, TechnicianStatus.ON_LEAVE)
    ticket = new_ticket(world, priority=TicketPriority.HIGH)
    assert ticket.status == TicketStatus.NEW

    at(minutes=240)
    assert sweep().new_overdue == []
    at(minutes=240, seconds=1)
    assert sweep().new_overdue == [ticket.ticket_number]
    assert inbox("sla_new_overdue") == DISPATCHERS
    assert ticket.escalation_level == 0 and ticket.status == TicketStatus.NEW
    at(minutes=300)
    sweep()
    assert inbox("sla_new_overdue") == DISPATCHERS


@pytest.mark.parametrize("priority", list(TicketPriority))
def test_open_ticket_past_its_resolution_time_alerts_dispatchers_once(world, at, sweep, priority):
    at()
    ticket = new_ticket(world, priority=priority)
    at(minutes=1)
    tickets.accept(ticket, world.tech)
    db.session.commit()
    due = RESOLUTION_MINUTES[priority]

    at(minutes=due, seconds=-1)
    assert sweep().resolution_overdue == []
    at(minutes=due)
    assert sweep().resolution_overdue == []
    assert not sla_clock.resolution_breached(ticket)
    at(minutes=due, seconds=1)
    assert sweep().resolution_overdue == [ticket.ticket_number]
    assert sla_clock.resolution_breached(ticket)
    assert inbox("sla_resolution_overdue") == DISPATCHERS
    at(minutes=due + 30)
    sweep()
    assert inbox("sla_resolution_overdue") == DISPATCHERS


def test_closed_ticket_is_left_alone(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    tickets.close_without_completion(ticket, "Duplicate", world.dispatcher)
    db.session.commit()
    at(days=5)
    result = sweep()
    assert result.alerts == 0 and ticket.escalation_level == 0


def test_technician_is_warned_once_when_three_quarters_of_the_response_window_is_gone(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)  # 60 minutes: warned at 45
    at(minutes=45, seconds=-1)
    assert sweep().warned == []
    at(minutes=45)
    assert sweep().warned == [ticket.ticket_number]
    assert inbox("sla_response_warning") == {"tech@example.com": 1}
    assert ticket.response_warned_at == T0 + timedelta(minutes=45)
    at(minutes=50)
    sweep()
    assert inbox("sla_response_warning") == {"tech@example.com": 1}


def test_dispatchers_are_warned_about_an_unassigned_ticket_before_it_is_due(world, at, sweep):
    at()
    set_status(world.primary, TechnicianStatus.INACTIVE)
    set_status(world.secondary, TechnicianStatus.INACTIVE)
    ticket = new_ticket(world, priority=TicketPriority.HIGH)  # 240 minutes: warned at 180
    at(minutes=180)
    assert sweep().warned == [ticket.ticket_number]
    assert inbox("sla_response_warning_new") == DISPATCHERS
    assert inbox("sla_response_warning") == {}


def test_warning_fraction_is_a_setting(app, world, at, sweep, monkeypatch):
    monkeypatch.setitem(app.config, "SLA_WARNING_FRACTION", 0.5)
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    at(minutes=29, seconds=59)
    assert sweep().warned == []
    at(minutes=30)
    assert sweep().warned == [ticket.ticket_number]


def test_late_sweep_skips_the_warning_and_escalates(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    at(hours=5)  # the worker was down: no "due soon" for a ticket already overdue
    result = sweep()
    assert result.warned == [] and result.escalated == [ticket.ticket_number]
    assert result.resolution_overdue == [ticket.ticket_number]
    assert inbox("sla_response_warning") == {}


def test_accepted_ticket_is_not_warned(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    at(minutes=5)
    tickets.accept(ticket, world.tech)
    db.session.commit()
    at(minutes=50)
    assert sweep().alerts == 0


def test_stale_copy_of_an_escalated_ticket_cannot_overwrite_it(world, at, sweep, app):
    """The sweep bumps the version: a writer holding the old one gets a conflict."""
    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)
    version = ticket.version
    at(minutes=61)
    sweep()
    assert ticket.version == version + 1
    with pytest.raises(tickets.Conflict):
        tickets.patch(ticket, {"version": version, "internalNotes": "late edit"}, world.dispatcher)


# --- set-based: the same statements for 10 tickets or 200 ------------------------------

def _mixed_backlog(world, n: int) -> tuple[int, int, int]:
    """n CRITICAL tickets created now, in three branches: some that escalate, some
    nobody has (NEW), some whose secondary is away. Returns the three group sizes."""
    from tests.factories import make_technician

    away = make_branch(world.customer, f"FM-A{n}", "Freshmart Away")
    make_technician(f"Away Primary {n}", "+998900000071", primary_of=away)
    make_technician(f"Away Secondary {n}", "+998900000072", status=TechnicianStatus.ON_LEAVE, secondary_of=away)
    empty = make_branch(world.customer, f"FM-E{n}", "Freshmart Empty")
    db.session.commit()
    sizes = (n - 2 * (n // 5), n // 5, n // 5)
    for branch, size in zip((world.branch, empty, away), sizes):
        for _ in range(size):
            make_ticket(world, branch=branch, priority=TicketPriority.CRITICAL)
    db.session.commit()
    return sizes


def test_sweep_sends_the_same_statements_for_10_tickets_as_for_200(app, world, at, sweep, monkeypatch):
    monkeypatch.setitem(app.config, "SLA_DIGEST_THRESHOLD", 1000)  # per-ticket alerts throughout
    monkeypatch.setitem(app.config, "SLA_TECHNICIAN_DIGEST_THRESHOLD", 1000)
    counts = {}
    escalations = 0
    for n, start in ((10, 0), (200, 86400)):
        at(seconds=start)
        escalating, unassigned, away = _mixed_backlog(world, n)
        escalations += escalating
        counts[n] = []
        # Warnings; then escalation, no secondary, NEW overdue; then level 2 and resolution.
        for minutes in (46, 61, 241):
            at(seconds=start, minutes=minutes)
            with count_statements() as statements:
                result = sweep()
            counts[n].append(len(statements))
            if minutes == 46:
                assert len(result.warned) == n
            elif minutes == 61:
                assert (len(result.escalated), len(result.new_overdue), len(result.no_secondary)) == \
                    (escalating, unassigned, away)
            else:
                assert (len(result.level2), len(result.resolution_overdue)) == (escalating + away, n)
    assert counts[10] == counts[200], counts
    assert max(counts[200]) <= 14
    assert sum(inbox("ticket_escalated").values()) == 4 * escalations


# --- a ticket changed between the sweep's choice and its write -------------------------

def test_ticket_accepted_while_the_sweep_runs_is_left_alone(world, at, sweep):
    """The sweep stages its tickets, then writes them only where the version is still
    the staged one: a ticket the technician accepted in between (here: right after the
    staging statement, on the same connection) keeps its technician, and nobody is told
    it was escalated."""
    at()
    accepted, late = new_ticket(world), new_ticket(world)
    at(minutes=RESPONSE_MINUTES[TicketPriority.NORMAL] + 1)
    accepted_at = T0 + timedelta(minutes=RESPONSE_MINUTES[TicketPriority.NORMAL])

    def accept_in_between(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO sla_sweep_stage"):
            conn.exec_driver_sql(
                "UPDATE service_tickets SET status = 'IN_PROGRESS', first_response_at = ?, version = version + 1 "
                "WHERE id = ?" if conn.dialect.name == "sqlite" else
                "UPDATE service_tickets SET status = 'IN_PROGRESS', first_response_at = %s, version = version + 1 "
                "WHERE id = %s", (accepted_at.replace(tzinfo=None), accepted.id))

    event.listen(db.engine, "after_cursor_execute", accept_in_between)
    try:
        result = sweep()
    finally:
        event.remove(db.engine, "after_cursor_execute", accept_in_between)

    assert result.escalated == [late.ticket_number]
    db.session.refresh(accepted)
    db.session.refresh(late)
    assert accepted.assigned_technician_id == world.primary.id and accepted.escalation_level == 0
    assert timeline(accepted, "escalated") == []
    assert late.assigned_technician_id == world.secondary.id
    assert [n.ticket_id for n in db.session.execute(select(Notification).where(
        Notification.kind == "ticket_escalated", Notification.ticket_id.is_not(None))).scalars()
            ].count(accepted.id) == 0


def test_idle_sweep_stops_after_finding_nothing(world, at, sweep):
    at()
    new_ticket(world)
    at(minutes=1)
    with count_statements() as statements:
        result = sweep()
    assert result.escalated == [] and result.alerts == 0
    assert not any(s.lstrip().upper().startswith(("UPDATE", "DELETE FROM SERVICE", "INSERT INTO TICKET"))
                   for s in statements)


def test_two_sweeps_in_one_transaction_each_see_only_their_own_tickets(world, at):
    """`flask demo` sweeps several moments of its made-up quarter before one commit."""
    at()
    first = new_ticket(world)
    at(minutes=RESPONSE_MINUTES[TicketPriority.NORMAL] + 1)
    second = new_ticket(world)
    assert sla.escalate_overdue().escalated == [first.ticket_number]
    later = T0 + timedelta(minutes=2 * RESPONSE_MINUTES[TicketPriority.NORMAL] + 2)
    assert sla.escalate_overdue(later).escalated == [second.ticket_number]
    db.session.commit()
    assert len(timeline(first, "escalated")) == 1 and len(timeline(second, "escalated")) == 1


# --- failure half-way -------------------------------------------------------------------

def test_sweep_that_fails_half_way_leaves_every_ticket_untouched(world, at, sweep):
    at()
    batch = [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(5)]
    at(minutes=61)

    def fail_on_outbox(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
            raise RuntimeError("the disk is full")

    event.listen(db.engine, "before_cursor_execute", fail_on_outbox)
    try:
        with pytest.raises(RuntimeError):
            sweep()
    finally:
        event.remove(db.engine, "before_cursor_execute", fail_on_outbox)
    db.session.rollback()
    for ticket in batch:
        assert ticket.assigned_technician_id == world.primary.id and ticket.escalation_level == 0
        assert timeline(ticket, "escalated") == []
    assert db.session.execute(select(TicketAssignee).where(
        TicketAssignee.technician_id == world.secondary.id)).first() is None

    result = sweep()
    assert sorted(result.escalated) == sorted(t.ticket_number for t in batch)
