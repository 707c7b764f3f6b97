"""Issue 15 follow-up (the user walk): the ticket page and the service report read in
plain words: one status, human timeline sentences, every time with its zone, one
distance format, no raw enum words, and a ticket closed without work says so."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from app.extensions import db
from app.models import TicketEvent
from app.services import completions, tickets, timeline_text
from tests.factories import make_ticket
from tests.store.conftest import finished_ticket


def _html(resp) -> str:
    return resp.get_data(as_text=True)


def _timeline(html: str) -> str:
    return html[html.index('id="timeline"'):html.index("</ol>", html.index('id="timeline"'))]


def test_a_sent_back_ticket_shows_one_status_to_the_store(world, login):
    t = finished_ticket(world)
    completions.decide(t.completion, world.manager, {"action": "reject", "reason": "Still warm"})
    db.session.commit()
    html = _html(login(world.manager).get(f"/tickets/{t.id}"))
    assert "Sent back to the technician" in html
    assert "Technician on site" not in html


EVERY_KIND = {
    "created": {"priority": "HIGH"}, "assigned": {"technicianName": "Aziz", "automatic": True},
    "reassigned": {"technicianName": "Bek"}, "accepted": {}, "declined": {"reason": "Too far"},
    "arrived": {"distanceMeters": 7456.0, "farFromBranch": True}, "photo_added": {"type": "after"},
    "photo_removed": {"type": "before"}, "priority_changed": {"from": "NORMAL", "to": "CRITICAL"},
    "internal_note": {"text": "x"}, "store_note": {"text": "y"}, "closed": {"reason": "Duplicate"},
    "completed": {"totalCost": "98.00"}, "approved": {"signedBy": "Manager"}, "rejected": {"reason": "Warm"},
    "escalated": {"level": 1, "technicianName": "Bek", "automatic": True},
    "not_assigned": {"reason": "Bek (primary) is on leave and the branch has no other active technician"},
    "escalation_no_secondary": {"level": 1, "reason": "no_secondary"}, "escalation_level2": {"level": 2},
    "sla_response_warning": {"responseDueAt": "2026-12-05T08:59:00Z"},
    "sla_response_overdue": {"responseDueAt": "2026-12-05T08:59:00Z"}, "sla_resolution_overdue": {},
    "equipment_changed": {"equipmentId": "e1", "assetTag": "CR-001", "equipmentName": "Cold room",
                          "previousEquipmentId": None, "previousAssetTag": None, "previousEquipmentName": None},
    "qr_report": {"reporterName": "Dilnoza", "reporterPhone": "+998901234567", "description": "Warm inside",
                  "urgent": False, "subcategoryName": "Equipment Not Working"},
    "paused": {"reason": "WAITING_PARTS", "note": "Compressor ordered"},
    "resumed": {"reason": "WAITING_PARTS", "minutes": 200, "wallMinutes": 200},
    "sla_pause_long": {"reason": "WAITING_PARTS", "pausedAt": "2026-12-05T08:59:00Z"},
}


@pytest.mark.parametrize("kind", sorted(EVERY_KIND))
def test_every_timeline_event_reads_as_a_plain_sentence(app, kind):
    with app.test_request_context():
        text = timeline_text.event_text(kind, EVERY_KIND[kind], datetime(2026, 12, 5, 8, 59, tzinfo=timezone.utc))
    assert text and text[0].isupper()
    assert "_" not in text and not re.search(r"\bSla\b|\bSLA\b", text), text
    assert not re.search(r"\b(HIGH|NORMAL|CRITICAL|LOW|IN_PROGRESS|NEW)\b", text), text
    assert text != timeline_text.event_text("no_such_kind", {}), "every kind has its own sentence"


def test_every_kind_the_code_records_has_its_sentence():
    """A new event kind cannot reach the timeline as the generic line."""
    from pathlib import Path

    app_dir = Path(__file__).resolve().parents[2] / "app"
    recorded = set()
    for path in app_dir.rglob("*.py"):
        text = path.read_text()
        recorded |= set(re.findall(r'record_event\([^,]+,\s*"([a-z_]+)"', text))
    assert recorded, "the pattern finds the kinds"
    assert recorded - set(timeline_text.TEXTS) == set()
    assert set(EVERY_KIND) == set(timeline_text.TEXTS)


def test_the_sweeps_events_on_the_page_say_which_deadline_was_missed_and_when(world, login, freeze):
    freeze("2026-12-05T08:00:00Z")
    t = make_ticket(world)
    db.session.commit()
    for kind, data in (("sla_response_overdue", {"responseDueAt": "2026-12-05T08:59:00Z"}),
                       ("sla_resolution_overdue", {}), ("escalation_level2", {"level": 2})):
        db.session.add(TicketEvent(ticket_id=t.id, kind=kind, data=data))
    db.session.commit()
    timeline = _timeline(_html(login(world.manager).get(f"/tickets/{t.id}")))
    assert "Response deadline missed (was due 5 Dec 08:59 UTC)." in timeline
    due = t.resolution_due_at.strftime("%-d %b %H:%M")
    assert f"Fix deadline missed (was due {due} UTC)." in timeline
    assert "Sla " not in timeline and "Escalation level2" not in timeline


def test_every_time_on_the_page_has_its_zone_and_distances_one_format(world, login, freeze):
    freeze("2026-12-05T08:00:00Z")
    t = finished_ticket(world)
    t.arrival_distance_m = 7456.0
    db.session.add(TicketEvent(ticket_id=t.id, kind="arrived", data={"distanceMeters": 7456.0}))
    db.session.commit()
    html = _html(login(world.dispatcher).get(f"/tickets/{t.id}"))
    for label in ("Reported", "First response", "Arrived", "Completed"):
        value = re.search(rf"<dt>{label}</dt><dd>([^<]*)", html).group(1)
        assert value.strip().endswith("UTC"), (label, value)
    assert "7.5 km from the branch" in html and "7456 m" not in html
    assert "Arrived on site, 7.5 km from the branch." in _timeline(html)


def test_the_store_does_not_see_the_external_id_and_the_report_says_met_in_words(world, login):
    t = finished_ticket(world)
    t.external_id = "EXT-42"
    db.session.commit()
    client = login(world.manager)
    html = _html(client.get(f"/tickets/{t.id}"))
    assert "External id" not in html and "EXT-42" not in html
    assert "External id" in _html(login(world.dispatcher).get(f"/tickets/{t.id}"))


def test_a_ticket_closed_without_completion_says_so_in_the_past_tense_without_a_report(world, login):
    t = make_ticket(world)
    db.session.commit()
    tickets.close_without_completion(t, "Duplicate of another ticket", world.dispatcher)
    db.session.commit()
    for user in (world.manager, world.dispatcher):
        html = _html(login(user).get(f"/tickets/{t.id}"))
        assert "Closed without completion: Duplicate of another ticket" in html
        assert "has not submitted the work yet" not in html
        assert ">Service report<" not in html
    html = _html(login(world.dispatcher).get(f"/tickets/{t.id}"))
    assert "Technician had to respond by" in html and "must respond by" not in html


def test_the_favicon_is_there(client):
    r = client.get("/favicon.ico")
    assert r.status_code in (301, 302, 308)
    icon = client.get(r.headers["Location"])
    assert icon.status_code == 200 and b"<svg" in icon.data
    icon.close()
    html = _html(client.get("/login"))
    assert 'rel="icon"' in html


def test_store_badges_show_the_words_as_written_not_shouted(world, login):
    """The priority chip and the report's Met/Missed were upper-cased by the stylesheet
    ("HIGH", "MET"): the words are shown as the label says."""
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "app" / "static" / "css" / "store.css").read_text()
    for selector in (".prio {", ".sla {"):
        rule = css[css.index(selector):css.index("}", css.index(selector))]
        assert "uppercase" not in rule, selector
    from app.models import TicketPriority

    t = make_ticket(world, by=world.manager, priority=TicketPriority.HIGH)
    db.session.commit()
    html = _html(login(world.manager).get("/store"))
    assert '<span class="prio prio-high">High</span>' in html, t.id
