"""An urgent report by QR code on a unit whose open ticket is less than HIGH raises that
ticket to HIGH (issue 18): through tickets.py's one priority change, so the due times are
the SLA clock's for HIGH from the ticket's creation and the timeline says why. Never lower."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import ServiceTicket, TicketEvent, TicketPriority
from app.services import sla_clock, timeline_text
from tests.equipment.conftest import ticket_on

REPORT = {"description": "Still warm, 12 °C now", "name": "Aziz Karimov", "phone": "+998 90 765 43 21"}


def fresh(ticket) -> ServiceTicket:
    db.session.rollback()
    return db.session.get(ServiceTicket, ticket.id)


def events(ticket) -> list[TicketEvent]:
    return list(db.session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                   .order_by(TicketEvent.at)).scalars())


@pytest.mark.parametrize("before", [TicketPriority.NORMAL, TicketPriority.LOW])
def test_an_urgent_report_raises_the_open_ticket_to_high_with_high_due_times(app, world, unit, client, freeze,
                                                                              before):
    created = freeze("2026-11-24T09:00:00Z")
    first = ticket_on(world, unit, priority=before.value)
    was = (first.response_due_at, first.resolution_due_at, first.version)
    clock.set_now(created + timedelta(minutes=40))

    assert client.post(f"/r/{unit.report_token}", data={**REPORT, "urgent": "1"}).status_code == 303

    t = fresh(first)
    assert t.priority == TicketPriority.HIGH
    high = sla_clock.deadlines(t.subcategory, TicketPriority.HIGH, created, calendar=t.branch.calendar)  # from creation
    assert (t.response_due_at, t.resolution_due_at) == (high.response_due_at, high.resolution_due_at)
    assert (t.response_due_at, t.resolution_due_at) != was[:2]
    assert t.version > was[2]
    kinds = [e.kind for e in events(t)]
    assert kinds[-2:] == ["qr_report", "priority_changed"]  # the report, then why the priority went up
    raised = events(t)[-1]
    assert raised.actor_id is None and raised.data["from"] == before.value and raised.data["to"] == "HIGH"
    with app.test_request_context():
        assert timeline_text.event_text(raised.kind, raised.data) == "Priority raised to High by an urgent QR report."
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        from app.i18n import force_locale
        with force_locale("ru"):
            assert "срочн" in timeline_text.event_text(raised.kind, raised.data).lower()

    page = client.get(f"/r/{unit.report_token}").get_data(as_text=True)
    assert "High" not in page  # the public page still shows number and status only


@pytest.mark.parametrize("before", [TicketPriority.HIGH, TicketPriority.CRITICAL])
def test_an_urgent_report_never_lowers_nor_rewrites_a_high_or_critical_ticket(app, world, unit, client, freeze,
                                                                             before):
    freeze("2026-11-24T09:00:00Z")
    first = ticket_on(world, unit, priority=before.value)
    due = (first.response_due_at, first.resolution_due_at)
    clock.set_now(clock.now() + timedelta(minutes=10))
    assert client.post(f"/r/{unit.report_token}", data={**REPORT, "urgent": "1"}).status_code == 303
    t = fresh(first)
    assert t.priority == before and (t.response_due_at, t.resolution_due_at) == due
    assert [e.kind for e in events(t)].count("priority_changed") == 0


def test_a_report_not_marked_urgent_leaves_the_priority_alone(app, world, unit, client, freeze):
    freeze("2026-11-24T09:00:00Z")
    first = ticket_on(world, unit, priority="LOW")
    assert client.post(f"/r/{unit.report_token}", data=REPORT).status_code == 303
    t = fresh(first)
    assert t.priority == TicketPriority.LOW
    assert [e.kind for e in events(t)][-1] == "qr_report"
