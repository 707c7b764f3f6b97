"""Issue 15 walk: the labour rate refused a decimal comma ("12,5" -> "Must be a number"),
and the Technicians list did not show anyone's rate."""
from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.services import photos, tickets
from app.models import ServiceTicket
from tests.conftest import new_client, sign_in
from tests.factories import jpeg_bytes, make_ticket


def test_a_rate_with_a_decimal_comma_is_saved_and_shown_on_the_list(app, world):
    form = sign_in(new_client(app), world.dispatcher)
    url = f"/dispatcher/technicians/{world.primary.id}"
    resp = form.post(url, data={"name": "Timur Primary", "phone": "+998900000001", "status": "ACTIVE",
                                "laborRate": "12,5"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.expire_all()
    assert world.primary.labor_rate == Decimal("12.50")

    listing = form.get("/dispatcher/technicians").get_data(as_text=True)
    assert "<th>Labour rate</th>" in listing
    timur = [row for row in listing.split("<tr")[1:] if "Timur Primary" in row][0]
    sardor = [row for row in listing.split("<tr")[1:] if "Sardor Secondary" in row][0]
    assert "$12.50 per hour" in timur
    assert "The office&#39;s rate" in sardor or "The office's rate" in sardor


def test_a_comma_before_three_digits_is_not_read_as_a_decimal_mark(app, world):
    form = sign_in(new_client(app), world.dispatcher)
    resp = form.post(f"/dispatcher/technicians/{world.primary.id}", data={
        "name": "Timur Primary", "phone": "+998900000001", "status": "ACTIVE", "laborRate": "1,000"})
    assert resp.status_code == 400 and "Must be a number." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert world.primary.labor_rate is None


def test_the_technicians_hours_take_a_decimal_comma_too(app, world):
    t = make_ticket(world)
    tickets.accept(t, world.tech)
    photos.add_photo(t, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    db.session.commit()
    tech = sign_in(new_client(app), world.tech)
    resp = tech.post(f"/tech/tickets/{t.id}/complete", data={"workDescription": "Door seal", "laborHours": "1,5"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(ServiceTicket, t.id).completion.labor_hours == Decimal("1.5")
