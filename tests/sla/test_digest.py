"""Digests and the set-based outbox: a sweep that raises more than SLA_DIGEST_THRESHOLD
alerts of one kind tells each dispatcher once (count, first ticket numbers, a link to
the board's overdue filter); more than SLA_TECHNICIAN_DIGEST_THRESHOLD for one
technician tells that technician once (a link to their queue). Below the thresholds
every alert goes out on its own, with the same text `notify()` would write."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, NotificationChannel, TicketPriority, User
from app.services import notifications

from .conftest import count_statements
from .test_sweep import DISPATCHERS, inbox, new_ticket

IN_APP = NotificationChannel.IN_APP


def rows_to(email: str, kind: str) -> list[Notification]:
    return list(db.session.execute(
        select(Notification).join(User, User.id == Notification.user_id)
        .where(User.email == email, Notification.kind == kind, Notification.channel == IN_APP)
        .order_by(Notification.title)).scalars())


@pytest.fixture
def threshold(app, monkeypatch):
    def _set(n: int):
        monkeypatch.setitem(app.config, "SLA_DIGEST_THRESHOLD", n)
    return _set


@pytest.fixture
def person_threshold(app, monkeypatch):
    def _set(n: int):
        monkeypatch.setitem(app.config, "SLA_TECHNICIAN_DIGEST_THRESHOLD", n)
    return _set


def test_more_escalations_than_the_threshold_reach_each_dispatcher_as_one_digest(world, at, sweep, threshold,
                                                                                  person_threshold):
    threshold(3)
    person_threshold(10)
    at()
    batch = [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(4)]
    at(minutes=61)
    result = sweep()

    assert sorted(result.escalated) == sorted(t.ticket_number for t in batch)
    # Technicians (under their own threshold): one message per ticket.
    assert inbox("ticket_escalated") == {**{e: 1 for e in DISPATCHERS}, "tech@example.com": 4, "tech2@example.com": 4}
    for email in DISPATCHERS:
        [digest] = rows_to(email, "ticket_escalated")
        assert digest.ticket_id is None
        assert digest.title == "4 tickets escalated"
        for ticket in batch:
            assert ticket.ticket_number in digest.body
        assert "http://testserver/dispatcher/tickets?overdue=true" in digest.body


def test_up_to_the_threshold_dispatchers_get_one_message_per_ticket(world, at, sweep, threshold):
    threshold(3)
    at()
    batch = [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(3)]
    at(minutes=61)
    sweep()

    for email in DISPATCHERS:
        rows = rows_to(email, "ticket_escalated")
        assert sorted(r.ticket_id for r in rows) == sorted(t.id for t in batch)


def test_a_long_digest_names_the_first_twenty_tickets_and_counts_the_rest(world, at, sweep, threshold):
    threshold(1)
    at()
    batch = [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(23)]
    at(minutes=61)
    sweep()

    [digest] = rows_to("dispatcher@example.com", "ticket_escalated")
    assert digest.title == "23 tickets escalated"
    named = [t.ticket_number for t in batch if t.ticket_number in digest.body]
    assert len(named) == 20 and "and 3 more." in digest.body


def test_each_kind_is_digested_on_its_own(world, at, sweep, threshold):
    """Escalations over the threshold become a digest; the one NEW ticket overdue in the
    same sweep still reaches the dispatchers on its own."""
    from tests.factories import make_branch

    threshold(2)
    at()
    [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(3)]
    lonely = make_branch(world.customer, "FM-L1", "Freshmart Lonely")
    db.session.commit()
    unassigned = new_ticket(world, branch=lonely, priority=TicketPriority.CRITICAL)
    at(minutes=61)
    result = sweep()

    assert result.new_overdue == [unassigned.ticket_number]
    [alert] = rows_to("dispatcher@example.com", "sla_new_overdue")
    assert alert.ticket_id == unassigned.id
    [digest] = rows_to("dispatcher@example.com", "ticket_escalated")
    assert digest.title == "3 tickets escalated"


def test_a_technician_with_more_escalations_than_their_threshold_gets_one_digest(world, at, sweep, threshold,
                                                                                  person_threshold):
    """After a backlog (the worker was down), the secondary does not get 4 Telegram
    messages and 4 SMS, one per ticket: one message that names the tickets and links to
    their queue; so does the primary whose tickets went away."""
    threshold(100)
    person_threshold(3)
    at()
    batch = [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(4)]
    at(minutes=61)
    result = sweep()

    assert sorted(result.escalated) == sorted(t.ticket_number for t in batch)
    [to_new] = rows_to("tech2@example.com", "ticket_escalated")
    assert to_new.ticket_id is None
    assert to_new.title == "4 tickets escalated to you"
    assert all(t.ticket_number in to_new.body for t in batch)
    assert "http://testserver/tech/dashboard" in to_new.body
    [to_previous] = rows_to("tech@example.com", "ticket_escalated")
    assert to_previous.title == "4 of your tickets escalated to another technician"
    # The dispatchers (under their threshold) still see each ticket.
    assert inbox("ticket_escalated") == {**{e: 4 for e in DISPATCHERS}, "tech@example.com": 1,
                                         "tech2@example.com": 1}


def test_opening_a_digest_leads_to_the_list_it_sums_up(app, world, at, sweep, threshold, person_threshold):
    from tests.factories import PASSWORD

    threshold(2)
    person_threshold(2)
    at()
    [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(3)]
    at(minutes=61)
    sweep()
    for email, where in (("dispatcher@example.com", "/dispatcher/tickets?overdue=true"),
                         ("tech2@example.com", "/tech/dashboard")):
        [digest] = rows_to(email, "ticket_escalated")
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        resp = client.post(f"/notifications/{digest.id}/open")
        assert resp.status_code == 302 and resp.headers["Location"] == where
        db.session.refresh(digest)
        assert digest.read_at is not None


def test_up_to_their_threshold_technicians_get_one_message_per_ticket(world, at, sweep, person_threshold):
    person_threshold(3)
    at()
    batch = [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(3)]
    at(minutes=61)
    sweep()

    rows = rows_to("tech2@example.com", "ticket_escalated")
    assert sorted(r.ticket_id for r in rows) == sorted(t.id for t in batch)
    assert {r.title for r in rows} == {f"Ticket {t.ticket_number} escalated" for t in batch}


def test_response_warnings_over_the_threshold_reach_the_technician_as_one_digest(world, at, sweep,
                                                                                 person_threshold):
    person_threshold(2)
    at()
    batch = [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(3)]
    at(minutes=46)  # three quarters of the 60-minute response window
    result = sweep()

    assert sorted(result.warned) == sorted(t.ticket_number for t in batch)
    [digest] = rows_to("tech@example.com", "sla_response_warning")
    assert digest.title == "3 tickets: response due soon" and digest.ticket_id is None


def test_digest_costs_no_extra_statement(world, at, threshold):
    from app.services import sla

    at()
    [new_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(4)]
    at(minutes=61)
    counts = []
    for limit in (100, 2):  # the same sweep, per-ticket then digested (rolled back in between)
        threshold(limit)
        with count_statements() as statements:
            sla.escalate_overdue()
        counts.append(len(statements))
        per_dispatcher = len(rows_to("dispatcher@example.com", "ticket_escalated"))
        db.session.rollback()
        assert per_dispatcher == (4 if limit == 100 else 1)
    assert counts[0] == counts[1]


def test_sweep_messages_have_the_text_notify_writes(world, at, sweep):
    at()
    ticket = new_ticket(world, priority=TicketPriority.HIGH)
    at(minutes=241)
    sweep()

    [to_new] = rows_to("tech2@example.com", "ticket_escalated")
    [to_dispatcher] = rows_to("dispatcher@example.com", "ticket_escalated")
    db.session.refresh(ticket)
    expected = notifications.ticket_text("ticket_escalated", ticket, {})
    assert to_new.body == expected and to_dispatcher.body == expected
    assert to_new.title == f"Ticket {ticket.ticket_number} escalated"
    assert len(to_new.id) == 32 and to_new.id != to_dispatcher.id


def test_sweep_events_carry_their_details_on_the_timeline(world, at, sweep):
    """The events are written by the database in one statement: each kind keeps its details."""
    from tests.factories import make_branch

    from .test_sweep import timeline

    at()
    ticket = new_ticket(world, priority=TicketPriority.CRITICAL)  # response due after 60 min
    lonely = make_branch(world.customer, "FM-L2", "Freshmart Lonely")
    db.session.commit()
    unassigned = new_ticket(world, branch=lonely, priority=TicketPriority.CRITICAL)
    at(minutes=46)
    sweep()
    [warning] = timeline(ticket, "sla_response_warning")
    assert warning.data == {"responseDueAt": "2026-11-24T10:00:00Z", "technicianId": world.primary.id}
    assert warning.actor_id is None and len(warning.id) == 32
    at(minutes=61)
    sweep()
    [escalated] = timeline(ticket, "escalated")
    assert escalated.data == {"level": 1, "technicianId": world.secondary.id, "technicianName": "Sardor Secondary",
                              "previousTechnicianId": world.primary.id, "automatic": True}
    [overdue] = timeline(unassigned, "sla_response_overdue")
    assert overdue.data == {"responseDueAt": "2026-11-24T10:00:00Z"}
    at(minutes=200)
    sweep()
    [level2] = timeline(ticket, "escalation_level2")
    assert level2.data == {"level": 2, "technicianId": world.secondary.id}
    at(minutes=60 * 24 * 3)
    sweep()
    [resolution] = timeline(ticket, "sla_resolution_overdue")
    assert resolution.data == {}
