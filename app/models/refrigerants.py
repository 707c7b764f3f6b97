"""Refrigerants: the one table of ASHRAE names and their global warming potential (GWP,
100-year, as the contract lists them: API.md, "Equipment"), and the CO2-equivalent of a
charge. Equipment, the refrigerant logbook and its reports all read it from here."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

GWP: dict[str, int] = {
    "R404A": 3922, "R507A": 3985, "R134a": 1430, "R410A": 2088, "R407C": 1774, "R407F": 1825,
    "R448A": 1387, "R449A": 1397, "R452A": 2140, "R22": 1810, "R32": 675, "R290": 3, "R600a": 3,
    "R744": 1, "R717": 0, "R1234yf": 4, "R1234ze": 7,
}
NAMES: tuple[str, ...] = tuple(GWP)


def gwp(refrigerant: str | None) -> int | None:
    return GWP.get(refrigerant) if refrigerant else None


def co2e_tonnes(charge_kg: Decimal | None, refrigerant: str | None) -> Decimal | None:
    """chargeKg x GWP / 1000, half-up to 2 decimals; None when either is unknown."""
    factor = gwp(refrigerant)
    if charge_kg is None or factor is None:
        return None
    return (Decimal(charge_kg) * factor / 1000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_BY_FOLDED = {name.upper(): name for name in GWP}


def canonical(value: str) -> str | None:
    """The table's spelling of a name as people type it ("r404a", "R-404A" -> "R404A"),
    or None when it is not in the table."""
    if not isinstance(value, str):
        return None
    folded = value.strip().upper()
    if folded.startswith("R-"):
        folded = "R" + folded[2:]
    return _BY_FOLDED.get(folded)
