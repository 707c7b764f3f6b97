"""Issue 15 walk: nothing said why a ticket had no technician. When auto-assignment finds
nobody, the timeline says why, in a sentence a dispatcher reads."""
from __future__ import annotations

from app.extensions import db
from app.models import TechnicianStatus
from app.services import assignment
from tests.factories import make_branch, make_ticket


def _timeline(client, ticket) -> str:
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    return html[html.index('id="timeline"'):]


def test_the_primary_on_leave_and_no_other_technician_is_said_in_the_timeline(world, as_dispatcher):
    branch = make_branch(world.customer, "FM-077", "Freshmart Chilonzor")
    assignment.assign_to_branch(world.primary.id, branch.id, True)
    world.primary.status = TechnicianStatus.ON_LEAVE
    db.session.commit()
    ticket = make_ticket(world, branch=branch)
    db.session.commit()
    assert ticket.assigned_technician_id is None
    assert ("Not assigned: Timur Primary (primary): on leave; the branch has no other active technician."
            in _timeline(as_dispatcher, ticket))
    # The timeline words it in its reader's language (the event keeps who and how, not words).
    russian = as_dispatcher.get(f"/tickets/{ticket.id}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Не назначена: Timur Primary (основной): в отпуске; других активных техников у филиала нет." in russian


def test_both_technicians_unavailable_are_named(world, as_dispatcher):
    world.primary.status = TechnicianStatus.ON_LEAVE
    world.secondary.status = TechnicianStatus.INACTIVE
    db.session.commit()
    ticket = make_ticket(world)
    db.session.commit()
    assert ("Not assigned: Timur Primary (primary): on leave; Sardor Secondary (secondary): inactive."
            in _timeline(as_dispatcher, ticket))


def test_an_assigned_ticket_says_nothing_of_the_kind(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    assert "Not assigned" not in _timeline(as_dispatcher, ticket)
