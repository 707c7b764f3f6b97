"""Issue 15 walk: the approval page never showed what was reported. It opens with a
"Problem reported" card: the description, when, and the store's notes, before the
photos and the work done."""
from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.services import completions, photos, tickets
from tests.factories import jpeg_bytes, make_ticket


def test_the_approval_page_starts_with_the_problem_reported_and_the_stores_notes(world, login):
    t = make_ticket(world, by=world.manager, description="Cold chamber at 12°C, the fan is noisy")
    tickets.add_store_note(t, world.manager, "The alarm went off again at 14:00")
    tickets.accept(t, world.tech)
    tickets.arrive(t, world.tech)
    photos.add_photo(t, world.tech, jpeg_bytes(color=(20, 200, 20)), "after", "Fixed", "after.jpg")
    completions.complete(t, world.tech, {"workDescription": "Replaced the fan motor.", "laborHours": "1",
                                         "laborCostPerHour": "40.00"}, Decimal("40.00"))
    db.session.commit()

    page = login(world.manager).get(f"/tickets/{t.id}/approve").get_data(as_text=True)
    assert "<h2 id=\"problem-reported-head\">Problem reported</h2>" in page
    card = page.split('class="card problem-reported"')[1].split("</section>")[0]
    assert "Cold chamber at 12°C, the fan is noisy" in card
    assert "The alarm went off again at 14:00" in card
    # First thing on the page, before the photos and the work done.
    assert page.index("Problem reported") < page.index("<h2>Photos</h2>") < page.index("Replaced the fan motor.")
