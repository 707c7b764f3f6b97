"""Cost of approved work, technician performance, repeat faults and tickets at risk,
on the hand-built November (see conftest.py)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.services import analytics
from app.services.analytics import Filters

NOVEMBER = analytics_range = (date(2026, 11, 1), date(2026, 11, 30))
D = Decimal


def by_label(rows):
    return {r["label"]: r for r in rows}


def money(row):
    return row["tickets"], row["partsCost"], row["laborCost"], row["totalCost"]


def test_cost_counts_approved_work_of_tickets_closed_in_the_range(november):
    rng = analytics.date_range(*NOVEMBER)
    rep = analytics.cost_report(rng, Filters())
    # T1's approved second completion (150.00 + 135.00), T2 (closed 01:30 local on
    # 1 Nov: 45.00) and T4 (67.50). T1's rejected first completion, T10's pending
    # one and T3 (closed 23:30 local on 31 Oct) are not November's cost.
    assert money(rep["overall"][0]) == (3, D("150.00"), D("247.50"), D("397.50"))
    b = by_label(rep["branch"])
    assert [r["label"] for r in rep["branch"]] == ["Freshmart Central (FM-001)", "Freshmart North (FM-002)"]
    assert money(b["Freshmart Central (FM-001)"]) == (2, D("150.00"), D("202.50"), D("352.50"))
    assert money(b["Freshmart North (FM-002)"]) == (1, D("0.00"), D("45.00"), D("45.00"))
    assert money(by_label(rep["customer"])["Freshmart"]) == (3, D("150.00"), D("247.50"), D("397.50"))
    assert money(by_label(rep["subcategory"])["Cold Chambers"]) == (3, D("150.00"), D("247.50"), D("397.50"))
    assert money(by_label(rep["category"])["Cooling Equipment Problems"])[0] == 3
    assert [(m["key"], m["totalCost"]) for m in rep["month"]] == [("2026-11", D("397.50"))]


def test_a_month_is_the_local_calendar_month(november, app, monkeypatch):
    autumn = analytics.date_range(date(2026, 10, 1), date(2026, 11, 30))
    months = analytics.cost_report(autumn, Filters(), ("month",))["month"]
    assert [(m["key"], m["label"], m["tickets"], m["totalCost"]) for m in months] == [
        ("2026-10", "Oct 2026", 1, D("390.00")),
        ("2026-11", "Nov 2026", 3, D("397.50")),
    ]
    # The same facts read in UTC: T2 was approved at 20:30Z on 31 October.
    monkeypatch.setitem(app.config, "APP_TIMEZONE", "UTC")
    utc = analytics.date_range(date(2026, 10, 1), date(2026, 11, 30))
    months = analytics.cost_report(utc, Filters(), ("month",))["month"]
    assert [(m["key"], m["tickets"], m["totalCost"]) for m in months] == [
        ("2026-10", 2, D("435.00")), ("2026-11", 2, D("352.50"))]


def test_technician_performance(november):
    rng = analytics.date_range(*NOVEMBER)
    t = by_label(analytics.technician_report(rng, Filters()))
    timur, sardor, olim = t["Timur Primary"], t["Sardor Secondary"], t["Olim Outsider"]
    # Timur: assigned T1, T4, T5 (after the decline), T8, T9; accepted T1 and T5;
    # T4 was escalated away from him; two submissions on T1, one of them rejected.
    assert (timur["assigned"], timur["accepted"], timur["declined"], timur["escalatedAway"]) == (5, 2, 0, 1)
    assert (timur["completed"], timur["decided"], timur["rejected"], timur["rejectionRate"]) == (2, 2, 1, 0.5)
    assert (timur["responseMet"], timur["responseMeasured"]) == (2, 2)
    assert (timur["resolutionMet"], timur["resolutionMeasured"]) == (1, 2)
    assert (timur["partsCost"], timur["laborCost"], timur["totalCost"]) == (D("150.00"), D("135.00"), D("285.00"))
    assert timur["medianLaborHours"] == 3.0
    # Sardor: assigned T5 (declined), T10, and T4 by escalation; accepted T4 and T10;
    # submitted T2 (at local midnight, 1 Nov), T4 and T10; T2 and T4 approved.
    assert (sardor["assigned"], sardor["accepted"], sardor["declined"], sardor["escalatedAway"]) == (3, 2, 1, 0)
    assert (sardor["completed"], sardor["decided"], sardor["rejected"], sardor["rejectionRate"]) == (3, 2, 0, 0.0)
    assert (sardor["totalCost"], sardor["medianLaborHours"], sardor["approvedJobs"]) == (D("112.50"), 1.25, 2)
    assert (olim["assigned"], olim["accepted"], olim["completed"], olim["rejectionRate"]) == (2, 0, 0, None)
    assert (olim["responseMet"], olim["responseMeasured"], olim["totalCost"]) == (0, 1, D("0.00"))


def test_technician_activity_follows_the_filters(november):
    w = november.world
    rng = analytics.date_range(*NOVEMBER)
    t = by_label(analytics.technician_report(rng, Filters(branch_id=w.branch2.id)))
    # FM-002 in November: T5 (Sardor assigned + declined, Timur assigned + accepted),
    # T10 (Sardor assigned, accepted, submitted) and T2's submission and approval.
    assert set(t) == {"Timur Primary", "Sardor Secondary"}
    assert (t["Timur Primary"]["assigned"], t["Timur Primary"]["accepted"], t["Timur Primary"]["escalatedAway"]) == (1, 1, 0)
    assert (t["Sardor Secondary"]["assigned"], t["Sardor Secondary"]["declined"], t["Sardor Secondary"]["completed"]) == (2, 1, 2)


def test_repeat_faults_come_back_within_30_days_of_approved_work(november):
    rng = analytics.date_range(*NOVEMBER)
    rows = analytics.repeat_faults(rng, Filters())
    # FM-001 Cold Chambers: T4 and T8 after T1; FM-002 Cold Chambers: T5 after T2
    # (closed in October: the earlier ticket may predate the range). CL-001's T7
    # follows T6, which was closed without any work: not a repeat.
    assert [(r["branch"], r["subcategory"], r["repeats"]) for r in rows] == [
        ("Freshmart Central (FM-001)", "Cold Chambers", 2),
        ("Freshmart North (FM-002)", "Cold Chambers", 1),
    ]


def test_repeat_window_is_30_days(world, story, tashkent):
    story.approved_ticket("2026-09-01T08:00:00Z", "2026-09-01T12:00:00Z")
    story.create("2026-10-01T11:59:59Z")          # 29 days 23:59:59 later: a repeat
    story.create("2026-10-01T12:00:00Z")          # exactly 30 days: not any more
    rng = analytics.date_range(date(2026, 10, 1), date(2026, 10, 31))
    (row,) = analytics.repeat_faults(rng, Filters())
    assert row["repeats"] == 1


def test_repeat_faults_across_and_within_30_day_blocks(world, story, tashkent):
    # The count works on 30-day blocks of time from 1970 (one starts on 2026-10-04 00:00Z):
    # a closing in the block before the new ticket's, and one in the same block, both count.
    story.approved_ticket("2026-09-20T08:00:00Z", "2026-10-03T23:00:00Z")  # block before
    story.create("2026-10-04T01:00:00Z")  # 2 h later, next block: a repeat
    story.approved_ticket("2026-10-05T08:00:00Z", "2026-10-06T09:00:00Z", sub="Glass Repair")
    story.create("2026-10-20T10:00:00Z", sub="Glass Repair")  # same block: a repeat
    story.create("2026-11-10T10:00:00Z", sub="Glass Repair")  # 35 days on: not
    rng = analytics.date_range(date(2026, 10, 4), date(2026, 11, 30))
    rows = analytics.repeat_faults(rng, Filters())
    assert [(r["subcategory"], r["repeats"]) for r in rows] == [("Cold Chambers", 1), ("Glass Repair", 1)]


def test_open_tickets_at_risk(november):
    risk = analytics.at_risk(Filters())
    ids = november.ids
    # T5 (resolution overdue), T7 (never answered), T9 (210 of 240 response minutes
    # used). T8 has just started; T10 waits for approval, not for the technician.
    assert [r["id"] for r in risk["rows"]] == [ids.t5, ids.t7, ids.t9]
    assert (risk["count"], risk["overdue"]) == (3, 2)
    t9 = risk["rows"][2]
    assert (t9["sla"], t9["overdue"], t9["minutesLeft"]) == ("response", False, 30)
    t5 = risk["rows"][0]
    assert (t5["sla"], t5["overdue"]) == ("resolution", True)
    assert analytics.at_risk(Filters(branch_id=november.world.other_branch.id))["count"] == 1


def test_customer_and_category_filters_reach_cost_repeats_and_technicians(november):
    w = november.world
    rng = analytics.date_range(*NOVEMBER)
    coldline = Filters(customer_id=w.other_customer.id)
    assert analytics.cost_report(rng, coldline, ("overall",))["overall"][0]["tickets"] == 0
    assert analytics.repeat_faults(rng, coldline) == []
    assert [t["label"] for t in analytics.technician_report(rng, coldline)] == ["Olim Outsider"]
    freshmart = Filters(customer_id=w.customer.id, category_id=w.category.id)
    assert money(analytics.cost_report(rng, freshmart, ("overall",))["overall"][0]) == \
        (3, D("150.00"), D("247.50"), D("397.50"))
    assert sum(r["repeats"] for r in analytics.repeat_faults(rng, freshmart)) == 3
    # A priority filter narrows the new tickets, never the earlier closed ones.
    from app.models import TicketPriority

    critical = analytics.repeat_faults(rng, Filters(priority=TicketPriority.CRITICAL))
    assert [(r["branch"], r["repeats"]) for r in critical] == [("Freshmart Central (FM-001)", 1)]  # T4 after T1 (HIGH)
