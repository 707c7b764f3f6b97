"""Units of equipment for the tests: built through the services, like everything else."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app import clock
from app.extensions import db
from app.services import completions, equipment, photos, tickets
from tests.api.conftest import nothing_written  # noqa: F401  (a fixture: refused requests write nothing)
from tests.factories import jpeg_bytes, make_ticket, signature_data_url


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def make_unit(world, *, branch=None, tag="CR-001", name="Cold room 1", kind="COLD_ROOM", by=None, **extra):
    unit = equipment.create_unit(by or world.dispatcher, {
        "branchId": (branch or world.branch).id, "assetTag": tag, "kind": kind, "name": name, **extra})
    db.session.commit()
    return unit


def ticket_on(world, unit, *, by=None, **kw):
    """A ticket on `unit` (created through the service, with its equipmentId)."""
    sub = kw.pop("subcategory", None) or world.subcategory
    t = tickets.create_ticket(by or world.dispatcher, {
        "branchId": unit.branch_id, "categoryId": sub.category_id, "subcategoryId": sub.id,
        "description": kw.pop("description", "Warm inside"), "equipmentId": unit.id, **kw})
    db.session.commit()
    return t


def repaired(world, ticket, *, hours="1", rate="100.00"):
    """Play `ticket` to CLOSED with approved work costing hours x rate (no parts)."""
    technician = world.tech if ticket.assigned_technician_id == world.primary.id else world.tech2
    tickets.accept(ticket, technician)
    photos.add_photo(ticket, technician, jpeg_bytes(), "after", None, "a.jpg")
    c = completions.complete(ticket, technician, {"workDescription": "Fixed", "laborHours": hours,
                                                  "laborCostPerHour": rate})
    completions.decide(c, world.manager, {"action": "approve", "signedBy": "D", "signature": signature_data_url()})
    db.session.commit()
    return c


@pytest.fixture
def unit(world):
    return make_unit(world, refrigerant="R404A", chargeKg="12.5", replacementCost="8000.00")


__all__ = ["at", "make_unit", "ticket_on", "repaired", "make_ticket", "clock"]
