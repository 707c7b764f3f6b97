"""POST /api/tickets/{id}/pause and /resume, and the Ticket JSON's pause fields
(API.md, "Pausing the resolution clock"). Who may: tests/api/test_access_matrix.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.services import tickets
from tests.factories import make_ticket

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def working(world, freeze):
    freeze(T0)
    ticket = make_ticket(world)
    tickets.accept(ticket, world.tech)
    db.session.commit()
    return ticket


def test_pause_and_resume_through_the_api(world, api, freeze, working):
    tech = api.as_(world.tech)
    before = tech.get(f"/api/tickets/{working.id}").json
    assert (before["paused"], before["pausedAt"], before["pauseReason"], before["pausedMinutesTotal"]) == (
        False, None, None, 0)

    freeze(T0 + timedelta(minutes=30))
    r = tech.post(f"/api/tickets/{working.id}/pause",
                  json={"reason": "WAITING_PARTS", "note": "Fan motor ordered", "version": before["version"]})
    assert r.status_code == 200, r.json
    assert (r.json["paused"], r.json["pausedAt"], r.json["pauseReason"]) == (True, "2026-11-24T09:30:00Z",
                                                                              "WAITING_PARTS")
    assert r.json["resolutionDueAt"] == before["resolutionDueAt"] and r.json["version"] > before["version"]

    freeze(T0 + timedelta(minutes=30 + 200))
    r = tech.post(f"/api/tickets/{working.id}/resume", json={"version": r.json["version"]})
    assert r.status_code == 200, r.json
    assert (r.json["paused"], r.json["pausedAt"], r.json["pauseReason"], r.json["pausedMinutesTotal"]) == (
        False, None, None, 200)
    moved = datetime.fromisoformat(r.json["resolutionDueAt"].replace("Z", "+00:00"))
    assert moved - datetime.fromisoformat(before["resolutionDueAt"].replace("Z", "+00:00")) == timedelta(minutes=200)
    assert r.json["responseDueAt"] == before["responseDueAt"]

    events = tech.get(f"/api/tickets/{working.id}/events").json["items"]
    paused, resumed = [e for e in events if e["kind"] in ("paused", "resumed")]
    assert paused["data"] == {"reason": "WAITING_PARTS", "note": "Fan motor ordered"}
    assert paused["actor"]["id"] == world.tech.id
    assert resumed["data"] == {"reason": "WAITING_PARTS", "minutes": 200, "wallMinutes": 200}


def test_resume_without_a_body(world, api, working):
    api.as_(world.dispatcher).post(f"/api/tickets/{working.id}/pause", json={"reason": "NO_ACCESS"})
    r = api.as_(world.dispatcher).post(f"/api/tickets/{working.id}/resume")
    assert r.status_code == 200 and r.json["paused"] is False


@pytest.mark.parametrize("body,field", [
    ({}, "reason"), ({"reason": "LUNCH"}, "reason"), ({"reason": None}, "reason"),
    ({"reason": "OTHER"}, "note"), ({"reason": "OTHER", "note": "  "}, "note"),
    ({"reason": "WAITING_PARTS", "note": "x" * 1001}, "note"),
])
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(world, api, working, body, field):
    r = api.as_(world.tech).post(f"/api/tickets/{working.id}/pause", json=body)
    assert r.status_code == 400 and field in r.json["fields"], r.json
    assert api.as_(world.tech).get(f"/api/tickets/{working.id}").json["paused"] is False


def test_conflicts(world, api, working):
    tech = api.as_(world.tech)
    r = tech.post(f"/api/tickets/{working.id}/resume", json={})
    assert r.status_code == 409 and "not paused" in r.json["error"]
    version = tech.get(f"/api/tickets/{working.id}").json["version"]
    r = tech.post(f"/api/tickets/{working.id}/pause", json={"reason": "WAITING_PARTS", "version": version - 1})
    assert r.status_code == 409
    assert tech.post(f"/api/tickets/{working.id}/pause", json={"reason": "WAITING_PARTS"}).status_code == 200
    r = tech.post(f"/api/tickets/{working.id}/pause", json={"reason": "WAITING_PARTS"})  # the second tap
    assert r.status_code == 409 and "already paused" in r.json["error"]
    assigned = make_ticket(world)
    db.session.commit()
    r = api.as_(world.dispatcher).post(f"/api/tickets/{assigned.id}/pause", json={"reason": "WAITING_PARTS"})
    assert r.status_code == 409 and "in progress" in r.json["error"]


def test_the_store_manager_reads_the_pause_but_may_not_change_it(world, api, working):
    api.as_(world.tech).post(f"/api/tickets/{working.id}/pause", json={"reason": "STORE_REQUEST"})
    mgr = api.as_(world.manager)
    body = mgr.get(f"/api/tickets/{working.id}").json
    assert body["paused"] is True and body["pauseReason"] == "STORE_REQUEST"
    assert mgr.post(f"/api/tickets/{working.id}/resume", json={}).status_code == 403
    assert api.as_(world.outsider_tech).post(f"/api/tickets/{working.id}/resume", json={}).status_code == 404


def test_two_taps_at_the_same_moment_are_one_pause(app, world, api, working):
    """Two pause requests at once (a double tap, the technician and a dispatcher): one
    pauses, the other gets 409; one TicketPause row, one event (both backends)."""
    from app.models import TicketEvent, TicketPause
    from tests.test_concurrency import bearer, run_together

    headers = [bearer(api, world.tech), bearer(api, world.dispatcher)]
    ticket_id = working.id
    db.session.commit()
    responses = run_together(app, [
        lambda c, h=h: c.post(f"/api/tickets/{ticket_id}/pause", json={"reason": "WAITING_PARTS"}, headers=h)
        for h in headers])
    assert sorted(r.status_code for r in responses) == [200, 409], [r.get_json() for r in responses]
    assert db.session.query(TicketPause).filter_by(ticket_id=ticket_id).count() == 1
    assert db.session.query(TicketEvent).filter_by(ticket_id=ticket_id, kind="paused").count() == 1
