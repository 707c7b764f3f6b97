"""The ticket workflow through the services: due times, the status machine, and the
timeline fact written with every change."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ServiceTicket, TechnicianStatus, TicketEvent, TicketPriority, TicketStatus
from app import clock
from app.services import completions, tickets
from app.services.errors import Conflict, Forbidden, InvalidTransition, ValidationError
from tests.factories import make_branch, make_ticket
from tests.services.flow import WORK, add_after_photo, approve, completed, event_kinds, in_progress

MINUTES = {  # the plan's defaults (response, resolution)
    TicketPriority.CRITICAL: (60, 240),
    TicketPriority.HIGH: (240, 1440),
    TicketPriority.NORMAL: (1440, 2880),
    TicketPriority.LOW: (2880, 4320),
}


def events(ticket, kind):
    return list(db.session.query(TicketEvent).filter_by(ticket_id=ticket.id, kind=kind))


# --- creation --------------------------------------------------------------------

@pytest.mark.parametrize("priority", list(TicketPriority))
def test_due_times_come_from_the_subcategory_minutes_for_the_priority(world, freeze, priority):
    t0 = freeze("2026-11-24T09:30:00Z")
    ticket = make_ticket(world, priority=priority)
    db.session.commit()
    response, resolution = MINUTES[priority]
    assert ticket.created_at == t0
    assert ticket.response_due_at == t0 + timedelta(minutes=response)
    assert ticket.resolution_due_at == t0 + timedelta(minutes=resolution)


def test_due_times_follow_a_subcategorys_own_minutes(world, freeze):
    t0 = freeze("2026-11-24T09:30:00Z")
    sub = world.subcategories["Glass Repair"]
    sub.sla_response_high, sub.sla_resolution_high = 30, 90
    db.session.commit()
    ticket = make_ticket(world, subcategory=sub, priority=TicketPriority.HIGH)
    db.session.commit()
    assert (ticket.response_due_at, ticket.resolution_due_at) == (t0 + timedelta(minutes=30), t0 + timedelta(minutes=90))


def test_contact_defaults_come_from_the_branch(world):
    ticket = make_ticket(world)
    db.session.commit()
    assert (ticket.contact_name, ticket.contact_phone, ticket.contact_role) == (
        "Dilnoza K.", "+998901112233", "Store Manager")


def test_creation_writes_created_and_assigned_events(world):
    ticket = make_ticket(world)
    db.session.commit()
    created, = events(ticket, "created")
    assert created.actor_id == world.dispatcher.id
    assert created.data["ticketNumber"] == ticket.ticket_number
    assigned, = events(ticket, "assigned")
    assert assigned.data["technicianId"] == world.primary.id and assigned.data["automatic"] is True


def test_a_subcategory_of_another_category_is_refused(world):
    from app.services import reference

    other = reference.create_category(world.admin, {"name": "Electrical"})
    sub = reference.create_subcategory(world.admin, other.id, {"name": "Wiring"})
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        tickets.create_ticket(world.dispatcher, {
            "branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": sub.id,
            "description": "Sparks"})
    assert "subcategoryId" in err.value.fields


def test_store_managers_create_tickets_for_their_own_branches_only(world):
    mine = tickets.create_ticket(world.manager, {
        "branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
        "description": "Door will not close"})
    assert mine.created_by_id == world.manager.id and mine.dispatcher_id is None
    with pytest.raises(ValidationError) as err:
        tickets.create_ticket(world.manager, {
            "branchId": world.other_branch.id, "categoryId": world.category.id,
            "subcategoryId": world.subcategory.id, "description": "Not my store"})
    assert "branchId" in err.value.fields


def test_technicians_cannot_create_tickets(world):
    with pytest.raises(Forbidden):
        make_ticket(world, by=world.tech)


# --- the status machine ------------------------------------------------------------

def ticket_in(world, status: TicketStatus):
    """A ticket of world.branch in `status`; from ASSIGNED on, world.tech is assigned."""
    if status == TicketStatus.NEW:
        ticket = make_ticket(world, branch=make_branch(world.customer, "FM-050", "Freshmart Empty"))
    elif status == TicketStatus.COMPLETED:
        ticket, _ = completed(world)
    elif status == TicketStatus.IN_PROGRESS:
        ticket = in_progress(world)
    else:
        ticket = make_ticket(world)
        if status == TicketStatus.CLOSED:
            tickets.close_without_completion(ticket, "Duplicate of another ticket", world.dispatcher)
    db.session.commit()
    assert ticket.status == status
    return ticket


def do_accept(world, t):
    tickets.accept(t, world.tech)


def do_decline(world, t):
    tickets.decline(t, "Too far today", world.tech)


def do_complete(world, t):
    completions.complete(t, world.tech, WORK)


def do_close(world, t):
    tickets.close_without_completion(t, "Customer cancelled", world.dispatcher)


def do_assign(world, t):
    tickets.assign(t, world.secondary.id, world.dispatcher)


def do_arrive(world, t):
    tickets.arrive(t, world.tech)


ACTIONS = {"accept": do_accept, "decline": do_decline, "complete": do_complete, "close": do_close,
           "assign": do_assign, "arrive": do_arrive}
S = TicketStatus
# (action, from status) -> status afterwards, or InvalidTransition.
MACHINE = [
    ("accept", S.ASSIGNED, S.IN_PROGRESS),
    ("accept", S.IN_PROGRESS, InvalidTransition),
    ("accept", S.COMPLETED, InvalidTransition),
    ("accept", S.CLOSED, InvalidTransition),
    ("decline", S.ASSIGNED, S.ASSIGNED),  # to the branch's secondary
    ("decline", S.IN_PROGRESS, InvalidTransition),
    ("decline", S.COMPLETED, InvalidTransition),
    ("decline", S.CLOSED, InvalidTransition),
    ("arrive", S.ASSIGNED, S.IN_PROGRESS),
    ("arrive", S.IN_PROGRESS, S.IN_PROGRESS),
    ("arrive", S.COMPLETED, InvalidTransition),
    ("arrive", S.CLOSED, InvalidTransition),
    ("complete", S.ASSIGNED, InvalidTransition),
    ("complete", S.IN_PROGRESS, S.COMPLETED),
    ("complete", S.COMPLETED, InvalidTransition),
    ("complete", S.CLOSED, InvalidTransition),
    ("close", S.NEW, S.CLOSED),
    ("close", S.ASSIGNED, S.CLOSED),
    ("close", S.IN_PROGRESS, S.CLOSED),
    ("close", S.COMPLETED, InvalidTransition),
    ("close", S.CLOSED, InvalidTransition),
    ("assign", S.NEW, S.ASSIGNED),
    ("assign", S.ASSIGNED, S.ASSIGNED),
    ("assign", S.IN_PROGRESS, S.ASSIGNED),
    ("assign", S.COMPLETED, InvalidTransition),
    ("assign", S.CLOSED, InvalidTransition),
]


@pytest.mark.parametrize("action,start,outcome", MACHINE, ids=[f"{a}-{s.value}" for a, s, _ in MACHINE])
def test_status_machine(world, action, start, outcome):
    ticket = ticket_in(world, start)
    if start == S.IN_PROGRESS and action == "complete":
        add_after_photo(world, ticket)
    version, status_before = ticket.version, ticket.status
    if outcome is InvalidTransition:
        with pytest.raises(InvalidTransition):
            ACTIONS[action](world, ticket)
        db.session.rollback()
        fresh = db.session.get(ServiceTicket, ticket.id)
        assert (fresh.status, fresh.version) == (status_before, version)  # nothing written
    else:
        ACTIONS[action](world, ticket)
        db.session.commit()
        assert ticket.status == outcome


def test_patch_cannot_jump_to_a_status_that_has_its_own_path(world):
    ticket = ticket_in(world, S.IN_PROGRESS)
    for status in ("COMPLETED", "NEW", "ASSIGNED"):
        with pytest.raises(InvalidTransition):
            tickets.patch(ticket, {"status": status}, world.dispatcher)
        db.session.rollback()


def test_only_the_assigned_technician_moves_the_ticket(world):
    ticket = ticket_in(world, S.ASSIGNED)
    for who in (world.tech2, world.dispatcher, world.manager, world.admin):
        with pytest.raises(Forbidden):
            tickets.accept(ticket, who)
        with pytest.raises(Forbidden):
            tickets.decline(ticket, "no", who)
    for who in (world.tech, world.manager):
        with pytest.raises(Forbidden):
            tickets.close_without_completion(ticket, "no", who)
        with pytest.raises(Forbidden):
            tickets.assign(ticket, world.secondary.id, who)


# --- accept, decline, arrive, close --------------------------------------------------

def test_accept_sets_first_response_once(world, freeze):
    freeze("2026-11-24T09:00:00Z")
    ticket = make_ticket(world)
    t1 = freeze("2026-11-24T09:20:00Z")
    tickets.accept(ticket, world.tech)
    db.session.commit()
    assert ticket.first_response_at == t1
    # Reassigned and accepted again later: the first response stays the first.
    freeze("2026-11-24T11:00:00Z")
    tickets.assign(ticket, world.secondary.id, world.dispatcher)
    tickets.accept(ticket, world.tech2)
    db.session.commit()
    assert ticket.first_response_at == t1
    assert [e.actor_id for e in events(ticket, "accepted")].count(world.tech2.id) == 1


def test_decline_hands_the_ticket_to_the_branchs_other_technician(world):
    ticket = make_ticket(world)
    tickets.decline(ticket, "I am two hours away", world.tech)
    db.session.commit()
    assert (ticket.status, ticket.assigned_technician_id) == (S.ASSIGNED, world.secondary.id)
    declined, = events(ticket, "declined")
    assert declined.data["reason"] == "I am two hours away" and declined.actor_id == world.tech.id
    assert any(e.data["technicianId"] == world.secondary.id for e in events(ticket, "assigned"))


def test_decline_with_no_other_active_technician_returns_the_ticket_to_new(world):
    world.secondary.status = TechnicianStatus.ON_LEAVE
    db.session.commit()
    ticket = make_ticket(world)
    tickets.decline(ticket, "Sick", world.tech)
    db.session.commit()
    assert (ticket.status, ticket.assigned_technician_id) == (S.NEW, None)


def test_a_declining_technician_can_still_read_the_ticket(world):
    from app.services import access

    ticket = make_ticket(world)
    tickets.decline(ticket, "Sick", world.tech)
    db.session.commit()
    assert access.can_read_ticket(world.tech, ticket)
    assert not access.can_read_ticket(world.outsider_tech, ticket)


def test_decline_needs_a_reason(world):
    ticket = make_ticket(world)
    with pytest.raises(ValidationError):
        tickets.decline(ticket, "  ", world.tech)


def test_arrive_sets_arrival_once_and_records_the_distance(world, freeze):
    freeze("2026-11-24T09:00:00Z")
    ticket = make_ticket(world)
    t1 = freeze("2026-11-24T09:45:00Z")
    result = tickets.arrive(ticket, world.tech, 41.3111, 69.2797, 500)
    db.session.commit()
    assert ticket.status == S.IN_PROGRESS  # an ASSIGNED ticket is accepted first
    assert ticket.arrived_at == t1 and ticket.first_response_at == t1
    assert result["distance"] == 0 and result["farAway"] is False
    freeze("2026-11-24T10:30:00Z")
    tickets.arrive(ticket, world.tech, 41.0, 69.0, 500)
    db.session.commit()
    assert ticket.arrived_at == t1
    arrived, = events(ticket, "arrived")
    assert arrived.data["distanceMeters"] == 0
    assert sorted(event_kinds(ticket)).count("accepted") == 1


def test_arriving_far_from_the_branch_is_recorded_not_refused(world):
    ticket = in_progress(world)
    result = tickets.arrive(ticket, world.tech, 41.2, 69.2, 500)  # ~14 km away
    db.session.commit()
    assert result["farAway"] is True and 13000 < result["distance"] < 15000
    assert events(ticket, "arrived")[0].data["farFromBranch"] is True


def test_close_without_completion_records_the_reason(world, freeze):
    t0 = freeze("2026-11-24T09:00:00Z")
    ticket = make_ticket(world)
    tickets.patch(ticket, {"status": "CLOSED", "reason": "Store closed for renovation"}, world.dispatcher)
    db.session.commit()
    assert (ticket.status, ticket.closed_at, ticket.close_reason) == (S.CLOSED, t0, "Store closed for renovation")
    closed, = events(ticket, "closed")
    assert closed.data == {"reason": "Store closed for renovation"} and closed.actor_id == world.dispatcher.id


def test_close_needs_a_reason(world):
    ticket = make_ticket(world)
    with pytest.raises(ValidationError):
        tickets.patch(ticket, {"status": "CLOSED"}, world.dispatcher)


# --- staff edits -----------------------------------------------------------------

def test_priority_change_recomputes_both_due_times_from_creation(world, freeze):
    t0 = freeze("2026-11-24T09:00:00Z")
    ticket = make_ticket(world, priority=TicketPriority.LOW)
    freeze("2026-11-24T12:00:00Z")
    tickets.patch(ticket, {"priority": "CRITICAL"}, world.dispatcher)
    db.session.commit()
    assert ticket.response_due_at == t0 + timedelta(minutes=60)
    assert ticket.resolution_due_at == t0 + timedelta(minutes=240)
    change, = events(ticket, "priority_changed")
    assert change.data == {"from": "LOW", "to": "CRITICAL"}


def test_reassignment_is_recorded_and_the_new_technician_must_accept(world):
    ticket = in_progress(world)
    tickets.patch(ticket, {"assignedTechnicianId": world.secondary.id}, world.dispatcher)
    db.session.commit()
    assert (ticket.status, ticket.assigned_technician_id) == (S.ASSIGNED, world.secondary.id)
    moved, = events(ticket, "reassigned")
    assert moved.data["previousTechnicianId"] == world.primary.id and moved.actor_id == world.dispatcher.id


def test_only_active_technicians_can_be_assigned(world):
    world.secondary.status = TechnicianStatus.ON_LEAVE
    db.session.commit()
    ticket = make_ticket(world)
    with pytest.raises(ValidationError):
        tickets.assign(ticket, world.secondary.id, world.dispatcher)
    with pytest.raises(ValidationError):
        tickets.assign(ticket, "no-such-technician", world.dispatcher)


def test_notes_are_recorded_and_store_managers_cannot_write_internal_ones(world):
    ticket = make_ticket(world)
    tickets.patch(ticket, {"internalNotes": "Customer owes us", "storeNotes": "Back door"}, world.dispatcher)
    tickets.patch(ticket, {"storeNotes": "Use the back door"}, world.manager)
    db.session.commit()
    assert (ticket.internal_notes, ticket.store_notes) == ("Customer owes us", "Use the back door")
    assert len(events(ticket, "internal_note")) == 1 and len(events(ticket, "store_note")) == 2
    with pytest.raises(Forbidden):
        tickets.patch(ticket, {"internalNotes": "x"}, world.manager)


def test_a_stale_version_is_a_conflict(world):
    ticket = make_ticket(world)
    db.session.commit()
    stale = ticket.version
    tickets.patch(ticket, {"priority": "HIGH", "version": stale}, world.dispatcher)
    db.session.commit()
    assert ticket.version > stale
    with pytest.raises(Conflict):
        tickets.patch(ticket, {"priority": "LOW", "version": stale}, world.dispatcher)


def test_every_step_of_a_tickets_life_leaves_a_fact(world, freeze):
    freeze("2026-11-24T09:00:00Z")
    ticket = make_ticket(world)
    steps = [
        lambda: tickets.patch(ticket, {"priority": "HIGH"}, world.dispatcher),
        lambda: tickets.decline(ticket, "Busy", world.tech),
        lambda: tickets.assign(ticket, world.primary.id, world.dispatcher),
        lambda: tickets.accept(ticket, world.tech),
        lambda: tickets.arrive(ticket, world.tech),
        lambda: add_after_photo(world, ticket),
        lambda: completions.complete(ticket, world.tech, WORK),
    ]
    for step in steps:
        clock.advance(minutes=1)
        step()
        db.session.commit()
    clock.advance(minutes=1)
    approve(world, ticket.completion)
    assert event_kinds(ticket) == [  # each change is on the timeline, in order
        "created", "assigned", "priority_changed", "declined", "assigned", "reassigned", "accepted",
        "arrived", "photo_added", "completed", "approved",
    ]
