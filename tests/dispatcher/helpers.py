"""Moving tickets along with the services, and reading the board's HTML."""
from __future__ import annotations

import re

from app.extensions import db
from app.services import completions, photos, tickets
from tests.factories import jpeg_bytes, make_ticket, signature_data_url

WORK = {"workDescription": "Replaced the door seal", "laborHours": 1, "laborCostPerHour": "45.00",
        "partsUsed": [{"name": "Seal", "quantity": 1, "unitCost": "12.50"}]}


def accepted(world, **kw):
    t = make_ticket(world, **kw)
    tickets.accept(t, world.tech)
    db.session.commit()
    return t


def completed(world, **kw):
    t = accepted(world, **kw)
    photos.add_photo(t, world.tech, jpeg_bytes(), "after", "Done", "after.jpg")
    c = completions.complete(t, world.tech, WORK)
    db.session.commit()
    return t, c


def approved(world, **kw):
    t, c = completed(world, **kw)
    completions.decide(c, world.manager, {"action": "approve", "signedBy": "Dilnoza K.",
                                          "signature": signature_data_url()})
    db.session.commit()
    return t, c


def column(html: str, status: str) -> str:
    """The HTML of one board column."""
    m = re.search(r'<section class="board-col board-col-%s".*?</section>' % status.lower(), html, re.S)
    assert m, f"no {status} column"
    return m.group(0)


def card(html: str, ticket) -> str:
    m = re.search(r'<article class="tcard[^"]*" id="card-%s".*?</article>' % ticket.id, html, re.S)
    assert m, f"no card for {ticket.ticket_number}"
    return m.group(0)


def stamp_of(html: str) -> str:
    return re.search(r'data-stamp="([^"]+)"', html).group(1)
