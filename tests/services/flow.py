"""Moving a ticket through its life with the services (as the people involved would)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import TicketEvent
from app.services import completions, photos, tickets
from tests.factories import jpeg_bytes, make_ticket, signature_data_url

WORK = {
    "workDescription": "Replaced the door seal and recharged the refrigerant",
    "laborHours": 1.5,
    "laborCostPerHour": "45.00",
    "partsUsed": [{"name": "Fuse", "quantity": 3, "unitCost": "0.10"}],
}


def in_progress(world, **kw):
    """A ticket for world.branch, accepted by its primary (world.tech)."""
    ticket = make_ticket(world, **kw)
    tickets.accept(ticket, world.tech)
    db.session.commit()
    return ticket


def add_after_photo(world, ticket, kind="after", tech=None):
    photo = photos.add_photo(ticket, tech or world.tech, jpeg_bytes(), kind, "Done", "after.jpg")
    db.session.commit()
    return photo


def completed(world, **work):
    """A ticket whose work is submitted and awaits approval; returns (ticket, completion)."""
    ticket = in_progress(world)
    add_after_photo(world, ticket)
    completion = completions.complete(ticket, world.tech, {**WORK, **work})
    db.session.commit()
    return ticket, completion


def approve(world, completion, by=None):
    c = completions.decide(completion, by or world.manager,
                           {"action": "approve", "signedBy": "Dilnoza K.", "signature": signature_data_url()})
    db.session.commit()
    return c


def reject(world, completion, reason="The door still does not close", by=None):
    c = completions.decide(completion, by or world.manager, {"action": "reject", "reason": reason})
    db.session.commit()
    return c


def event_kinds(ticket) -> list[str]:
    return list(db.session.execute(
        select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)
    ).scalars())


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()
