"""The demo's equipment (issue 18): every demo branch gets 3-8 realistic units (cold rooms,
display cases, condensing units, freezers with the refrigerants and charges such units
really have), and the demo tickets are linked to a unit of their branch that fits their
kind of fault, so the unit pages, the picker and "units with most faults" have content.

`add_units(demo)` is called by app/demo.py's _Demo.build once the tickets are played.
The units are created through the service (history and report token included), dated
before the first ticket; a ticket's unit is set on the ticket itself (as if named when it
was reported). Deterministic: the demo's own random generator."""
from __future__ import annotations

from datetime import timedelta
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Equipment
from app.services import equipment

# (tag suffix, kind, name, manufacturer, model, refrigerant, charge kg, replacement cost, setpoint °C, leak detection)
CATALOGUE = [
    ("CR1", "COLD_ROOM", "Meat and dairy cold room", "Polair", "KXH-11.02", "R404A", "14.500", "9800.00", "2.0", True),
    ("CR2", "COLD_ROOM", "Fruit and vegetable cold room", "Polair", "KXH-7.34", "R448A", "9.800", "7600.00", "4.0", False),
    ("FR1", "FREEZER", "Frozen goods freezer room", "Bitzer", "LH64E/4FES-5Y", "R404A", "18.000", "14500.00", "-20.0", True),
    ("DC1", "DISPLAY_CASE", "Dairy display case", "Carrier", "Optimer 2.5", "R290", "0.150", "4200.00", "3.0", False),
    ("DC2", "DISPLAY_CASE", "Meat counter", "Arneg", "Bergen 250", "R134a", "1.200", "5100.00", "1.0", False),
    ("DC3", "DISPLAY_CASE", "Drinks cooler", "Frigoglass", "Super 10", "R290", "0.110", "950.00", "4.0", False),
    ("CU1", "CONDENSING_UNIT", "Rooftop condensing unit", "Danfoss", "Optyma OP-MPGM068", "R448A", "7.500", "6900.00", None, True),
    ("CU2", "CONDENSING_UNIT", "CO2 booster pack", "Carel", "Heos Sistema", "R744", "35.000", "28000.00", None, True),
    ("IM1", "ICE_MACHINE", "Fish counter ice machine", "Scotsman", "MF 36", "R290", "0.145", "3900.00", None, False),
]
# The kinds a fault of each subcategory is most likely about (first choice first).
KINDS_BY_SUBCATEGORY = {
    "Cold Chambers": ("COLD_ROOM", "FREEZER"),
    "Glass Repair": ("DISPLAY_CASE",),
    "Temperature Control": ("COLD_ROOM", "DISPLAY_CASE", "FREEZER"),
    "Leaking Water": ("DISPLAY_CASE", "COLD_ROOM", "ICE_MACHINE"),
    "Equipment Not Working": ("CONDENSING_UNIT", "DISPLAY_CASE", "ICE_MACHINE"),
    "Noise/Vibration": ("CONDENSING_UNIT", "COLD_ROOM"),
}
NO_UNIT_SHARE = 0.12  # a few reports name no unit ("not sure / other")


def add_units(demo) -> None:
    """Units for every branch of `demo` (an app.demo._Demo after its tickets are played),
    then a unit for most demo tickets. Flushes only."""
    rng = demo.rng
    was = clock.now()
    clock.set_now(demo.start - timedelta(days=30))
    try:
        units_by_branch = {}
        for code, branch in demo.branches.items():
            count = rng.randint(3, 8)
            rows = CATALOGUE[:3] + rng.sample(CATALOGUE[3:], count - 3)
            units = []
            for suffix, kind, name, make, model, gas, charge, cost, setpoint, leak in rows:
                tag = f"{code}-{suffix}"
                existing = db.session.execute(select(Equipment).where(Equipment.asset_tag == tag)).scalar_one_or_none()
                if existing is None:
                    year = rng.randint(2014, 2023)
                    existing = equipment.create_unit(demo.admin, {
                        "branchId": branch.id, "assetTag": tag, "kind": kind, "name": name, "manufacturer": make,
                        "model": model, "serialNumber": f"{make[:2].upper()}{year}{rng.randint(10000, 99999)}",
                        "installedOn": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                        "refrigerant": gas, "chargeKg": charge, "replacementCost": cost, "setpointC": setpoint,
                        "leakDetection": leak})
                units.append(existing)
            units_by_branch[branch.id] = units
    finally:
        clock.set_now(was)

    # One unit in each branch breaks far more often than the rest: "units with most faults"
    # and the repair-or-replace signal have something to say.
    troubled = {bid: rng.choice(units) for bid, units in units_by_branch.items()}
    for ticket in demo.tickets:
        units = units_by_branch.get(ticket.branch_id) or []
        if not units or ticket.equipment_id or rng.random() < NO_UNIT_SHARE:
            continue
        kinds = KINDS_BY_SUBCATEGORY.get(ticket.subcategory.name, ())
        fitting = [u for u in units if u.kind.value in kinds] or units
        unit = troubled[ticket.branch_id] if troubled[ticket.branch_id] in fitting and rng.random() < 0.4 \
            else rng.choice(fitting)
        ticket.equipment_id, ticket.equipment = unit.id, unit
    db.session.flush()
