"""Server-rendered SVG charts: geometry computed here, drawn by templates/analytics/_charts.html.

Coordinates are percentages of the SVG box, so a chart stretches to any width while
its text keeps its CSS size (readable on a phone). The numbers behind each chart are
in the table beside it.
"""
from __future__ import annotations

import math
from decimal import Decimal

from flask_babel import gettext as _

from app.blueprints.analytics.tables import money, pct, short_money

LEFT, RIGHT, TOP, BOTTOM = 11.0, 98.0, 6.0, 82.0  # plot area, % of the box
MAX_X_LABELS = 12  # on a desktop; phones show every other one (CSS hides .an-x-minor)


def _f(value: float) -> str:
    return f"{value:.3f}"


def _x_positions(n: int) -> list[float]:
    band = (RIGHT - LEFT) / max(n, 1)
    return [LEFT + band * (i + 0.5) for i in range(n)]


def _x_labels(rows, xs) -> list[dict]:
    step = max(1, math.ceil(len(rows) / MAX_X_LABELS))
    return [{"x": _f(xs[i]), "text": r["label"], "minor": len(rows) > 6 and i % (2 * step) != 0}
            for i, r in enumerate(rows) if i % step == 0]


def _whole_pct(t: int) -> str:
    """An axis's percent ("50%", "50 %" in Russian)."""
    from babel.numbers import format_percent
    from app.services.timefmt import locale

    return format_percent(t / 100, locale=locale())


def _axes() -> dict:
    return {"left": _f(LEFT), "right": _f(RIGHT), "axis_x": _f(LEFT - 1.5)}


def _y(fraction: float) -> float:
    return BOTTOM - (BOTTOM - TOP) * fraction


def weekly_compliance(rows: list[dict]) -> dict:
    """Two lines (response, resolution) of weekly compliance, 0-100%."""
    xs = _x_positions(len(rows))
    series = []
    for name, field, met, measured in (("response", "responseCompliance", "responseMet", "responseMeasured"),
                                      ("resolution", "resolutionCompliance", "resolutionMet", "resolutionMeasured")):
        points = []
        for i, r in enumerate(rows):
            v = r[field]
            if v is None:
                points.append(None)
                continue
            words = dict(week=r["label"], percent=pct(v), met=r[met], measured=r[measured])
            title = (_("Week of %(week)s: response %(percent)s (%(met)d of %(measured)d)", **words)
                     if name == "response" else
                     _("Week of %(week)s: resolution %(percent)s (%(met)d of %(measured)d)", **words))
            points.append({"x": _f(xs[i]), "y": _f(_y(v)), "title": title})
        segments = [{"x1": a["x"], "y1": a["y"], "x2": b["x"], "y2": b["y"]}
                    for a, b in zip(points, points[1:]) if a and b]
        series.append({"name": name, "points": [p for p in points if p], "segments": segments})
    grid = [{"y": _f(_y(t / 100)), "text": _whole_pct(t)}
            for t in (0, 25, 50, 75, 100)]
    has_data = any(s["points"] for s in series)
    return {"series": series, "grid": grid, "xlabels": _x_labels(rows, xs), "has_data": has_data, **_axes()}


def _nice_step(value: float) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) of at least `value`."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * exp:
            return m * exp
    return 10 * exp


def monthly_cost(rows: list[dict]) -> dict:
    """Stacked columns per month: parts at the bottom, labour on top."""
    top = 4 * _nice_step(float(max((r["totalCost"] for r in rows), default=Decimal(0))) / 4)
    xs = _x_positions(len(rows))
    band = (RIGHT - LEFT) / max(len(rows), 1)
    width = min(band * 0.6, 12.0)
    bars = []
    for i, r in enumerate(rows):
        parts, labour = float(r["partsCost"]), float(r["laborCost"])
        hp = (BOTTOM - TOP) * parts / top
        hl = (BOTTOM - TOP) * labour / top
        bars.append({
            "x": _f(xs[i] - width / 2), "w": _f(width),
            "parts": {"y": _f(BOTTOM - hp), "h": _f(hp)},
            "labour": {"y": _f(BOTTOM - hp - hl), "h": _f(hl)},
            "title": _("%(month)s: parts %(parts)s, labour %(labour)s, total %(total)s", month=r["label"],
                       parts=money(r["partsCost"]), labour=money(r["laborCost"]), total=money(r["totalCost"])),
        })
    grid = [{"y": _f(BOTTOM - (BOTTOM - TOP) * k / 4), "text": short_money(top * k / 4)} for k in range(5)]
    return {"bars": bars, "grid": grid, "xlabels": _x_labels(rows, xs),
            "has_data": any(r["totalCost"] for r in rows), **_axes()}


def branch_ranking(rows: list[dict], limit: int = 10) -> dict:
    """Horizontal bars of the most expensive branches (parts + labour)."""
    rows = [r for r in rows if r["totalCost"]][:limit]
    top = float(max((r["totalCost"] for r in rows), default=Decimal(0))) or 1.0
    bars = []
    for r in rows:
        parts = float(r["partsCost"]) / top * 100
        labour = float(r["laborCost"]) / top * 100
        bars.append({"label": r["label"], "total": money(r["totalCost"]), "tickets": r["tickets"],
                     "parts_w": _f(parts), "labour_x": _f(parts), "labour_w": _f(labour),
                     "title": _("%(branch)s: parts %(parts)s, labour %(labour)s", branch=r["label"],
                                parts=money(r["partsCost"]), labour=money(r["laborCost"]))})
    return {"bars": bars, "has_data": bool(bars)}


def build(report) -> dict:
    if report is None:
        return {}
    return {
        "weekly": weekly_compliance(report.sla["week"]),
        "monthly": monthly_cost(report.cost["month"]),
        "branches": branch_ranking(report.cost["branch"]),
    }
