"""SLA compliance and times on the hand-built November (see conftest.py)."""
from __future__ import annotations

from datetime import date

from app.services import analytics
from app.services.analytics import Filters

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def by_label(rows):
    return {r["label"]: r for r in rows}


def compliance(row):
    """(response met/measured, resolution met/measured) of a row."""
    return (row["responseMet"], row["responseMeasured"]), (row["resolutionMet"], row["resolutionMeasured"])


def test_november_overall_counts_only_what_was_measurable(november):
    rng = analytics.date_range(*NOVEMBER)
    overall = analytics.sla_report(rng, Filters(), ("overall",))["overall"][0]
    # 8 tickets created in November local time: T1 (31 Oct 20:30Z is 1 Nov in Tashkent),
    # T4..T10; T2 and T3 are October's.
    assert overall["tickets"] == 8
    # Response measured: T1 met, T4 missed (escalated), T5 met, T7 missed (never
    # answered, past due), T10 met. T6 closed before due, T8/T9 not yet due.
    assert compliance(overall)[0] == (3, 5)
    assert overall["responseCompliance"] == 0.6
    # Resolution measured: T1 met (rejected, then approved work submitted in time),
    # T4 missed, T5 and T7 missed (open past due). T10 awaits approval of on-time work.
    assert compliance(overall)[1] == (1, 4)
    assert overall["resolutionCompliance"] == 0.25


def test_median_and_90th_percentile_interpolate_like_percentile_cont(november):
    rng = analytics.date_range(*NOVEMBER)
    overall = analytics.sla_report(rng, Filters(), ("overall",))["overall"][0]
    # Response minutes [30, 60, 90, 120]: median (60+90)/2; p90 at 0.9*3 = 2.7 -> 90 + 0.7*30.
    assert overall["medianResponseMinutes"] == 75.0
    assert overall["p90ResponseMinutes"] == 111.0
    # Resolution minutes of approved tickets [300, 480]: median 390; p90 300 + 0.9*180.
    assert overall["medianResolutionMinutes"] == 390.0
    assert overall["p90ResolutionMinutes"] == 462.0
    # Arrival on site recorded for T1 (90) and T4 (120).
    assert overall["arrivals"] == 2
    assert overall["medianArrivalMinutes"] == 105.0
    assert overall["p90ArrivalMinutes"] == 117.0


def test_compliance_by_priority(november):
    rng = analytics.date_range(*NOVEMBER)
    rows = analytics.sla_report(rng, Filters(), ("priority",))["priority"]
    assert [r["key"] for r in rows] == ["CRITICAL", "HIGH", "NORMAL", "LOW"]
    p = by_label(rows)
    assert p["Critical"]["tickets"] == 2 and compliance(p["Critical"]) == ((1, 2), (0, 1))
    assert p["Critical"]["medianResponseMinutes"] == 60.0  # [30, 90]
    assert p["Critical"]["p90ResponseMinutes"] == 84.0  # 30 + 0.9*60
    assert p["Critical"]["medianResolutionMinutes"] == 300.0
    assert p["High"]["tickets"] == 2 and compliance(p["High"]) == ((1, 1), (1, 1))
    assert p["Normal"]["tickets"] == 3 and compliance(p["Normal"]) == ((1, 2), (0, 2))
    assert p["Normal"]["medianResolutionMinutes"] is None
    assert p["Low"]["tickets"] == 1 and compliance(p["Low"]) == ((0, 0), (0, 0))
    assert p["Low"]["responseCompliance"] is None and p["Low"]["resolutionCompliance"] is None


def test_compliance_by_branch_customer_subcategory_and_category(november):
    rng = analytics.date_range(*NOVEMBER)
    rep = analytics.sla_report(rng, Filters(), ("branch", "customer", "subcategory", "category"))
    b = by_label(rep["branch"])
    assert b["Freshmart Central (FM-001)"]["tickets"] == 4
    assert compliance(b["Freshmart Central (FM-001)"]) == ((1, 2), (1, 2))
    assert compliance(b["Freshmart North (FM-002)"]) == ((2, 2), (0, 1))
    assert compliance(b["Coldline One (CL-001)"]) == ((0, 1), (0, 1))
    c = by_label(rep["customer"])
    assert c["Freshmart"]["tickets"] == 6 and compliance(c["Freshmart"]) == ((3, 4), (1, 3))
    assert c["Coldline"]["tickets"] == 2 and compliance(c["Coldline"]) == ((0, 1), (0, 1))
    s = by_label(rep["subcategory"])
    assert s["Cold Chambers"]["tickets"] == 4 and compliance(s["Cold Chambers"]) == ((2, 3), (1, 3))
    assert s["Glass Repair"]["tickets"] == 1 and compliance(s["Glass Repair"]) == ((0, 0), (0, 0))
    assert s["Temperature Control"]["tickets"] == 3 and compliance(s["Temperature Control"]) == ((1, 2), (0, 1))
    (cat,) = rep["category"]
    assert cat["label"] == "Cooling Equipment Problems" and cat["tickets"] == 8


def test_compliance_by_technician_holding_the_ticket(november):
    rng = analytics.date_range(*NOVEMBER)
    t = by_label(analytics.sla_report(rng, Filters(), ("technician",))["technician"])
    # Timur holds T1, T5 (after Sardor declined), T8, T9.
    assert t["Timur Primary"]["tickets"] == 4 and compliance(t["Timur Primary"]) == ((2, 2), (1, 2))
    # Sardor holds T4 (escalated to him) and T10.
    assert t["Sardor Secondary"]["tickets"] == 2 and compliance(t["Sardor Secondary"]) == ((1, 2), (0, 1))
    assert t["Olim Outsider"]["tickets"] == 2 and compliance(t["Olim Outsider"]) == ((0, 1), (0, 1))


def test_weekly_compliance_uses_local_monday_weeks_and_keeps_empty_weeks(november):
    rng = analytics.date_range(*NOVEMBER)
    weeks = analytics.sla_report(rng, Filters(), ("week",))["week"]
    assert [w["key"] for w in weeks] == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16",
                                         "2026-11-23", "2026-11-30"]
    w = {x["key"]: x for x in weeks}
    assert w["2026-10-26"]["tickets"] == 1 and compliance(w["2026-10-26"]) == ((1, 1), (1, 1))
    assert w["2026-11-02"]["tickets"] == 0 and w["2026-11-02"]["responseCompliance"] is None
    # T4, T5 and T6 (Sunday 15 Nov, 14:00 local).
    assert w["2026-11-09"]["tickets"] == 3 and compliance(w["2026-11-09"]) == ((1, 2), (0, 2))
    assert w["2026-11-16"]["tickets"] == 4 and compliance(w["2026-11-16"]) == ((1, 2), (0, 1))


def test_filters_narrow_the_tickets(november):
    w = november.world
    rng = analytics.date_range(*NOVEMBER)
    only = analytics.sla_report(rng, Filters(customer_id=w.other_customer.id), ("overall",))["overall"][0]
    assert only["tickets"] == 2 and compliance(only) == ((0, 1), (0, 1))
    fm2 = analytics.sla_report(rng, Filters(branch_id=w.branch2.id), ("overall",))["overall"][0]
    assert fm2["tickets"] == 2 and compliance(fm2) == ((2, 2), (0, 1))
    from app.models import TicketPriority

    crit = analytics.sla_report(rng, Filters(priority=TicketPriority.CRITICAL), ("overall",))["overall"][0]
    assert crit["tickets"] == 2
    none = analytics.sla_report(rng, Filters(category_id="nope"), ("overall", "priority"))
    assert none["overall"][0]["tickets"] == 0 and none["priority"] == []


def test_the_range_starts_at_local_midnight(november):
    # 1 Nov only: T1 was created at 01:30 local (20:30Z on 31 Oct).
    one_day = analytics.date_range(date(2026, 11, 1), date(2026, 11, 1))
    assert analytics.sla_report(one_day, Filters(), ("overall",))["overall"][0]["tickets"] == 1
    # October in Tashkent ends at 31 Oct 19:00Z: it holds T2 and T3, not T1.
    october = analytics.date_range(date(2026, 10, 1), date(2026, 10, 31))
    assert analytics.sla_report(october, Filters(), ("overall",))["overall"][0]["tickets"] == 2
