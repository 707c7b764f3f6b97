"""GET /api/analytics/sla and /api/analytics/costs (API.md "Analytics")."""
from __future__ import annotations


def test_sla_by_priority(november, api):
    resp = api.as_(november.world.dispatcher).get(
        "/api/analytics/sla?from=2026-11-01&to=2026-11-30&groupBy=priority")
    assert resp.status_code == 200, resp.json
    rows = resp.json["rows"]
    assert [r["key"] for r in rows] == ["CRITICAL", "HIGH", "NORMAL", "LOW"]
    assert rows[0] == {
        "key": "CRITICAL", "label": "Critical", "tickets": 2,
        "responseMeasured": 2, "responseMet": 1, "responseCompliance": 0.5,
        "resolutionMeasured": 1, "resolutionMet": 0, "resolutionCompliance": 0.0,
        "medianResponseMinutes": 60.0, "medianResolutionMinutes": 300.0,
    }
    assert rows[3]["responseCompliance"] is None  # nothing measured: null, not 0


def test_sla_by_technician_and_branch_use_ids_as_keys(november, api):
    w = november.world
    me = api.as_(w.admin)
    rows = me.get("/api/analytics/sla?from=2026-11-01&to=2026-11-30&groupBy=technician").json["rows"]
    timur = next(r for r in rows if r["key"] == w.primary.id)
    assert (timur["label"], timur["tickets"], timur["responseCompliance"]) == ("Timur Primary", 4, 1.0)
    # T1 60 min, T5 120 min to respond; only T1 resolved (480 min).
    assert (timur["medianResponseMinutes"], timur["medianResolutionMinutes"]) == (90.0, 480.0)
    rows = me.get("/api/analytics/sla?from=2026-11-01&to=2026-11-30&groupBy=branch").json["rows"]
    assert {r["key"] for r in rows} == {w.branch.id, w.branch2.id, w.other_branch.id}
    fm2 = next(r for r in rows if r["key"] == w.branch2.id)
    assert (fm2["medianResponseMinutes"], fm2["medianResolutionMinutes"]) == (75.0, None)  # T5 120, T10 30
    rows = me.get("/api/analytics/sla?from=2026-11-01&to=2026-11-30&groupBy=category").json["rows"]
    assert rows[0]["key"] == w.category.id and rows[0]["tickets"] == 8


def test_iso_times_bound_the_range(november, api):
    # 1 Nov 00:00 to 02:00 in Tashkent: only T1 (20:30Z on 31 Oct).
    rows = api.as_(november.world.dispatcher).get(
        "/api/analytics/sla?from=2026-10-31T19:00:00Z&to=2026-10-31T21:00:00Z&groupBy=priority").json["rows"]
    assert [(r["key"], r["tickets"]) for r in rows] == [("HIGH", 1)]


def test_costs_by_month_as_money_strings(november, api):
    resp = api.as_(november.world.dispatcher).get("/api/analytics/costs?from=2026-10-01&to=2026-11-30&groupBy=month")
    assert resp.status_code == 200
    assert resp.json == {"rows": [
        {"key": "2026-10", "label": "Oct 2026", "tickets": 1, "partsCost": "300.00", "laborCost": "90.00",
         "totalCost": "390.00"},
        {"key": "2026-11", "label": "Nov 2026", "tickets": 3, "partsCost": "150.00", "laborCost": "247.50",
         "totalCost": "397.50"},
    ]}


def test_costs_by_branch_and_technician(november, api):
    w = november.world
    me = api.as_(w.dispatcher)
    rows = me.get("/api/analytics/costs?from=2026-11-01&to=2026-11-30&groupBy=branch").json["rows"]
    assert [(r["key"], r["tickets"], r["totalCost"]) for r in rows] == [
        (w.branch.id, 2, "352.50"), (w.branch2.id, 1, "45.00")]
    rows = me.get("/api/analytics/costs?from=2026-11-01&to=2026-11-30&groupBy=technician").json["rows"]
    assert [(r["label"], r["totalCost"]) for r in rows] == [("Timur Primary", "285.00"),
                                                            ("Sardor Secondary", "112.50")]


def test_only_staff_may_read_analytics(november, api, client):
    w = november.world
    assert client.get("/api/analytics/sla").status_code == 401
    for user in (w.tech, w.manager):
        resp = api.as_(user).get("/api/analytics/costs")
        assert resp.status_code == 403 and "error" in resp.json


def test_bad_input_is_a_400_with_the_field(november, api):
    me = api.as_(november.world.dispatcher)
    for query, field in (("groupBy=colour", "groupBy"), ("from=yesterday", "from"),
                         ("from=2026-11-30&to=2026-11-01", "to"), ("from=2020-01-01&to=2026-11-01", "to"),
                         ("to=2026-02-30", "to")):
        resp = me.get(f"/api/analytics/sla?{query}")
        assert resp.status_code == 400, query
        assert field in resp.json["fields"], (query, resp.json)
