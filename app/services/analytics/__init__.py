"""Analytics for the operations manager: SLA compliance, technician performance, cost.

Every figure is computed by aggregate SQL, the same statements on SQLite and
PostgreSQL; Python only reshapes the few hundred grouped rows that come back.

Definitions (the page explains them in words too):

* **Range.** `from`/`to` are local dates (APP_TIMEZONE), both inclusive, turned into
  the UTC instants of local midnight (DST-correct, via zoneinfo). SLA figures are over
  tickets *created* in the range; cost over approved completions whose ticket was
  *closed* in the range; technician activity over events and decisions in the range.
* **Response** is measured once the technician first responded, or once its due time
  passed while the ticket was still waiting (open, or closed after it was due).
  Met = `first_response_at <= response_due_at`. A ticket still open and not yet due,
  or closed unanswered before it was due, is not measured.
* **Resolution** is measured once the ticket was closed by approving a completion, or
  the due time passed while it was unresolved (open, closed without completion after
  it was due, or waiting for approval of work submitted late). Met = the finally
  approved completion was submitted by `resolution_due_at` (the ticket's
  `completed_at`, which a rejection clears). Work submitted on time and still
  awaiting approval is not measured yet: the decision settles it.
* **Times** (response, resolution, arrival on site) are whole minutes from creation
  (rounded down). Medians and 90th percentiles interpolate between the two nearest
  ranks like PostgreSQL's percentile_cont, read off per-minute histograms with running
  sums (window functions both databases have), so no sort of the tickets is needed.
* **Weeks** start on Monday 00:00 local, **months** on the 1st 00:00 local. Bucket
  boundaries are computed in Python from the zone's rules and applied in SQL as a
  balanced CASE over UTC instants, so a DST change or a month boundary falls exactly
  where the wall clock says.
* **Repeat fault**: a ticket created within 30 days after another ticket of the same
  branch and subcategory was closed with approved work.
* **At risk**: open (NEW, ASSIGNED, IN_PROGRESS) tickets whose running SLA clock is
  amber or overdue (services/sla_clock.py, the one SLA clock).

One module per concern: `sql` (what differs between the two databases), `periods`
(ranges, buckets, filters), `rollup` (grouping sets over narrow facts), one module per
report (`sla`, `cost`, `technicians`, `repeats`, `risk`, `pauses`), `page` (the dashboard) and
`export` (CSV). The names below are the package's API.

Speed (bench/analytics_bench.py, a million tickets): each report reads its rows once
into materialized narrow facts and groups them with hash aggregates only (sorting a
year of text keys costs more than everything else together); statements are built once
per shape and cached, values are parameters; on PostgreSQL the page's five big queries
run side by side (ANALYTICS_THREADS) with JIT off and a roomier work_mem.
"""
from __future__ import annotations

from app.services.analytics.cost import cost_report
from app.services.analytics.equipment import repeat_faults_by_unit, units_with_most_faults
from app.services.analytics.export import csv_bytes, csv_cell
from app.services.analytics.page import Report, dashboard, filter_options
from app.services.analytics.periods import (
    COST_API_GROUPS,
    COST_DIMENSIONS,
    MAX_RANGE_DAYS,
    PRESETS,
    SLA_API_GROUPS,
    SLA_DIMENSIONS,
    Bucket,
    DateRange,
    Filters,
    api_range,
    date_range,
    local_midnight,
    local_today,
    month_buckets,
    parse_group_by,
    preset_days,
    week_buckets,
)
from app.services.analytics.pauses import PAUSE_API_GROUPS, pause_report
from app.services.analytics.repeats import repeat_faults
from app.services.analytics.risk import at_risk
from app.services.analytics.sla import sla_report
from app.services.analytics.technicians import technician_activity, technician_report

__all__ = [
    "COST_API_GROUPS", "COST_DIMENSIONS", "MAX_RANGE_DAYS", "PRESETS", "SLA_API_GROUPS", "SLA_DIMENSIONS",
    "Bucket", "DateRange", "Filters", "Report", "api_range", "at_risk", "cost_report", "csv_bytes", "csv_cell",
    "dashboard", "date_range", "filter_options", "local_midnight", "local_today", "month_buckets",
    "parse_group_by", "preset_days", "repeat_faults", "sla_report", "technician_activity", "technician_report",
    "week_buckets", "repeat_faults_by_unit", "units_with_most_faults", "PAUSE_API_GROUPS", "pause_report",
]
