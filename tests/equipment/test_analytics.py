"""Analytics by unit: costs grouped by unit (`groupBy=equipment`), the units with most
faults, and faults that came back on a unit within 30 days of approved work."""
from __future__ import annotations

from app import clock
from app.extensions import db
from app.models import TicketSource
from app.services import analytics
from tests.equipment.conftest import at, make_unit, repaired, ticket_on
from tests.factories import make_ticket


def _story(world):
    """CR-001: an October fault repaired 30 Oct; 3 faults in November, each within 30 days
    of approved work on the unit (repeats), two of them repaired in November (100.00 +
    200.00). DC-2: 1 fault, repaired 50.00, and a planned visit (not a fault). A ticket
    with no unit, repaired 75.00."""
    cr = make_unit(world, tag="CR-001", name="Cold room 1")
    dc = make_unit(world, tag="DC-2", name="Dairy case", kind="DISPLAY_CASE")

    def on(when, unit=None):
        clock.set_now(at(when))
        if unit is None:
            t = make_ticket(world)
            db.session.commit()
            return t
        return ticket_on(world, unit)

    october = on("2026-10-29T08:00:00Z", cr)
    clock.set_now(at("2026-10-30T08:00:00Z"))
    repaired(world, october, hours="1")  # 100.00, closed in October: not November's cost
    first = on("2026-11-03T08:00:00Z", cr)  # 4 days after October's repair: a repeat
    repaired(world, first, hours="1")  # 100.00
    on("2026-11-20T08:00:00Z", cr)  # 17 days after `first` was closed: a repeat
    case = on("2026-11-05T08:00:00Z", dc)
    repaired(world, case, hours="0.5")  # 50.00
    plan = on("2026-11-06T08:00:00Z", dc)
    plan.source = TicketSource.PLAN
    db.session.commit()
    loose = on("2026-11-07T08:00:00Z")
    repaired(world, loose, hours="0.75")  # 75.00
    late = on("2026-11-08T08:00:00Z", cr)
    repaired(world, late, hours="2")  # 200.00; created 5 days after `first` was closed: a repeat too
    clock.set_now(at("2026-11-25T12:00:00Z"))
    return cr, dc


def test_costs_by_unit(world, api):
    cr, dc = _story(world)
    r = api.as_(world.dispatcher).get("/api/analytics/costs?from=2026-11-01&to=2026-11-30&groupBy=equipment")
    assert r.status_code == 200, r.json
    rows = {row["key"]: row for row in r.json["rows"]}
    assert set(rows) == {cr.id, dc.id, None}
    assert (rows[cr.id]["label"], rows[cr.id]["tickets"], rows[cr.id]["totalCost"]) == (
        "CR-001 · Cold room 1", 2, "300.00")
    assert (rows[dc.id]["label"], rows[dc.id]["totalCost"]) == ("DC-2 · Dairy case", "50.00")
    assert (rows[None]["label"], rows[None]["totalCost"]) == ("No unit named", "75.00")
    assert [row["key"] for row in r.json["rows"]] == [cr.id, None, dc.id]  # most cost first
    bad = api.as_(world.dispatcher).get("/api/analytics/costs?groupBy=unit")
    assert bad.status_code == 400 and "equipment" in bad.json["fields"]["groupBy"]


def test_units_with_most_faults_and_repeat_faults(world, ctx):
    cr, dc = _story(world)
    rng = analytics.api_range("2026-11-01", "2026-11-30")
    top = analytics.units_with_most_faults(rng, analytics.Filters())
    assert [(r["assetTag"], r["faults"]) for r in top] == [("CR-001", 3), ("DC-2", 1)]  # the plan is no fault
    assert top[0]["label"] == "CR-001 · Cold room 1" and top[0]["branch"] == "Freshmart Central (FM-001)"
    assert top[0]["lastAt"] == at("2026-11-20T08:00:00Z")
    assert [r["assetTag"] for r in analytics.units_with_most_faults(rng, analytics.Filters(), limit=1)] == ["CR-001"]
    assert analytics.units_with_most_faults(rng, analytics.Filters(branch_id=world.branch2.id)) == []
    repeats = analytics.repeat_faults_by_unit(rng, analytics.Filters())
    assert [(r["assetTag"], r["repeats"]) for r in repeats] == [("CR-001", 3)]
    assert repeats[0]["lastAt"] == at("2026-11-20T08:00:00Z")
