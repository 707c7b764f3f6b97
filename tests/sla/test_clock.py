"""One SLA clock (services/sla_clock.py): every reader turns amber and red at the same
moments, and follows SLA_WARNING_FRACTION together (issue 14, item 1)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import TicketPriority
from app import clock
from app.services import analytics, sla_clock, tickets
from tests.conftest import sign_in
from tests.dispatcher.helpers import card

from .conftest import T0
from .test_sweep import new_ticket

HX = {"HX-Request": "true"}


def _readers(app, world, ticket):
    """What each reader says of the ticket now: the board card's colour, the technician
    queue's colour, whether the sweep warns, whether analytics lists it at risk, and
    whether the board's "overdue only" filter shows it."""
    dispatcher = sign_in(app.test_client(), world.dispatcher)
    technician = sign_in(app.test_client(), world.tech)
    board = card(dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True), ticket)
    board_state = board.split('"', 2)[1].split()[-1].removeprefix("sla-")
    queue = technician.get("/tech/dashboard").get_data(as_text=True)
    queue_state = queue.split(f'id="ticket-{ticket.id}"', 1)[0].rsplit('class="tcard tcard-', 1)[1].split('"')[0].split()[0]
    overdue_only = ticket.ticket_number in dispatcher.get("/dispatcher/tickets?overdue=1", headers=HX).get_data(as_text=True)
    risk = [r["ticketNumber"] for r in analytics.at_risk(analytics.Filters())["rows"]]
    return {"board": board_state, "queue": queue_state, "at_risk": ticket.ticket_number in risk,
            "overdue_filter": overdue_only}


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_board_queue_sweep_analytics_and_filter_follow_the_warning_fraction_together(
        app, world, at, sweep, monkeypatch, fraction):
    monkeypatch.setitem(app.config, "SLA_WARNING_FRACTION", fraction)
    at()
    ticket = new_ticket(world, priority=TicketPriority.HIGH)  # response due in 240 minutes
    warn_minutes = 240 * fraction
    assert ticket.response_warn_at == T0 + timedelta(minutes=warn_minutes)

    at(minutes=warn_minutes - 1)
    assert _readers(app, world, ticket) == {"board": "ok", "queue": "ok", "at_risk": False, "overdue_filter": False}
    assert sweep().warned == []

    at(minutes=warn_minutes)
    assert _readers(app, world, ticket) == {"board": "warning", "queue": "warning", "at_risk": True,
                                            "overdue_filter": False}
    assert sweep().warned == [ticket.ticket_number]

    at(minutes=240, seconds=1)
    db.session.refresh(ticket)
    readers = _readers(app, world, ticket)
    assert readers == {"board": "overdue", "queue": "overdue", "at_risk": True, "overdue_filter": True}


def test_a_ticket_keeps_the_warning_moment_it_was_given_when_the_setting_changes(app, world, at, monkeypatch):
    at()
    ticket = new_ticket(world, priority=TicketPriority.HIGH)
    monkeypatch.setitem(app.config, "SLA_WARNING_FRACTION", 0.5)
    at(minutes=150)  # past half the window, before three quarters
    assert sla_clock.clock_for(ticket).state == sla_clock.OK
    assert _readers(app, world, ticket)["board"] == "ok"


def test_a_priority_change_moves_the_warning_moments_with_the_due_times(app, world, at):
    at()
    ticket = new_ticket(world, priority=TicketPriority.LOW)
    tickets.change_priority(ticket, TicketPriority.CRITICAL, world.dispatcher)
    db.session.commit()
    response_minutes = (ticket.response_due_at - T0) / timedelta(minutes=1)
    resolution_minutes = (ticket.resolution_due_at - T0) / timedelta(minutes=1)
    assert ticket.response_warn_at == T0 + timedelta(minutes=response_minutes * 0.75)
    assert ticket.resolution_warn_at == T0 + timedelta(minutes=resolution_minutes * 0.75)


def test_the_clock_states_of_an_accepted_then_completed_ticket(world, at):
    """Response met once accepted; then the resolution clock runs, and the completion's
    time stops it (met) even if approval comes after the deadline."""
    from tests.services.flow import completed

    at()
    ticket, _ = completed(world)
    assert sla_clock.response_clock(ticket).state == sla_clock.MET
    assert sla_clock.clock_for(ticket).kind == sla_clock.RESOLUTION
    clock.set_now(ticket.resolution_due_at + timedelta(days=3))
    assert sla_clock.clock_for(ticket).state == sla_clock.MET
    assert not sla_clock.clock_for(ticket).running
