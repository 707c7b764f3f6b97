"""A unit's figures (GET /api/equipment/{id} `summary`), worked out by hand, and what they
cost in queries: the same whether the unit has one ticket or fifty."""
from __future__ import annotations

from datetime import timedelta

from app import clock
from app.extensions import db
from app.models import TicketSource
from app.services import equipment
from tests.equipment.conftest import at, make_unit, repaired, ticket_on
from tests.helpers import TRANSACTION_CONTROL, count_statements


def test_summary_counts_open_tickets_service_cost_and_recent_faults(world, api, unit):
    """Story (now = 2026-11-20 12:00Z):
    A 2025-10-01 ticket, repaired the same day for 300.00: over a year ago (no cost, no fault).
    B 2026-08-01 ticket, repaired for 250.00 (2.5 h x 100): 12-month cost; not a recent fault.
    C 2026-11-01 ticket, repaired for 100.00: cost and fault; the last service.
    D 2026-11-15 ticket, open: open and a fault.
    E 2026-11-18 planned maintenance ticket, open: open, not a fault.
    A ticket on another unit changes nothing."""
    other = make_unit(world, tag="DC-1", kind="DISPLAY_CASE", name="Case")

    def on(when, target=unit, **kw):
        clock.set_now(at(when))
        return ticket_on(world, target, **kw)

    a = on("2025-10-01T08:00:00Z")
    repaired(world, a, hours="3")
    b = on("2026-08-01T08:00:00Z")
    repaired(world, b, hours="2.5")
    c = on("2026-11-01T08:00:00Z")
    clock.set_now(at("2026-11-01T10:00:00Z"))
    repaired(world, c, hours="1")
    on("2026-11-15T08:00:00Z")
    e = on("2026-11-18T08:00:00Z")
    e.source = TicketSource.PLAN
    db.session.commit()
    repaired(world, on("2026-11-19T08:00:00Z", target=other), hours="9")
    clock.set_now(at("2026-11-20T12:00:00Z"))

    r = api.as_(world.manager).get(f"/api/equipment/{unit.id}")
    assert r.status_code == 200, r.json
    assert r.json["summary"] == {
        "ticketsTotal": 5, "openTickets": 2, "lastServiceAt": "2026-11-01T10:00:00Z",
        "costLast12Months": "350.00", "faultsLast90Days": 2,
    }
    # More than a year after B's approval (2027-08-07; the API token has expired by then):
    # only C's cost is left, and no recent fault.
    later = equipment.summary(unit, at("2026-11-20T12:00:00Z") + timedelta(days=260))
    assert (str(later["costLast12Months"]), later["faultsLast90Days"]) == ("100.00", 0)


def test_the_unit_page_costs_the_same_queries_whatever_its_history(world, api, app):
    unit = make_unit(world, tag="Q-1")
    unit_id = unit.id
    me = api.as_(world.dispatcher)
    me.get(f"/api/equipment/{unit_id}")  # the token's first use, warm caches

    def cost():
        with count_statements(skip=TRANSACTION_CONTROL) as statements:
            r = me.get(f"/api/equipment/{unit_id}")
            assert r.status_code == 200
        with count_statements(skip=TRANSACTION_CONTROL) as history:
            assert me.get(f"/api/equipment/{unit_id}/history").status_code == 200
        return len(statements), len(history)

    before = cost()
    clock.set_now(at("2026-06-01T08:00:00Z"))
    for i in range(12):
        clock.set_now(clock.now() + timedelta(days=3))
        t = ticket_on(world, unit)
        if i % 2:
            repaired(world, t)
        equipment.update_unit(unit, world.dispatcher, {"name": f"Cold room v{i}",
                                                         "branchId": (world.branch2 if i % 2 else world.branch).id})
        db.session.commit()
    equipment.update_unit(unit, world.dispatcher, {"branchId": world.branch.id})
    db.session.commit()
    after = cost()
    assert after == before, (before, after)
    assert before[0] <= 4, before  # token, its user, the unit with its branch, the summary
