"""The tables of the analytics page: what each shows on the page and in its CSV.

One definition per table, so the page and the export cannot disagree: `page` columns
format for people, `csv` columns give raw numbers (percentages 0-100, minutes, money
with two decimals) for spreadsheets; a CSV header of amounts names the currency
("Total cost (USD)": a `money` column's header gets it when the CSV is written). Headers,
titles and words are in the reader's language; the values stay numbers and stored names,
except category and subcategory names, which are shown as the reader's language has them.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable

from babel.numbers import format_decimal, format_percent
from babel.core import Locale
from flask_babel import gettext as _, lazy_gettext as _l, ngettext

from app.models import IssueCategory, IssueSubcategory
from app.services import analytics
from app.models.enums import label
from app.services import timefmt
from app.services.reference import local_names_by_id, local_text
from app.services.timefmt import local_str


# --- formatting (in the reader's language: Babel's numbers) -------------------------

def pct(fraction) -> str:
    """"92.5%", "92,5 %" in Russian: the language's percent pattern, one decimal."""
    if fraction is None:
        return "—"
    loc = timefmt.locale()
    pattern = Locale.parse(loc).percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
    return format_percent(fraction, format=pattern, locale=loc)


def pct_number(fraction):
    return None if fraction is None else round(fraction * 100, 1)


def minutes(value) -> str:
    """A duration for people: 45 min, 5 h 20 min, 2 d 3 h."""
    if value is None:
        return "—"
    m = int(round(value))
    if m < 60:
        return _("%(minutes)d min", minutes=m)
    if m < 24 * 60:
        h, rest = divmod(m, 60)
        return _("%(hours)d h %(minutes)d min", hours=h, minutes=rest) if rest else _("%(hours)d h", hours=h)
    d, rest = divmod(m, 1440)
    h = round(rest / 60)
    return _("%(days)d d %(hours)d h", days=d, hours=h) if h else _("%(days)d d", days=d)


money = timefmt.money  # "$1,234.50": the one way an amount is written
short_money = timefmt.short_money  # "$12.5K" on a chart's axis


def hours(value) -> str:
    return "—" if value is None else _("%(hours)s h", hours=format_decimal(value, locale=timefmt.locale()))


def tone(fraction) -> str:
    """A colour for a compliance figure: ok from 90%, warn from 75%."""
    if fraction is None:
        return "none"
    return "ok" if fraction >= 0.9 else "warn" if fraction >= 0.75 else "bad"


def met_of(met, measured) -> str:
    return _("%(met)d of %(measured)d", met=met, measured=measured) if measured else _("none measured")


def p90(value) -> str:
    """The 90th percentile under a median: "p90 2 h"."""
    return _("p90 %(time)s", time=minutes(value))


def _group_label(dim: str) -> Callable[[dict], str]:
    """The name of a table's group as the page and CSV show it: categories and
    subcategories in the reader's language (the API keeps their stored names)."""
    model = {"category": IssueCategory, "subcategory": IssueSubcategory}.get(dim)
    if model is not None:
        def named(r):
            name, translations = local_names_by_id(model).get(r["key"], (None, None))
            return local_text(name, translations) if name is not None else r["label"]
        return named
    if dim == "technician":
        return lambda r: r["label"] if r["key"] else _("Unassigned")
    return lambda r: r["label"]


def _subcategory(r) -> str:
    name, translations = local_names_by_id(IssueSubcategory).get(r.get("subcategoryId"), (None, None))
    return local_text(name, translations) if name is not None else r["subcategory"]


# --- definitions -------------------------------------------------------------------

@dataclass
class Col:
    header: Any  # a lazy string: the reader's language when shown
    value: Callable[[dict], Any] | str  # a function of the row, or the name of the row's field it shows
    num: bool = False
    money: bool = False  # an amount: the CSV header names the currency
    sub: Callable[[dict], str] | None = None  # a second, smaller line on the page
    tone: Callable[[dict], str] | None = None
    link: Callable[[dict], str] | None = None

    def __post_init__(self):
        if isinstance(self.value, str):  # a field as it is (the CSV's raw numbers): Col(_l("Faults"), "faults")
            self.value = itemgetter(self.value)


@dataclass
class Table:
    key: str
    title: Any
    page: list[Col]
    csv: list[Col]
    compute: Callable  # (range, filters) -> rows, for the CSV alone
    from_report: Callable  # (Report) -> rows, for the page
    empty: Any = _l("Nothing in this period.")
    limit: int | None = 15
    note: str = ""

    @property
    def headers(self) -> list[str]:
        """The CSV's header row, amounts' columns naming the currency ("Total cost (USD)")."""
        return [timefmt.money_header(str(c.header)) if c.money else str(c.header) for c in self.csv]

    def csv_rows(self, rows):
        return ([c.value(r) for c in self.csv] for r in rows)

    def filename(self, form_args: dict) -> str:
        return f"evercold-{self.key}-{form_args.get('from', '')}-to-{form_args.get('to', '')}.csv"


def _group(first, count, num: bool = False, dim: str = "") -> list[Col]:
    """The first two columns of a per-group table: the group and its ticket count."""
    return [Col(first, _group_label(dim)), Col(count, "tickets", num=num)]


def _met_page() -> list[Col]:
    """Response and resolution compliance, for the group tables and the technician table."""
    return [
        Col(_l("Response"), lambda r: pct(r["responseCompliance"]), num=True,
            sub=lambda r: met_of(r["responseMet"], r["responseMeasured"]), tone=lambda r: tone(r["responseCompliance"])),
        Col(_l("Resolution"), lambda r: pct(r["resolutionCompliance"]), num=True,
            sub=lambda r: met_of(r["resolutionMet"], r["resolutionMeasured"]),
            tone=lambda r: tone(r["resolutionCompliance"])),
    ]


def _compliance_page(first, dim: str = "") -> list[Col]:
    return _group(first, _l("Tickets"), num=True, dim=dim) + _met_page()


def _times_page() -> list[Col]:
    return [
        Col(_l("Median response"), lambda r: minutes(r["medianResponseMinutes"]), num=True,
            sub=lambda r: p90(r["p90ResponseMinutes"]) if r["p90ResponseMinutes"] is not None else ""),
        Col(_l("Median resolution"), lambda r: minutes(r["medianResolutionMinutes"]), num=True,
            sub=lambda r: p90(r["p90ResolutionMinutes"]) if r["p90ResolutionMinutes"] is not None else ""),
        Col(_l("Median to arrive"), lambda r: minutes(r["medianArrivalMinutes"]), num=True,
            sub=lambda r: ngettext("%(num)d recorded", "%(num)d recorded", r["arrivals"]) if r["arrivals"] else ""),
    ]


def _met_csv() -> list[Col]:
    return [
        Col(_l("Response measured"), "responseMeasured"),
        Col(_l("Response met"), "responseMet"),
        Col(_l("Response compliance %"), lambda r: pct_number(r["responseCompliance"])),
        Col(_l("Resolution measured"), "resolutionMeasured"),
        Col(_l("Resolution met"), "resolutionMet"),
        Col(_l("Resolution compliance %"), lambda r: pct_number(r["resolutionCompliance"])),
    ]


def _compliance_csv(first, dim: str = "") -> list[Col]:
    return _group(first, _l("Tickets created"), dim=dim) + _met_csv()


def _times_csv() -> list[Col]:
    return [
        Col(_l("Median response minutes"), "medianResponseMinutes"),
        Col(_l("P90 response minutes"), "p90ResponseMinutes"),
        Col(_l("Median resolution minutes"), "medianResolutionMinutes"),
        Col(_l("P90 resolution minutes"), "p90ResolutionMinutes"),
        Col(_l("Arrivals recorded"), "arrivals"),
        Col(_l("Median minutes to arrive"), "medianArrivalMinutes"),
        Col(_l("P90 minutes to arrive"), "p90ArrivalMinutes"),
    ]


def _sla_table(dim: str, title, first, limit=15, times=False) -> Table:
    """Compliance per group; with `times`, also the medians and 90th percentiles."""
    return Table(
        key=f"sla-{dim}", title=title, limit=limit,
        page=_compliance_page(first, dim) + (_times_page() if times else []),
        csv=_compliance_csv(first, dim) + (_times_csv() if times else []),
        compute=lambda rng, f: analytics.sla_report(rng, f, (dim,))[dim],
        from_report=lambda rep: rep.sla[dim],
        empty=_l("No tickets were created in this period."),
    )


def _money_page() -> list[Col]:
    """Parts, labour and total cost, for the cost tables and the technician table."""
    return [
        Col(_l("Parts"), lambda r: money(r["partsCost"]), num=True),
        Col(_l("Labour"), lambda r: money(r["laborCost"]), num=True),
        Col(_l("Total"), lambda r: money(r["totalCost"]), num=True),
    ]


def _money_csv() -> list[Col]:
    return [
        Col(_l("Parts cost"), "partsCost", money=True),
        Col(_l("Labour cost"), "laborCost", money=True),
        Col(_l("Total cost"), "totalCost", money=True),
    ]


def _cost_page(first, dim: str = "") -> list[Col]:
    return _group(first, _l("Jobs"), num=True, dim=dim) + _money_page()


def _cost_csv(first, dim: str = "") -> list[Col]:
    return _group(first, _l("Approved jobs"), dim=dim) + _money_csv() + [Col(_l("Labour hours"), "laborHours")]


def _cost_table(dim: str, title, first, limit=15) -> Table:
    return Table(
        key=f"cost-{dim}", title=title, page=_cost_page(first, dim), csv=_cost_csv(first, dim), limit=limit,
        compute=lambda rng, f: analytics.cost_report(rng, f, (dim,))[dim],
        from_report=lambda rep: rep.cost[dim],
        empty=_l("No approved work on tickets closed in this period."),
    )


def _keyed(csv: list[Col]) -> list[Col]:
    """A period table's CSV: its first column the period's key (2026-03-02, 2026-03) for
    spreadsheets to sort, in place of the label the page shows."""
    return [Col(csv[0].header, "key"), *csv[1:]]


def _weekly_table() -> Table:
    page = _compliance_page(_l("Week of"))
    csv = _keyed(_compliance_csv(_l("Week starting")))
    return Table(key="sla-week", title=_l("Compliance by week"), page=page, csv=csv, limit=None,
                 compute=lambda rng, f: analytics.sla_report(rng, f, ("week",))["week"],
                 from_report=lambda rep: rep.sla["week"], empty=_l("No weeks in this period."))


def _month_table() -> Table:
    t = _cost_table("month", _l("Cost by month"), _l("Month"), limit=None)
    t.csv = _keyed(t.csv)
    return t


def _technician_table() -> Table:
    page = [
        Col(_l("Technician"), "label"),
        Col(_l("Assigned"), "assigned", num=True),
        Col(_l("Accepted"), "accepted", num=True),
        Col(_l("Declined"), "declined", num=True),
        Col(_l("Escalated away"), "escalatedAway", num=True),
        Col(_l("Completed"), "completed", num=True),
        Col(_l("Rejected"), lambda r: pct(r["rejectionRate"]), num=True,
            sub=lambda r: _("%(rejected)d of %(decided)d decided", rejected=r["rejected"], decided=r["decided"])
            if r["decided"] else _("none decided")),
    ] + _met_page() + [
        Col(_l("Median labour"), lambda r: hours(r["medianLaborHours"]), num=True),
    ] + _money_page()
    csv = [
        Col(_l("Technician"), "label"),
        Col(_l("Assigned"), "assigned"),
        Col(_l("Accepted"), "accepted"),
        Col(_l("Declined"), "declined"),
        Col(_l("Escalated away"), "escalatedAway"),
        Col(_l("Completions submitted"), "completed"),
        Col(_l("Completions decided"), "decided"),
        Col(_l("Completions rejected"), "rejected"),
        Col(_l("Rejection rate %"), lambda r: pct_number(r["rejectionRate"])),
    ] + _met_csv() + [
        Col(_l("Approved jobs"), "approvedJobs"),
        Col(_l("Median labour hours"), "medianLaborHours"),
        Col(_l("Labour hours"), "laborHours"),
    ] + _money_csv()
    return Table(key="technicians", title=_l("Per technician"), page=page, csv=csv, limit=50,
                 compute=lambda rng, f: analytics.technician_report(rng, f),
                 from_report=lambda rep: rep.technicians, empty=_l("No technician activity in this period."))


def _repeat_table() -> Table:
    page = [
        Col(_l("Branch"), "branch"),
        Col(_l("Subcategory"), _subcategory),
        Col(_l("Repeats"), "repeats", num=True),
        Col(_l("Latest"), lambda r: local_str(r["lastAt"], "date"), num=True),
    ]
    csv = [
        Col(_l("Branch"), "branch"),
        Col(_l("Subcategory"), _subcategory),
        Col(_l("Repeat tickets"), "repeats"),
        Col(_l("Latest repeat (local time)"), lambda r: local_str(r["lastAt"], "sortable")),
    ]
    return Table(key="repeat-faults", title=_l("By branch and subcategory"), page=page, csv=csv,
                 compute=lambda rng, f: analytics.repeat_faults(rng, f),
                 from_report=lambda rep: rep.repeats,
                 empty=_l("No fault came back within 30 days in this period."))


def _units_table() -> Table:
    page = [
        Col(_l("Unit"), "label", sub=lambda r: label(r["kind"]), link=lambda r: f"/equipment/{r['equipmentId']}"),
        Col(_l("Branch"), "branch"),
        Col(_l("Faults"), "faults", num=True),
        Col(_l("Latest"), lambda r: local_str(r["lastAt"], "date"), num=True),
    ]
    csv = [
        Col(_l("Asset tag"), "assetTag"),
        Col(_l("Unit"), "name"),
        Col(_l("Kind"), lambda r: label(r["kind"])),
        Col(_l("Branch"), "branch"),
        Col(_l("Faults"), "faults"),
        Col(_l("Latest fault (local time)"), lambda r: local_str(r["lastAt"], "sortable")),
    ]
    return Table(key="units-most-faults", title=_l("Units with most faults"), page=page, csv=csv, limit=None,
                 compute=lambda rng, f: analytics.units_with_most_faults(rng, f),
                 from_report=lambda rep: rep.units,
                 empty=_l("No fault was reported on a named unit in this period."))


def _due(r) -> str:
    if r["overdue"]:
        return _("overdue by %(time)s", time=minutes(r["overdueMinutes"]))
    return _("due in %(time)s", time=minutes(r["minutesLeft"]))


def _sla_kind(r) -> str:
    return _("response") if r["sla"] == "response" else _("resolution")


def _technician(r) -> str:
    return r["technician"] if r["technicianId"] else _("Unassigned")


def _risk_table() -> Table:
    page = [
        Col(_l("Ticket"), "ticketNumber", link=lambda r: f"/tickets/{r['id']}"),
        Col(_l("Branch"), "branch", sub=_subcategory),
        Col(_l("Priority"), lambda r: label(r["priority"])),
        Col(_l("Technician"), _technician,
            sub=lambda r: label(r["status"])),
        Col(_l("SLA"), lambda r: _due(r), sub=lambda r: f"{_sla_kind(r)} · {timefmt.zoned(r['dueAt'])}",
            tone=lambda r: "bad" if r["overdue"] else "warn"),
    ]
    csv = [
        Col(_l("Ticket"), "ticketNumber"),
        Col(_l("Branch"), "branch"),
        Col(_l("Subcategory"), _subcategory),
        Col(_l("Priority"), lambda r: label(r["priority"])),
        Col(_l("Status"), lambda r: label(r["status"])),
        Col(_l("Technician"), _technician),
        Col(_l("SLA at risk"), _sla_kind),
        Col(_l("Due (local time)"), lambda r: local_str(r["dueAt"], "sortable")),
        Col(_l("Overdue"), lambda r: _("yes") if r["overdue"] else _("no")),
        Col(_l("Minutes overdue"), "overdueMinutes"),
        Col(_l("Minutes left"), "minutesLeft"),
    ]
    return Table(key="at-risk", title=_l("Soonest due first"), page=page, csv=csv, limit=20,
                 compute=lambda rng, f: analytics.at_risk(f, limit=None)["rows"],
                 from_report=lambda rep: rep.risk["rows"],
                 empty=_l("No open ticket is close to missing its SLA."))


def _pauses_table(dim: str, title, first) -> Table:
    """Pauses of the resolution clock begun in the period (services/analytics/pauses.py)."""
    page = [
        Col(first, lambda r: r["label"]),
        Col(_l("Pauses"), lambda r: r["pauses"], num=True),
        Col(_l("Total time paused"), lambda r: minutes(r["pausedMinutes"]), num=True),
        Col(_l("Median pause"), lambda r: minutes(r["medianMinutes"]), num=True),
    ]
    csv = [
        Col(first, lambda r: r["label"]),
        Col(_l("Pauses"), lambda r: r["pauses"]),
        Col(_l("Total minutes paused"), lambda r: r["pausedMinutes"]),
        Col(_l("Median minutes"), lambda r: round(r["medianMinutes"]) if r["medianMinutes"] is not None else ""),
    ]
    return Table(key=f"pauses-{dim}", title=title, page=page, csv=csv, limit=None if dim == "reason" else 15,
                 compute=lambda rng, f: analytics.pause_report(rng, f, dim),
                 from_report=lambda rep: rep.pauses, empty=_l("No ticket was paused in this period."))


def _summary_rows(rep) -> list[dict]:
    o, c, risk = rep.overall, rep.cost_overall, rep.risk
    return [
        {"metric": _("Tickets created"), "value": o["tickets"]},
        {"metric": _("Response compliance %"), "value": pct_number(o["responseCompliance"])},
        {"metric": _("Responses measured"), "value": o["responseMeasured"]},
        {"metric": _("Responses met"), "value": o["responseMet"]},
        {"metric": _("Resolution compliance %"), "value": pct_number(o["resolutionCompliance"])},
        {"metric": _("Resolutions measured"), "value": o["resolutionMeasured"]},
        {"metric": _("Resolutions met"), "value": o["resolutionMet"]},
        {"metric": _("Median response minutes"), "value": o["medianResponseMinutes"]},
        {"metric": _("P90 response minutes"), "value": o["p90ResponseMinutes"]},
        {"metric": _("Median resolution minutes"), "value": o["medianResolutionMinutes"]},
        {"metric": _("P90 resolution minutes"), "value": o["p90ResolutionMinutes"]},
        {"metric": _("Arrivals recorded"), "value": o["arrivals"]},
        {"metric": _("Median minutes to arrive"), "value": o["medianArrivalMinutes"]},
        {"metric": _("P90 minutes to arrive"), "value": o["p90ArrivalMinutes"]},
        {"metric": _("Open tickets at risk"), "value": risk["count"]},
        {"metric": _("Open tickets overdue"), "value": risk["overdue"]},
        {"metric": _("Approved jobs closed"), "value": c["tickets"]},
        {"metric": timefmt.money_header(_("Parts cost")), "value": c["partsCost"]},
        {"metric": timefmt.money_header(_("Labour cost")), "value": c["laborCost"]},
        {"metric": timefmt.money_header(_("Total cost")), "value": c["totalCost"]},
    ]


def _summary_table() -> Table:
    cols = [Col(_l("Metric"), "metric"), Col(_l("Value"), "value", num=True)]
    return Table(key="summary", title=_l("Summary"), page=cols, csv=cols, limit=None,
                 compute=lambda rng, f: _summary_rows(analytics.dashboard(rng, f)),
                 from_report=_summary_rows)


TABLES: dict[str, Table] = {t.key: t for t in (
    _summary_table(),
    _weekly_table(),
    _sla_table("priority", _l("By priority"), _l("Priority"), limit=None, times=True),
    _sla_table("category", _l("By category"), _l("Category")),
    _sla_table("subcategory", _l("By subcategory"), _l("Subcategory")),
    _sla_table("branch", _l("By branch"), _l("Branch")),
    _sla_table("customer", _l("By customer"), _l("Customer")),
    _sla_table("technician", _l("By technician"), _l("Technician")),
    _risk_table(),
    _technician_table(),
    _month_table(),
    _cost_table("branch", _l("Cost by branch"), _l("Branch")),
    _cost_table("subcategory", _l("Most expensive subcategories"), _l("Subcategory")),
    _cost_table("customer", _l("Cost by customer"), _l("Customer")),
    _cost_table("category", _l("Cost by category"), _l("Category")),
    _repeat_table(),
    _units_table(),
    _pauses_table("reason", _l("By reason"), _l("Reason")),
    _pauses_table("branch", _l("By branch"), _l("Branch")),
    _pauses_table("technician", _l("By technician"), _l("Technician")),
)}


def get(key: str) -> Table | None:
    return TABLES.get(key)
