"""The pauses report: GET /api/analytics/pauses (API.md, "Pausing the resolution clock"),
its table and CSV on /dispatcher/analytics, and SLA compliance over the due times pauses
moved.

The pauses are written as services/pauses.py records them (a `ticket_pauses` row with the
ticket's branch and technician at the time; the ticket's resolution due time moved on
resume). APP_TIMEZONE=Asia/Tashkent (UTC+5): November is 10-31 19:00Z .. 11-30 19:00Z.

  p1 WAITING_PARTS  FM-001 Timur   11-02 10:00Z -> 12:00Z   120 min
  p2 WAITING_PARTS  FM-002 Sardor  11-05 08:00Z -> 09:30Z    90 min
  p3 WAITING_PARTS  FM-001 Timur   11-06 06:00Z -> 06:30Z    30 min
  p4 NO_ACCESS      FM-001 Timur   11-10 00:00Z -> 01:00Z    60 min
  p5 NO_ACCESS      FM-002 nobody  11-11 08:00Z -> 12:00Z   240 min
  p6 STORE_REQUEST  FM-001 Timur   11-19 12:00Z, still open: 1,440 min at NOW (11-20 12:00Z)
  p7 OTHER          FM-002 Sardor  10-31 18:59Z (31 Oct 23:59 local): October, left out
  p8 OTHER          FM-002 Sardor  10-31 19:00Z (1 Nov 00:00 local) -> 19:10Z   10 min
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest

from app import clock
from app.extensions import db
from app.models import PauseReason, TicketPause, TicketPriority, TicketStatus
from app.services import analytics
from app.services.analytics.pauses import median_of_histogram
from tests.analytics.conftest import NOW, at

NOV = "from=2026-11-01&to=2026-11-30"


def record_pause(ticket, reason, start, end=None, technician=None, note=None):
    """A pause as services/pauses.py leaves it: a row, and while open the ticket's state."""
    paused_at = at(start)
    p = TicketPause(ticket_id=ticket.id, reason=reason, note=note, paused_at=paused_at,
                    technician_id=technician.id if technician else None, branch_id=ticket.branch_id)
    if end is not None:
        p.resumed_at = at(end)
        p.wall_minutes = int((p.resumed_at - paused_at).total_seconds() // 60)
        p.paused_minutes = p.wall_minutes
    else:
        ticket.paused_at, ticket.pause_reason = paused_at, reason
    db.session.add(p)
    return p


@pytest.fixture
def pauses(world, story, tashkent):
    w = world
    t1 = story.create("2026-11-01T06:00:00Z")
    t2 = story.create("2026-11-01T06:00:00Z", branch=w.branch2)
    t3 = story.create("2026-11-01T06:00:00Z", branch=w.branch2)
    from app.services import tickets

    a, b, c = (tickets.get_ticket(t) for t in (t1, t2, t3))
    R = PauseReason
    record_pause(a, R.WAITING_PARTS, "2026-11-02T10:00:00Z", "2026-11-02T12:00:00Z", w.primary)
    record_pause(b, R.WAITING_PARTS, "2026-11-05T08:00:00Z", "2026-11-05T09:30:00Z", w.secondary)
    record_pause(a, R.WAITING_PARTS, "2026-11-06T06:00:00Z", "2026-11-06T06:30:00Z", w.primary)
    record_pause(a, R.NO_ACCESS, "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", w.primary)
    record_pause(c, R.NO_ACCESS, "2026-11-11T08:00:00Z", "2026-11-11T12:00:00Z", None)
    record_pause(a, R.STORE_REQUEST, "2026-11-19T12:00:00Z", None, w.primary)
    record_pause(b, R.OTHER, "2026-10-31T18:59:00Z", "2026-10-31T19:00:00Z", w.secondary, "Inventory day")
    record_pause(b, R.OTHER, "2026-10-31T19:00:00Z", "2026-10-31T19:10:00Z", w.secondary, "Inventory day")
    db.session.commit()
    clock.set_now(at(NOW))
    return SimpleNamespace(world=w, paused=a)


def _rows(api, user, query):
    resp = api.as_(user).get(f"/api/analytics/pauses?{query}")
    assert resp.status_code == 200, resp.json
    return resp.json["rows"]


def test_by_reason_counts_minutes_and_medians(pauses, api):
    rows = _rows(api, pauses.world.dispatcher, f"{NOV}&groupBy=reason")
    assert rows == [
        {"key": "WAITING_PARTS", "label": "Waiting for parts", "pauses": 3, "pausedMinutes": 240, "medianMinutes": 90.0},
        {"key": "NO_ACCESS", "label": "No access to the store", "pauses": 2, "pausedMinutes": 300,
         "medianMinutes": 150.0},
        # Still open: its length so far, up to now.
        {"key": "STORE_REQUEST", "label": "Store asked to wait", "pauses": 1, "pausedMinutes": 1440,
         "medianMinutes": 1440.0},
        # p8 began at local midnight of 1 November; p7 a minute before, in October.
        {"key": "OTHER", "label": "Other reason", "pauses": 1, "pausedMinutes": 10, "medianMinutes": 10.0},
    ]
    # groupBy defaults to the reason.
    assert _rows(api, pauses.world.admin, NOV) == rows


def test_by_branch_and_technician_use_ids_as_keys(pauses, api):
    w = pauses.world
    rows = _rows(api, w.dispatcher, f"{NOV}&groupBy=branch")
    assert rows == [
        {"key": w.branch.id, "label": "Freshmart Central (FM-001)", "pauses": 4, "pausedMinutes": 1650,
         "medianMinutes": 90.0},
        {"key": w.branch2.id, "label": "Freshmart North (FM-002)", "pauses": 3, "pausedMinutes": 340,
         "medianMinutes": 90.0},
    ]
    rows = _rows(api, w.dispatcher, f"{NOV}&groupBy=technician")
    assert rows == [
        {"key": w.primary.id, "label": "Timur Primary", "pauses": 4, "pausedMinutes": 1650, "medianMinutes": 90.0},
        {"key": w.secondary.id, "label": "Sardor Secondary", "pauses": 2, "pausedMinutes": 100,
         "medianMinutes": 50.0},
        {"key": None, "label": "Unassigned", "pauses": 1, "pausedMinutes": 240, "medianMinutes": 240.0},
    ]


def test_an_open_pause_grows_with_the_clock_and_the_range_picks_pauses_by_their_start(pauses, api):
    w = pauses.world
    clock.set_now(at(NOW) + timedelta(hours=1))
    # The range ends before now: the open pause still counts its whole length so far.
    rows = _rows(api, w.dispatcher, "from=2026-11-19&to=2026-11-19&groupBy=reason")
    assert [(r["key"], r["pauses"], r["pausedMinutes"]) for r in rows] == [("STORE_REQUEST", 1, 1500)]
    rows = _rows(api, w.dispatcher, "from=2026-11-01&to=2026-11-05&groupBy=reason")
    assert [(r["key"], r["pauses"], r["pausedMinutes"]) for r in rows] == [("WAITING_PARTS", 2, 210), ("OTHER", 1, 10)]
    # ISO times: 11-05 08:00Z exactly is in, the minute before p1 is out.
    rows = _rows(api, w.dispatcher, "from=2026-11-05T08:00:00Z&to=2026-11-10T00:00:00Z&groupBy=reason")
    assert [(r["key"], r["pauses"]) for r in rows] == [("WAITING_PARTS", 2), ("NO_ACCESS", 1)]
    assert _rows(api, w.dispatcher, "from=2026-12-01&to=2026-12-31") == []


def test_labels_in_the_readers_language(pauses, api):
    resp = api.as_(pauses.world.dispatcher).get(f"/api/analytics/pauses?{NOV}",
                                                headers={"Accept-Language": "ru"})
    labels = [r["label"] for r in resp.json["rows"]]
    assert labels[0] != "Waiting for parts" and labels[0]
    rows = api.as_(pauses.world.dispatcher).get(f"/api/analytics/pauses?{NOV}&groupBy=technician",
                                                headers={"Accept-Language": "ru"}).json["rows"]
    assert rows[-1]["key"] is None and rows[-1]["label"] != "Unassigned"


def test_only_staff_may_read_it_and_bad_input_is_a_400(pauses, api, client):
    w = pauses.world
    assert client.get("/api/analytics/pauses").status_code == 401
    for user in (w.tech, w.manager):
        resp = api.as_(user).get(f"/api/analytics/pauses?{NOV}")
        assert resp.status_code == 403 and "error" in resp.json
    me = api.as_(w.dispatcher)
    for query, field in (("groupBy=priority", "groupBy"), ("groupBy=colour", "groupBy"), ("from=yesterday", "from"),
                         ("from=2026-11-30&to=2026-11-01", "to"), ("from=2020-01-01&to=2026-11-01", "to")):
        resp = me.get(f"/api/analytics/pauses?{query}")
        assert resp.status_code == 400, query
        assert field in resp.json["fields"], (query, resp.json)


def test_the_median_interpolates_like_percentile_cont():
    assert median_of_histogram([]) is None
    assert median_of_histogram([(7, 1)]) == 7.0
    assert median_of_histogram([(30, 1), (120, 1), (90, 1)]) == 90.0
    assert median_of_histogram([(10, 1), (20, 1), (30, 1), (1000, 1)]) == 25.0
    assert median_of_histogram([(10, 3), (20, 1)]) == 10.0
    assert median_of_histogram([(10, 2), (20, 2)]) == 15.0


def test_the_page_filters_apply_to_the_report(pauses, app):
    w = pauses.world
    rng = analytics.date_range(*[at(d).date() for d in ("2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z")])
    rows = analytics.pause_report(rng, analytics.Filters(branch_id=w.branch2.id), "reason")
    assert [(r["key"], r["pauses"]) for r in rows] == [("WAITING_PARTS", 1), ("NO_ACCESS", 1), ("OTHER", 1)]
    assert analytics.pause_report(rng, analytics.Filters(priority=TicketPriority.HIGH), "reason") == []
    rows = analytics.pause_report(rng, analytics.Filters(customer_id=w.other_customer.id), "branch")
    assert rows == []


# --- the page: the table, its switch, its CSV ---------------------------------------------

def _csv(resp):
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_page_shows_pauses_by_reason_with_links_to_the_other_groupings(pauses, signed_in):
    w = pauses.world
    c = signed_in(w.dispatcher)
    html = c.get(f"/dispatcher/analytics?preset=custom&{NOV}").get_data(as_text=True)
    assert 'id="table-pauses-reason"' in html
    section = html[html.index('id="pauses"'):]
    assert "Waiting for parts" in section and "Store asked to wait" in section
    assert "1 d" in section  # the open pause, 1,440 minutes so far
    assert "pauses-reason.csv?" in section
    assert "pausesBy=branch" in section and "pausesBy=technician" in section
    html = c.get(f"/dispatcher/analytics?preset=custom&{NOV}&pausesBy=technician").get_data(as_text=True)
    section = html[html.index('id="pauses"'):]
    assert 'id="table-pauses-technician"' in section and "Timur Primary" in section
    assert "pauses-technician.csv?" in section
    # An unknown grouping falls back to the reason.
    html = c.get(f"/dispatcher/analytics?preset=custom&{NOV}&pausesBy=colour").get_data(as_text=True)
    assert 'id="table-pauses-reason"' in html


def test_the_csv_has_raw_minutes(pauses, signed_in):
    w = pauses.world
    c = signed_in(w.dispatcher)
    rows = _csv(c.get(f"/dispatcher/analytics/pauses-reason.csv?preset=custom&{NOV}"))
    assert rows[0] == ["Reason", "Pauses", "Total minutes paused", "Median minutes"]
    assert rows[1] == ["Waiting for parts", "3", "240", "90"]
    assert len(rows) == 5
    rows = _csv(c.get(f"/dispatcher/analytics/pauses-branch.csv?preset=custom&{NOV}&branch={w.branch.id}"))
    assert rows[1:] == [["Freshmart Central (FM-001)", "4", "1650", "90"]]
    for user in (w.tech, w.manager):
        assert signed_in(user).get(f"/dispatcher/analytics/pauses-reason.csv?preset=custom&{NOV}").status_code == 403


# --- SLA compliance uses the due time pauses moved ------------------------------------------

def test_a_ticket_paused_2h_and_completed_1h_after_its_first_due_time_is_met(world, story, api, tashkent):
    """NORMAL resolution is 2,880 minutes: created 11-02 06:00Z, due 11-04 06:00Z. Paused
    2 h on 11-03 (the due time moves to 08:00Z), completed 11-04 07:00Z: an hour after the
    due time first promised, an hour before the one it has now: met."""
    w = world
    tid = story.create("2026-11-02T06:00:00Z")
    story.accept(tid, w.tech, "2026-11-02T07:00:00Z")
    from app.services import tickets

    t = tickets.get_ticket(tid)
    first_due = t.resolution_due_at
    assert first_due == at("2026-11-04T06:00:00Z")
    record_pause(t, PauseReason.WAITING_PARTS, "2026-11-03T10:00:00Z", "2026-11-03T12:00:00Z", w.primary)
    t.paused_at = t.pause_reason = None
    t.paused_minutes_total = 120
    t.resolution_due_at = first_due + timedelta(hours=2)  # what resume does (calendar-less branch)
    t.resolution_warn_at = t.resolution_warn_at + timedelta(hours=2)
    db.session.commit()
    story.complete(tid, w.tech, "2026-11-04T07:00:00Z", "1")
    story.approve(tid, "2026-11-04T09:00:00Z")
    t = tickets.get_ticket(tid)
    assert t.status == TicketStatus.CLOSED and t.completed_at > first_due
    rows = api.as_(w.dispatcher).get("/api/analytics/sla?from=2026-11-01&to=2026-11-30&groupBy=priority").json["rows"]
    normal = next(r for r in rows if r["key"] == "NORMAL")
    assert (normal["resolutionMeasured"], normal["resolutionMet"], normal["resolutionCompliance"]) == (1, 1, 1.0)


def test_a_resumed_pause_counts_the_minutes_its_resume_recorded(pauses, api):
    """The timeline says "30 min" for a pause of 29 min 40 s (the resume rounds); the
    report says the same, not 29."""
    w = pauses.world
    p = record_pause(pauses.paused, PauseReason.OTHER, "2026-12-01T10:00:00Z", "2026-12-01T10:29:40Z", w.primary,
                     "Power cut")
    p.wall_minutes = 30
    db.session.commit()
    clock.set_now(at("2026-12-02T00:00:00Z"))
    rows = _rows(api, w.dispatcher, "from=2026-12-01&to=2026-12-01")
    assert [(r["key"], r["pausedMinutes"], r["medianMinutes"]) for r in rows] == [("OTHER", 30, 30.0)]
