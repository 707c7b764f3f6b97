"""Pages take forms (issue 13, item 3, on the page side): a JSON body posted to a page,
hostile or of the wrong shape, is a clear 4xx page and never a 500. Flask-WTF would
otherwise fill any form from a JSON body (`{"name": 5}`, a list, a bare string) and the
forms' validators crash on those types."""
from __future__ import annotations

import pytest

from tests.conftest import new_client, sign_in
from tests.security.conftest import build_scene

BODIES = {
    "wrong-types": '{"latitude": 5, "branchCode": 7, "name": [1], "email": {"a": 1}, "description": 5, '
                   '"priority": [], "phone": 1, "reason": 1, "version": "x", "action": 1, "signature": 5}',
    "a-list": "[1, 2]",
    "a-string": '"text"',
    "a-number": "5",
    "deep": "[" * 5000 + "]" * 5000,
    "surrogate": '{"name": "\\ud800", "description": "\\ud800"}',
    "bigint": '{"latitude": 1' + "0" * 400 + "}",
}


def page_posts(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or "POST" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        yield rule


@pytest.mark.parametrize("who", ["dispatcher", "tech", "manager"])
def test_json_bodies_posted_to_pages_are_never_a_500(app, world, who):
    scene = build_scene(world)
    ids = {"ticket_id": scene.in_progress.id, "branch_id": world.branch.id, "technician_id": world.primary.id,
           "customer_id": world.customer.id, "category_id": world.category.id,
           "subcategory_id": world.subcategory.id, "completion_id": scene.waiting_completion.id,
           "photo_id": scene.photo.id, "notification_id": scene.failed.id}
    client = sign_in(new_client(app), getattr(world, who))
    for rule in page_posts(app):
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", str(ids.get(arg, "nope")))
        for kind, body in BODIES.items():
            r = client.post(path, data=body, content_type="application/json")
            assert r.status_code < 500, (who, path, kind, r.status_code, r.data[:300])


def test_a_form_page_says_it_takes_a_form(world, signed_in):
    r = signed_in(world.dispatcher).post("/dispatcher/customers", json={"name": ["Korzinka"]})
    assert r.status_code == 415
    assert "This page takes a form, not JSON" in r.get_data(as_text=True)


def test_the_technician_location_still_takes_json(world, signed_in):
    r = signed_in(world.tech).post("/tech/location", json={"latitude": 41.3, "longitude": 69.2})
    assert r.status_code == 204
