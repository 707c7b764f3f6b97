"""After the store sent the work back: "Complete again" starts from the rejected
submission, and the photo tag starts at "After" when the technician is on site."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.services import completions, photos, tickets
from tests.factories import jpeg_bytes, make_ticket


@pytest.fixture
def working(world):
    ticket = make_ticket(world)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    db.session.commit()
    return ticket


def sent_back(world, ticket):
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    completion = completions.complete(ticket, world.tech, {
        "workDescription": "Reset the controller and cleaned the coil", "laborHours": "1.5",
        "partsUsed": [{"name": "Fan motor", "quantity": "1", "unitCost": "120.50"},
                      {"name": "Door gasket", "quantity": "2", "unitCost": "15.25"}]}, Decimal("45"))
    db.session.flush()
    completions.decide(completion, world.manager, {"action": "reject", "reason": "Still 9°C inside"})
    db.session.commit()


def checked_tag(html: str) -> str:
    import re

    return re.search(r'name="photoTag" value="(\w+)" checked', html).group(1)


def test_complete_again_starts_from_the_work_the_store_sent_back(tech, world, working):
    sent_back(world, working)
    html = tech.get(f"/tech/tickets/{working.id}/complete").get_data(as_text=True)
    assert ">Reset the controller and cleaned the coil</textarea>" in html
    assert 'name="laborHours" inputmode="decimal" autocomplete="off" placeholder="e.g. 1.5" value="1.5"' in html
    assert 'value="Fan motor"' in html and 'value="120.5"' in html
    assert 'value="Door gasket"' in html and 'value="15.25"' in html
    assert html.count("data-part>") == 2
    assert checked_tag(html) == "after"


def test_a_fresh_complete_form_is_blank_and_before_until_on_site(tech, world, working):
    html = tech.get(f"/tech/tickets/{working.id}/complete").get_data(as_text=True)
    assert "data-part>" not in html and "></textarea>" in html
    assert checked_tag(html) == "before"
    tickets.arrive(working, world.tech)
    db.session.commit()
    html = tech.get(f"/tech/tickets/{working.id}/complete").get_data(as_text=True)
    assert checked_tag(html) == "after", "on site, the finishing photo is the one most often missing"


def test_the_stores_before_photo_does_not_switch_the_tag_to_after(tech, world):
    ticket = make_ticket(world, by=world.manager)
    store_photo = photos.add_reporter_photo(ticket, world.manager, jpeg_bytes(), "problem.jpg")
    assert store_photo.type.value == "before"
    tickets.accept(ticket, world.tech)
    db.session.commit()
    html = tech.get(f"/tech/tickets/{ticket.id}/complete").get_data(as_text=True)
    assert checked_tag(html) == "before"
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "before", None, "mine.jpg")
    db.session.commit()
    html = tech.get(f"/tech/tickets/{ticket.id}/complete").get_data(as_text=True)
    assert checked_tag(html) == "after"
