"""Auto-assignment and branch territories."""
import pytest

from app.extensions import db
from app.models import TechnicianStatus, TicketStatus
from app.services import assignment
from tests.factories import make_branch, make_technician, make_ticket


def test_the_branchs_active_primary_gets_the_ticket(world):
    ticket = make_ticket(world)
    db.session.commit()
    assert ticket.status == TicketStatus.ASSIGNED
    assert ticket.assigned_technician_id == world.primary.id


@pytest.mark.parametrize("absent", [TechnicianStatus.ON_LEAVE, TechnicianStatus.INACTIVE])
def test_an_absent_primary_is_skipped_for_the_active_secondary(world, absent):
    world.primary.status = absent
    db.session.commit()
    ticket = make_ticket(world)
    db.session.commit()
    assert ticket.status == TicketStatus.ASSIGNED
    assert ticket.assigned_technician_id == world.secondary.id


@pytest.mark.parametrize("absent", [TechnicianStatus.ON_LEAVE, TechnicianStatus.INACTIVE])
def test_no_active_technician_leaves_the_ticket_new(world, absent):
    world.primary.status = absent
    world.secondary.status = TechnicianStatus.ON_LEAVE
    db.session.commit()
    ticket = make_ticket(world)
    db.session.commit()
    assert ticket.status == TicketStatus.NEW
    assert ticket.assigned_technician_id is None


def test_a_branch_without_technicians_gets_new_tickets(world):
    lonely = make_branch(world.customer, "FM-099", "Freshmart Far")
    db.session.commit()
    ticket = make_ticket(world, branch=lonely)
    db.session.commit()
    assert (ticket.status, ticket.assigned_technician_id) == (TicketStatus.NEW, None)


def test_an_ended_assignment_no_longer_counts(world):
    current = assignment.current_assignments(world.branch.id)
    assignment.end_assignment(current["primary"].id)
    db.session.commit()
    ticket = make_ticket(world)
    db.session.commit()
    assert ticket.assigned_technician_id == world.secondary.id


def test_assigning_a_new_primary_ends_the_previous_one(world):
    newcomer = make_technician("Nodir New", "+998900000009")
    db.session.commit()
    old = assignment.current_assignments(world.branch.id)["primary"]
    new = assignment.assign_to_branch(newcomer.id, world.branch.id, True)
    db.session.commit()
    assert old.end_date is not None
    current = assignment.current_assignments(world.branch.id)
    assert current["primary"].id == new.id
    assert current["secondary"].technician_id == world.secondary.id  # untouched
    assert make_ticket(world).assigned_technician_id == newcomer.id
    db.session.commit()


def test_promoting_the_secondary_to_primary_leaves_no_double_role(world):
    assignment.assign_to_branch(world.secondary.id, world.branch.id, True)
    db.session.commit()
    current = assignment.current_assignments(world.branch.id)
    assert current["primary"].technician_id == world.secondary.id
    assert "secondary" not in current


def test_assigning_the_same_role_again_changes_nothing(world):
    before = assignment.current_assignments(world.branch.id)["primary"]
    again = assignment.assign_to_branch(world.primary.id, world.branch.id, True)
    db.session.commit()
    assert again.id == before.id and again.end_date is None


def test_a_technician_can_be_reassigned_to_a_branch_after_an_ended_assignment(world):
    first = assignment.current_assignments(world.branch.id)["primary"]
    assignment.end_assignment(first.id)
    db.session.commit()
    again = assignment.assign_to_branch(world.primary.id, world.branch.id, True)
    db.session.commit()
    assert again.id != first.id and again.end_date is None


def test_nobody_is_given_a_territory_at_an_inactive_branch(world):
    """The pages offer active branches only; the service (so the API too) refuses the rest."""
    from app.services.errors import ValidationError

    closed = make_branch(world.customer, "FM-X1", "Freshmart Closed")
    closed.is_active = False
    newcomer = make_technician("Nodir New", "+998900000009")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        assignment.assign_to_branch(newcomer.id, closed.id, True)
    assert refused.value.fields == {"branchId": "This branch is inactive."}
    db.session.rollback()
    assert assignment.current_assignments(closed.id) == {}
