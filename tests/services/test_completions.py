"""Completing work, costs in Decimal on the server, and the store manager's decision."""
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from app.extensions import db
from app.models import ApprovalStatus, ServiceCompletion, TicketStatus
from app.services import completions, photos
from app.services.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationError
from tests.factories import jpeg_bytes, signature_data_url
from tests.services.flow import WORK, add_after_photo, approve, completed, count, event_kinds, in_progress, reject


def test_costs_are_computed_in_decimal_and_client_totals_ignored(world):
    ticket, c = completed(world, partsUsed=[{"name": "Fuse", "quantity": 3, "unitCost": 0.10, "total": "999"}],
                          laborHours=1.5, laborCostPerHour="45.00", partsCost="1.00", laborCost="1.00",
                          totalCost="2.00")
    db.session.expire_all()
    c = db.session.get(ServiceCompletion, c.id)
    assert c.parts[0].total == Decimal("0.30")  # not 0.30000000000000004, not the client's 999
    assert c.parts_cost == Decimal("0.30")
    assert c.labor_cost == Decimal("67.50")
    assert c.total_cost == Decimal("67.80")
    assert ticket.status == TicketStatus.COMPLETED and ticket.completed_at is not None


def test_each_part_line_is_rounded_to_cents_and_the_lines_add_up(world):
    parts = [{"name": f"Part {i}", "quantity": "0.5", "unitCost": "19.99"} for i in range(7)]
    _, c = completed(world, partsUsed=parts, laborHours="2.25", laborCostPerHour="33.33")
    assert [p.total for p in c.parts] == [Decimal("10.00")] * 7  # 9.995 rounds half up
    assert c.parts_cost == sum(p.total for p in c.parts) == Decimal("70.00")
    assert c.labor_cost == Decimal("74.99")  # 74.9925
    assert c.total_cost == Decimal("144.99")


def test_no_parts_and_the_default_labour_rate(world):
    ticket = in_progress(world)
    add_after_photo(world, ticket)
    c = completions.complete(ticket, world.tech, {"workDescription": "Reset the controller", "laborHours": 2},
                             default_rate=Decimal("45.00"))
    db.session.commit()
    assert (c.parts_cost, c.labor_cost, c.total_cost, c.labor_cost_per_hour) == (
        Decimal("0.00"), Decimal("90.00"), Decimal("90.00"), Decimal("45.00"))


@pytest.mark.parametrize("bad", [
    {"laborHours": -1},
    {"laborHours": "abc"},
    {"laborCostPerHour": "-45"},
    {"laborHours": 1.234},
    {"partsUsed": [{"name": "Fuse", "quantity": -3, "unitCost": "0.10"}]},
    {"partsUsed": [{"name": "Fuse", "quantity": 0, "unitCost": "0.10"}]},
    {"partsUsed": [{"name": "Fuse", "quantity": 1, "unitCost": "-0.10"}]},
    {"partsUsed": [{"name": "", "quantity": 1, "unitCost": "1"}]},
    {"partsUsed": "fuse"},
    {"partsUsed": ["fuse"]},
    {"workDescription": ""},
    {"workDescription": "x" * 5001},
])
def test_bad_work_reports_are_refused_and_nothing_is_written(world, bad):
    ticket = in_progress(world)
    add_after_photo(world, ticket)
    with pytest.raises(ValidationError):
        completions.complete(ticket, world.tech, {**WORK, **bad})
    db.session.rollback()
    assert count(ServiceCompletion) == 0
    assert ticket.status == TicketStatus.IN_PROGRESS


def test_an_after_photo_is_required(world):
    ticket = in_progress(world)
    add_after_photo(world, ticket, kind="before")
    with pytest.raises(ValidationError) as err:
        completions.complete(ticket, world.tech, WORK)
    assert "photos" in err.value.fields


def test_photos_named_must_belong_to_the_ticket(world):
    ticket = in_progress(world)
    add_after_photo(world, ticket)
    with pytest.raises(ValidationError):
        completions.complete(ticket, world.tech, {**WORK, "photoIds": ["not-a-photo"]})


def test_the_completion_takes_the_tickets_new_photos(world):
    ticket = in_progress(world)
    before = add_after_photo(world, ticket, kind="before")
    after = add_after_photo(world, ticket)
    c = completions.complete(ticket, world.tech, WORK)
    db.session.commit()
    assert {p.id for p in c.photos} == {before.id, after.id}


def test_only_the_assigned_technician_completes(world):
    ticket = in_progress(world)
    add_after_photo(world, ticket)
    for who in (world.tech2, world.dispatcher, world.admin, world.manager):
        with pytest.raises(Forbidden):
            completions.complete(ticket, who, WORK)


def test_approval_closes_the_ticket_and_stores_the_signature(world, app, freeze):
    t0 = freeze("2026-11-24T15:00:00Z")
    ticket, c = completed(world)
    approve(world, c)
    assert (ticket.status, ticket.closed_at) == (TicketStatus.CLOSED, t0)
    assert (c.approval_status, c.signed_by, c.signed_at, c.decided_by_id) == (
        ApprovalStatus.APPROVED, "Dilnoza K.", t0, world.manager.id)
    path = Path(app.config["UPLOAD_DIR"]) / c.signature_key
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (400, 200)
    assert completions.signature_png(world.manager, c.id) == path.read_bytes()
    assert event_kinds(ticket)[-1] == "approved"


def test_admins_may_approve_too(world):
    ticket, c = completed(world)
    approve(world, c, by=world.admin)
    assert ticket.status == TicketStatus.CLOSED


@pytest.mark.parametrize("who,error", [("dispatcher", Forbidden), ("tech", Forbidden), ("other_manager", NotFound)])
def test_others_cannot_decide(world, who, error):
    _, c = completed(world)
    with pytest.raises(error):
        completions.decide(c, getattr(world, who), {"action": "reject", "reason": "no"})


def test_a_blank_signature_is_refused_and_nothing_changes(world, app):
    ticket, c = completed(world)
    with pytest.raises(ValidationError) as err:
        completions.decide(c, world.manager, {"action": "approve", "signedBy": "D", "signature": signature_data_url(draw=False)})
    assert "signature" in err.value.fields
    db.session.rollback()
    assert ticket.status == TicketStatus.COMPLETED and c.approval_status == ApprovalStatus.PENDING
    assert not (Path(app.config["UPLOAD_DIR"]) / "signatures").exists()


def test_rejection_returns_the_work_and_a_second_completion_keeps_the_first(world, freeze):
    freeze("2026-11-24T10:00:00Z")
    ticket, first = completed(world)
    reject(world, first, "The door still does not close")
    assert ticket.status == TicketStatus.IN_PROGRESS and ticket.completed_at is None
    assert (first.approval_status, first.approval_notes) == (ApprovalStatus.REJECTED, "The door still does not close")
    # The technician goes back, fixes it, and submits again (same photos on the ticket suffice).
    second = completions.complete(ticket, world.tech, {**WORK, "laborHours": 3})
    db.session.commit()
    assert ticket.status == TicketStatus.COMPLETED
    assert {c.id for c in ticket.completions} == {first.id, second.id}
    assert ticket.completion.id == second.id  # the live one, even at the same instant
    approve(world, second)
    assert ticket.status == TicketStatus.CLOSED
    db.session.expire_all()
    assert db.session.get(ServiceCompletion, first.id).approval_status == ApprovalStatus.REJECTED
    kinds = event_kinds(ticket)
    assert [k for k in kinds if k in ("completed", "rejected", "approved")] == [
        "completed", "rejected", "completed", "approved"]


def test_a_rejection_needs_a_reason(world):
    _, c = completed(world)
    with pytest.raises(ValidationError):
        completions.decide(c, world.manager, {"action": "reject", "reason": " "})
    with pytest.raises(ValidationError):
        completions.decide(c, world.manager, {"action": "maybe"})


@pytest.mark.parametrize("first", ["approve", "reject"])
@pytest.mark.parametrize("second", ["approve", "reject"])
def test_a_decided_completion_cannot_be_decided_again(world, first, second):
    ticket, c = completed(world)
    (approve if first == "approve" else reject)(world, c)
    data = {"action": second, "reason": "again", "signedBy": "D", "signature": signature_data_url()}
    with pytest.raises(Conflict):
        completions.decide(c, world.manager, data)
    db.session.rollback()
    assert c.approval_status == (ApprovalStatus.APPROVED if first == "approve" else ApprovalStatus.REJECTED)


def test_a_submitted_photo_cannot_be_removed(world):
    ticket, c = completed(world)
    reject(world, c)
    with pytest.raises(InvalidTransition):
        photos.remove_photo(ticket, c.photos[0].id, world.tech)


def test_an_unsubmitted_photo_can_be_removed_and_its_files_go(world, app):
    ticket = in_progress(world)
    p = photos.add_photo(ticket, world.tech, jpeg_bytes(), "before", None, "x.jpg")
    db.session.commit()
    full = Path(app.config["UPLOAD_DIR"]) / p.storage_key
    assert full.exists()
    photos.remove_photo(ticket, p.id, world.tech)
    db.session.commit()
    assert not full.exists()
    assert "photo_removed" in event_kinds(ticket)
    with pytest.raises(NotFound):
        photos.remove_photo(ticket, p.id, world.tech)
