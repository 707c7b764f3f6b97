"""The tables of the analytics page: what each shows on the page and in its CSV.

One definition per table, so the page and the export cannot disagree: `page` columns
format for people, `csv` columns give raw numbers (percentages 0-100, minutes, money
with two decimals) for spreadsheets; a CSV header of amounts names the currency
("Total cost (USD)": `{currency}` in a header is filled in when the CSV is written).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from app.services import analytics
from app.models.enums import label
from app.services import timefmt
from app.services.timefmt import local_str


# --- formatting ---------------------------------------------------------------------

def pct(fraction) -> str:
    return "—" if fraction is None else f"{fraction * 100:.1f}%"


def pct_number(fraction):
    return None if fraction is None else round(fraction * 100, 1)


def minutes(value) -> str:
    """A duration for people: 45 min, 5 h 20 min, 2 d 3 h."""
    if value is None:
        return "—"
    m = int(round(value))
    if m < 60:
        return f"{m} min"
    if m < 24 * 60:
        h, rest = divmod(m, 60)
        return f"{h} h {rest} min" if rest else f"{h} h"
    d, rest = divmod(m, 1440)
    h = round(rest / 60)
    return f"{d} d {h} h" if h else f"{d} d"


money = timefmt.money  # "$1,234.50": the one way an amount is written
short_money = timefmt.short_money  # "$12.5K" on a chart's axis


def hours(value) -> str:
    return "—" if value is None else f"{value:g} h"


def tone(fraction) -> str:
    """A colour for a compliance figure: ok from 90%, warn from 75%."""
    if fraction is None:
        return "none"
    return "ok" if fraction >= 0.9 else "warn" if fraction >= 0.75 else "bad"


def met_of(met, measured) -> str:
    return f"{met} of {measured}" if measured else "none measured"


# --- definitions -------------------------------------------------------------------

@dataclass
class Col:
    header: str
    value: Callable[[dict], Any]
    num: bool = False
    sub: Callable[[dict], str] | None = None  # a second, smaller line on the page
    tone: Callable[[dict], str] | None = None
    link: Callable[[dict], str] | None = None


@dataclass
class Table:
    key: str
    title: str
    page: list[Col]
    csv: list[Col]
    compute: Callable  # (range, filters) -> rows, for the CSV alone
    from_report: Callable  # (Report) -> rows, for the page
    empty: str = "Nothing in this period."
    limit: int | None = 15
    note: str = ""

    @property
    def headers(self) -> list[str]:
        """The CSV's header row, amounts' columns naming the currency ("Total cost (USD)")."""
        return [c.header.format(currency=timefmt.currency()) for c in self.csv]

    def csv_rows(self, rows):
        return ([c.value(r) for c in self.csv] for r in rows)

    def filename(self, form_args: dict) -> str:
        return f"evercold-{self.key}-{form_args.get('from', '')}-to-{form_args.get('to', '')}.csv"


def _group(first: str, count: str, num: bool = False) -> list[Col]:
    """The first two columns of a per-group table: the group and its ticket count."""
    return [Col(first, lambda r: r["label"]), Col(count, lambda r: r["tickets"], num=num)]


def _met_page() -> list[Col]:
    """Response and resolution compliance, for the group tables and the technician table."""
    return [
        Col("Response", lambda r: pct(r["responseCompliance"]), num=True,
            sub=lambda r: met_of(r["responseMet"], r["responseMeasured"]), tone=lambda r: tone(r["responseCompliance"])),
        Col("Resolution", lambda r: pct(r["resolutionCompliance"]), num=True,
            sub=lambda r: met_of(r["resolutionMet"], r["resolutionMeasured"]),
            tone=lambda r: tone(r["resolutionCompliance"])),
    ]


def _compliance_page(first: str) -> list[Col]:
    return _group(first, "Tickets", num=True) + _met_page()


def _times_page() -> list[Col]:
    return [
        Col("Median response", lambda r: minutes(r["medianResponseMinutes"]), num=True,
            sub=lambda r: "p90 " + minutes(r["p90ResponseMinutes"]) if r["p90ResponseMinutes"] is not None else ""),
        Col("Median resolution", lambda r: minutes(r["medianResolutionMinutes"]), num=True,
            sub=lambda r: "p90 " + minutes(r["p90ResolutionMinutes"]) if r["p90ResolutionMinutes"] is not None else ""),
        Col("Median to arrive", lambda r: minutes(r["medianArrivalMinutes"]), num=True,
            sub=lambda r: f"{r['arrivals']} recorded" if r["arrivals"] else ""),
    ]


def _met_csv() -> list[Col]:
    return [
        Col("Response measured", lambda r: r["responseMeasured"]),
        Col("Response met", lambda r: r["responseMet"]),
        Col("Response compliance %", lambda r: pct_number(r["responseCompliance"])),
        Col("Resolution measured", lambda r: r["resolutionMeasured"]),
        Col("Resolution met", lambda r: r["resolutionMet"]),
        Col("Resolution compliance %", lambda r: pct_number(r["resolutionCompliance"])),
    ]


def _compliance_csv(first: str) -> list[Col]:
    return _group(first, "Tickets created") + _met_csv()


def _times_csv() -> list[Col]:
    return [
        Col("Median response minutes", lambda r: r["medianResponseMinutes"]),
        Col("P90 response minutes", lambda r: r["p90ResponseMinutes"]),
        Col("Median resolution minutes", lambda r: r["medianResolutionMinutes"]),
        Col("P90 resolution minutes", lambda r: r["p90ResolutionMinutes"]),
        Col("Arrivals recorded", lambda r: r["arrivals"]),
        Col("Median minutes to arrive", lambda r: r["medianArrivalMinutes"]),
        Col("P90 minutes to arrive", lambda r: r["p90ArrivalMinutes"]),
    ]


def _sla_table(dim: str, title: str, first: str, limit=15, times=False) -> Table:
    """Compliance per group; with `times`, also the medians and 90th percentiles."""
    return Table(
        key=f"sla-{dim}", title=title, limit=limit,
        page=_compliance_page(first) + (_times_page() if times else []),
        csv=_compliance_csv(first) + (_times_csv() if times else []),
        compute=lambda rng, f: analytics.sla_report(rng, f, (dim,))[dim],
        from_report=lambda rep: rep.sla[dim],
        empty="No tickets were created in this period.",
    )


def _money_page() -> list[Col]:
    """Parts, labour and total cost, for the cost tables and the technician table."""
    return [
        Col("Parts", lambda r: money(r["partsCost"]), num=True),
        Col("Labour", lambda r: money(r["laborCost"]), num=True),
        Col("Total", lambda r: money(r["totalCost"]), num=True),
    ]


def _money_csv() -> list[Col]:
    return [
        Col("Parts cost ({currency})", lambda r: r["partsCost"]),
        Col("Labour cost ({currency})", lambda r: r["laborCost"]),
        Col("Total cost ({currency})", lambda r: r["totalCost"]),
    ]


def _cost_page(first: str) -> list[Col]:
    return _group(first, "Jobs", num=True) + _money_page()


def _cost_csv(first: str) -> list[Col]:
    return _group(first, "Approved jobs") + _money_csv() + [Col("Labour hours", lambda r: r["laborHours"])]


def _cost_table(dim: str, title: str, first: str, limit=15) -> Table:
    return Table(
        key=f"cost-{dim}", title=title, page=_cost_page(first), csv=_cost_csv(first), limit=limit,
        compute=lambda rng, f: analytics.cost_report(rng, f, (dim,))[dim],
        from_report=lambda rep: rep.cost[dim],
        empty="No approved work on tickets closed in this period.",
    )


def _weekly_table() -> Table:
    page = _compliance_page("Week of")
    csv = _compliance_csv("Week starting")
    csv[0] = Col("Week starting", lambda r: r["key"])
    return Table(key="sla-week", title="Compliance by week", page=page, csv=csv, limit=None,
                 compute=lambda rng, f: analytics.sla_report(rng, f, ("week",))["week"],
                 from_report=lambda rep: rep.sla["week"], empty="No weeks in this period.")


def _month_table() -> Table:
    t = _cost_table("month", "Cost by month", "Month", limit=None)
    t.csv[0] = Col("Month", lambda r: r["key"])
    return t


def _technician_table() -> Table:
    page = [
        Col("Technician", lambda r: r["label"]),
        Col("Assigned", lambda r: r["assigned"], num=True),
        Col("Accepted", lambda r: r["accepted"], num=True),
        Col("Declined", lambda r: r["declined"], num=True),
        Col("Escalated away", lambda r: r["escalatedAway"], num=True),
        Col("Completed", lambda r: r["completed"], num=True),
        Col("Rejected", lambda r: pct(r["rejectionRate"]), num=True,
            sub=lambda r: f"{r['rejected']} of {r['decided']} decided" if r["decided"] else "none decided"),
    ] + _met_page() + [
        Col("Median labour", lambda r: hours(r["medianLaborHours"]), num=True),
    ] + _money_page()
    csv = [
        Col("Technician", lambda r: r["label"]),
        Col("Assigned", lambda r: r["assigned"]),
        Col("Accepted", lambda r: r["accepted"]),
        Col("Declined", lambda r: r["declined"]),
        Col("Escalated away", lambda r: r["escalatedAway"]),
        Col("Completions submitted", lambda r: r["completed"]),
        Col("Completions decided", lambda r: r["decided"]),
        Col("Completions rejected", lambda r: r["rejected"]),
        Col("Rejection rate %", lambda r: pct_number(r["rejectionRate"])),
    ] + _met_csv() + [
        Col("Approved jobs", lambda r: r["approvedJobs"]),
        Col("Median labour hours", lambda r: r["medianLaborHours"]),
        Col("Labour hours", lambda r: r["laborHours"]),
    ] + _money_csv()
    return Table(key="technicians", title="Per technician", page=page, csv=csv, limit=50,
                 compute=lambda rng, f: analytics.technician_report(rng, f),
                 from_report=lambda rep: rep.technicians, empty="No technician activity in this period.")


def _repeat_table() -> Table:
    page = [
        Col("Branch", lambda r: r["branch"]),
        Col("Subcategory", lambda r: r["subcategory"]),
        Col("Repeats", lambda r: r["repeats"], num=True),
        Col("Latest", lambda r: local_str(r["lastAt"], "date"), num=True),
    ]
    csv = [
        Col("Branch", lambda r: r["branch"]),
        Col("Subcategory", lambda r: r["subcategory"]),
        Col("Repeat tickets", lambda r: r["repeats"]),
        Col("Latest repeat (local time)", lambda r: local_str(r["lastAt"], "sortable")),
    ]
    return Table(key="repeat-faults", title="By branch and subcategory", page=page, csv=csv,
                 compute=lambda rng, f: analytics.repeat_faults(rng, f),
                 from_report=lambda rep: rep.repeats,
                 empty="No fault came back within 30 days in this period.")


def _due(r) -> str:
    if r["overdue"]:
        return "overdue by " + minutes(r["overdueMinutes"])
    return "due in " + minutes(r["minutesLeft"])


def _risk_table() -> Table:
    page = [
        Col("Ticket", lambda r: r["ticketNumber"], link=lambda r: f"/tickets/{r['id']}"),
        Col("Branch", lambda r: r["branch"], sub=lambda r: r["subcategory"]),
        Col("Priority", lambda r: label(r["priority"])),
        Col("Technician", lambda r: r["technician"], sub=lambda r: label(r["status"]).lower()),
        Col("SLA", lambda r: _due(r), sub=lambda r: f"{r['sla']} · {timefmt.zoned(r['dueAt'])}",
            tone=lambda r: "bad" if r["overdue"] else "warn"),
    ]
    csv = [
        Col("Ticket", lambda r: r["ticketNumber"]),
        Col("Branch", lambda r: r["branch"]),
        Col("Subcategory", lambda r: r["subcategory"]),
        Col("Priority", lambda r: label(r["priority"])),
        Col("Status", lambda r: label(r["status"])),
        Col("Technician", lambda r: r["technician"]),
        Col("SLA at risk", lambda r: r["sla"]),
        Col("Due (local time)", lambda r: local_str(r["dueAt"], "sortable")),
        Col("Overdue", lambda r: "yes" if r["overdue"] else "no"),
        Col("Minutes overdue", lambda r: r["overdueMinutes"]),
        Col("Minutes left", lambda r: r["minutesLeft"]),
    ]
    return Table(key="at-risk", title="Soonest due first", page=page, csv=csv, limit=20,
                 compute=lambda rng, f: analytics.at_risk(f, limit=None)["rows"],
                 from_report=lambda rep: rep.risk["rows"],
                 empty="No open ticket is close to missing its SLA.")


def _summary_rows(rep) -> list[dict]:
    o, c, risk = rep.overall, rep.cost_overall, rep.risk
    return [
        {"metric": "Tickets created", "value": o["tickets"]},
        {"metric": "Response compliance %", "value": pct_number(o["responseCompliance"])},
        {"metric": "Responses measured", "value": o["responseMeasured"]},
        {"metric": "Responses met", "value": o["responseMet"]},
        {"metric": "Resolution compliance %", "value": pct_number(o["resolutionCompliance"])},
        {"metric": "Resolutions measured", "value": o["resolutionMeasured"]},
        {"metric": "Resolutions met", "value": o["resolutionMet"]},
        {"metric": "Median response minutes", "value": o["medianResponseMinutes"]},
        {"metric": "P90 response minutes", "value": o["p90ResponseMinutes"]},
        {"metric": "Median resolution minutes", "value": o["medianResolutionMinutes"]},
        {"metric": "P90 resolution minutes", "value": o["p90ResolutionMinutes"]},
        {"metric": "Arrivals recorded", "value": o["arrivals"]},
        {"metric": "Median minutes to arrive", "value": o["medianArrivalMinutes"]},
        {"metric": "P90 minutes to arrive", "value": o["p90ArrivalMinutes"]},
        {"metric": "Open tickets at risk", "value": risk["count"]},
        {"metric": "Open tickets overdue", "value": risk["overdue"]},
        {"metric": "Approved jobs closed", "value": c["tickets"]},
        {"metric": timefmt.money_header("Parts cost"), "value": c["partsCost"]},
        {"metric": timefmt.money_header("Labour cost"), "value": c["laborCost"]},
        {"metric": timefmt.money_header("Total cost"), "value": c["totalCost"]},
    ]


def _summary_table() -> Table:
    cols = [Col("Metric", lambda r: r["metric"]), Col("Value", lambda r: r["value"], num=True)]
    return Table(key="summary", title="Summary", page=cols, csv=cols, limit=None,
                 compute=lambda rng, f: _summary_rows(analytics.dashboard(rng, f)),
                 from_report=_summary_rows)


TABLES: dict[str, Table] = {t.key: t for t in (
    _summary_table(),
    _weekly_table(),
    _sla_table("priority", "By priority", "Priority", limit=None, times=True),
    _sla_table("category", "By category", "Category"),
    _sla_table("subcategory", "By subcategory", "Subcategory"),
    _sla_table("branch", "By branch", "Branch"),
    _sla_table("customer", "By customer", "Customer"),
    _sla_table("technician", "By technician", "Technician"),
    _risk_table(),
    _technician_table(),
    _month_table(),
    _cost_table("branch", "Cost by branch", "Branch"),
    _cost_table("subcategory", "Most expensive subcategories", "Subcategory"),
    _cost_table("customer", "Cost by customer", "Customer"),
    _cost_table("category", "Cost by category", "Category"),
    _repeat_table(),
)}


def get(key: str) -> Table | None:
    return TABLES.get(key)
