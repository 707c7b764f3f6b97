"""HX-Trigger events for ticket changes (issue 14, item 5): an htmx action that changed
a ticket answers with `ticketChanged` (which tickets, which kinds of change), after the
commit; a refused action, a poll and a plain form post announce nothing."""
from __future__ import annotations

import json

from app.extensions import db
from tests.factories import make_ticket

HX = {"HX-Request": "true"}


def test_an_htmx_action_announces_the_ticket_it_changed(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/accept", headers=HX)
    assert r.status_code == 200
    assert json.loads(r.headers["HX-Trigger"]) == {"ticketChanged": {"ids": [ticket.id], "kinds": ["accepted"]}}

    r = tech.post(f"/tech/tickets/{ticket.id}/arrive", data={}, headers=HX)
    assert r.status_code == 200
    assert json.loads(r.headers["HX-Trigger"])["ticketChanged"] == {"ids": [ticket.id], "kinds": ["arrived"]}


def test_a_refused_action_or_a_poll_announces_nothing(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    refused = tech.post(f"/tech/tickets/{ticket.id}/decline", data={"reason": " "}, headers=HX)
    assert refused.status_code == 400 and "HX-Trigger" not in refused.headers
    poll = tech.get("/tech/dashboard", headers=HX)
    assert poll.status_code == 200 and "HX-Trigger" not in poll.headers


def test_a_plain_form_post_redirects_without_an_event(tech, world):
    ticket = make_ticket(world)
    db.session.commit()
    r = tech.post(f"/tech/tickets/{ticket.id}/accept")
    assert r.status_code == 303 and "HX-Trigger" not in r.headers


def test_the_event_keeps_other_events_of_the_same_answer(app):
    from app.web import add_trigger

    resp = app.response_class("")
    resp.headers["HX-Trigger"] = "notificationsChanged"
    add_trigger(resp, "ticketChanged", {"ids": ["t1"], "kinds": ["closed"]})
    assert json.loads(resp.headers["HX-Trigger"]) == {
        "notificationsChanged": True, "ticketChanged": {"ids": ["t1"], "kinds": ["closed"]}}
