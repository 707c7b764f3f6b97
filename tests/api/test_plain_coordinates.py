"""Coordinates are plain ASCII numbers on every path that takes them (issue 13, item 6):
`1_0` (float() reads 10), other scripts' digits (float() reads "١٢" as 12) and a
400-digit integer (OverflowError in float()) are refused with the field named, and
nothing is written. Money fields had this since 20d3a13; coordinates go through
`Fields.floating`, which did not."""
from __future__ import annotations

import pytest

from app.services.errors import ValidationError
from app.services.validation import Fields
from tests.services.flow import in_progress

NOT_PLAIN = {
    "underscore": "4_1",  # float() reads 41
    "arabic-indic": "\u0664\u0661",  # float() reads 41
    "fullwidth": "\uff14\uff11",  # float() reads 41
    "devanagari-decimal": "\u096a\u0967.3",  # float() reads 41.3
    "spaced-underscore": " 6_9.2 ",
}


def _both(value, other="69.2"):
    return {"latitude": value, "longitude": other}


@pytest.mark.parametrize("value", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_the_api_refuses_coordinates_that_are_not_plain_digits(world, api, nothing_written, value):
    ticket = in_progress(world)
    admin, tech = api.as_(world.admin), api.as_(world.tech)
    calls = [
        (tech.patch, f"/api/technicians/{world.tech.technician_id}", _both(value)),  # the phone's location
        (admin.patch, f"/api/technicians/{world.tech.technician_id}", _both(value)),  # staff edit
        (tech.post, f"/api/tickets/{ticket.id}/arrive", _both(value)),
        (admin.post, "/api/customer-branches", {"customerId": world.customer.id, "branchCode": "N-1",
                                                "branchName": "New", **_both(value)}),
        (admin.patch, f"/api/customer-branches/{world.branch.id}", _both(value)),
    ]
    for send, path, body in calls:
        with nothing_written():
            r = send(path, json=body)
        assert r.status_code == 400, (path, r.status_code, r.data[:300])
        assert "latitude" in r.get_json()["fields"], (path, r.get_json())
        # the same value as the longitude
        with nothing_written():
            r = send(path, json={"latitude": "41.3", "longitude": value, **{k: v for k, v in body.items()
                                                                         if k not in ("latitude", "longitude")}})
        assert r.status_code == 400 and "longitude" in r.get_json()["fields"], (path, r.data[:300])


@pytest.mark.parametrize("value", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_the_pages_refuse_coordinates_that_are_not_plain_digits(world, signed_in, nothing_written, value):
    from app.extensions import db

    ticket = in_progress(world)
    tech = signed_in(world.tech)
    dispatcher = signed_in(world.dispatcher)
    db.session.expire_all()
    with nothing_written():
        # the technician page's location report (JSON from tech.js, or a form): refused quietly
        assert tech.post("/tech/location", json=_both(value)).status_code == 400
        assert tech.post("/tech/location", data=_both(value)).status_code == 400
        # "I'm on site" with the phone's position
        r = tech.post(f"/tech/tickets/{ticket.id}/arrive", data=_both(value))
        assert r.status_code == 400, r.data[:300]
        # the dispatcher's branch form, new and edit
        form = {"customerId": world.customer.id, "branchCode": "N-1", "branchName": "New", **_both(value)}
        r = dispatcher.post("/dispatcher/branches/new", data=form)
        assert r.status_code == 400 and 'id="latitude-error">Must be a number.' in r.get_data(as_text=True)
        form = {"customerId": world.customer.id, "branchCode": world.branch.branch_code,
                "branchName": world.branch.branch_name, "isActive": "y", **_both("41.3", value)}
        r = dispatcher.post(f"/dispatcher/branches/{world.branch.id}", data=form)
        assert r.status_code == 400 and 'id="longitude-error">Must be a number.' in r.get_data(as_text=True)
    db.session.expire_all()
    assert world.tech.technician.latitude is None and world.branch.latitude == 41.3111


def test_plain_coordinates_still_work_everywhere(world, api, signed_in):
    tech = api.as_(world.tech)
    assert tech.patch(f"/api/technicians/{world.tech.technician_id}",
                      json={"latitude": "41.30", "longitude": -69.5}).status_code == 200
    assert tech.patch(f"/api/technicians/{world.tech.technician_id}",
                      json={"latitude": " +4.13e1 ", "longitude": ".5"}).status_code == 200
    page = signed_in(world.tech)
    assert page.post("/tech/location", data={"latitude": "41.3", "longitude": "69"}).status_code == 204


@pytest.mark.parametrize("value", [10**400, -(10**400), "1" + "0" * 400, float("inf"), float("nan"), [41], {"a": 1}],
                         ids=["400-digit-int", "negative-400-digit-int", "400-digit-text", "inf", "nan", "list",
                              "object"])
def test_numbers_that_float_cannot_hold_are_a_field_error_not_a_crash(value):
    """Python callers (and a form's 400-digit text) reach `Fields.floating` directly."""
    f = Fields({"latitude": value})
    assert f.floating("latitude", min_value=-90, max_value=90) is None
    with pytest.raises(ValidationError) as exc:
        f.check()
    assert "latitude" in exc.value.fields


@pytest.mark.parametrize("value", ["1_0", "\u0661\u0662", "\uff11\uff12", " 1_2 "])
def test_whole_numbers_are_plain_digits_too(value):
    f = Fields({"n": value})
    assert f.integer("n", min_value=0, max_value=100) is None
    assert f.errors == {"n": "Must be a whole number."}
    assert Fields({"n": " 12 "}).integer("n", min_value=0, max_value=100) == 12
