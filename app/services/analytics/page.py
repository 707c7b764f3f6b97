"""Everything /dispatcher/analytics shows, and the choices of its filter form.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import (
    select,
)

from app import i18n
from app.services.reference import local_name
from app.extensions import db
from app.models import (
    Customer,
    CustomerBranch,
    IssueCategory,
    TicketPriority,
)
from app import clock
from app.services.analytics.cost import _empty_cost_row, cost_report
from app.services.analytics.pauses import PAUSE_API_GROUPS, pause_report
from app.services.analytics.periods import Bucket, COST_DIMENSIONS, DateRange, Filters, SLA_DIMENSIONS
from app.services.analytics.equipment import units_with_most_faults
from app.services.analytics.repeats import repeat_faults
from app.services.analytics.risk import at_risk
from app.services.analytics.rollup import _dialect
from app.services.analytics.sla import _empty_sla_row, sla_report
from app.services.analytics.technicians import technician_activity, technician_report


# --- the page -----------------------------------------------------------------------------

@dataclass
class Report:
    range: DateRange
    filters: Filters
    now: datetime
    sla: dict[str, list[dict]] = field(default_factory=dict)
    cost: dict[str, list[dict]] = field(default_factory=dict)
    technicians: list[dict] = field(default_factory=list)
    repeats: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)  # units with most faults (equipment.py)
    risk: dict = field(default_factory=dict)
    pauses: list[dict] = field(default_factory=list)  # pauses begun in the range (pauses.py)
    pauses_by: str = "reason"  # reason | branch | technician

    @property
    def overall(self) -> dict:
        rows = self.sla.get("overall") or []
        return rows[0] if rows else _empty_sla_row(Bucket("", "All tickets", self.range.start))

    @property
    def cost_overall(self) -> dict:
        rows = self.cost.get("overall") or []
        return rows[0] if rows else _empty_cost_row(Bucket("", "All tickets", self.range.start))


# One executor per process, not one per request: however many people open the page at
# once, analytics holds at most ANALYTICS_THREADS extra database connections per process
# (a pool per request held five per page view against a connection pool of ten).
_executor = None
_executor_lock = threading.Lock()


def _shared_executor(threads: int) -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None or _executor._max_workers != threads:
            _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="analytics")
        return _executor


def _side_by_side(tasks: dict) -> dict:
    """Run independent read-only queries at once on PostgreSQL, each in its own app
    context, session and connection, on the process's analytics executor
    (ANALYTICS_THREADS, default 5: one per big query; 1 runs them one after another,
    as on SQLite). They read committed data only."""
    threads = int(current_app.config.get("ANALYTICS_THREADS") or 5)
    if _dialect() != "postgresql" or threads <= 1:
        return {name: fn() for name, fn in tasks.items()}
    app = current_app._get_current_object()
    lang = i18n.current()  # the reader's: labels made in the workers (weeks, months) are in it

    def run(fn):
        with app.app_context(), i18n.force_locale(lang):
            try:
                return fn()
            finally:
                db.session.rollback()
                db.session.remove()

    pool = _shared_executor(threads)
    futures = {name: pool.submit(run, fn) for name, fn in tasks.items()}
    return {name: f.result() for name, f in futures.items()}


def dashboard(rng: DateRange, filters: Filters, pauses_by: str = "reason") -> Report:
    """Everything /dispatcher/analytics shows, in a fixed number of queries; on
    PostgreSQL the five heavy ones run side by side. The pauses table is grouped by
    `pauses_by` (reason, branch or technician)."""
    now = clock.now()
    pauses_by = pauses_by if pauses_by in PAUSE_API_GROUPS else "reason"
    got = _side_by_side({
        "sla": lambda: sla_report(rng, filters, SLA_DIMENSIONS, now),
        "cost": lambda: cost_report(rng, filters, COST_DIMENSIONS),
        "repeats": lambda: repeat_faults(rng, filters),
        "units": lambda: units_with_most_faults(rng, filters),
        "activity": lambda: technician_activity(rng, filters),
        "risk": lambda: at_risk(filters, now),
        "pauses": lambda: pause_report(rng, filters, pauses_by, now),
    })
    sla, cost = got["sla"], got["cost"]
    return Report(
        range=rng, filters=filters, now=now, sla=sla, cost=cost,
        technicians=technician_report(rng, filters, sla_rows=sla["technician"], cost_rows=cost["technician"],
                                      activity=got["activity"]),
        repeats=got["repeats"],
        units=got["units"],
        risk=got["risk"],
        pauses=got["pauses"],
        pauses_by=pauses_by,
    )


def filter_options() -> dict:
    """Choices for the filter form: customers, active and inactive branches, categories."""
    customers = db.session.execute(select(Customer.id, Customer.name).order_by(Customer.name)).all()
    branches = db.session.execute(
        select(CustomerBranch.id, CustomerBranch.branch_code, CustomerBranch.branch_name, Customer.name)
        .join(Customer, Customer.id == CustomerBranch.customer_id)
        .order_by(Customer.name, CustomerBranch.branch_code)).all()
    categories = sorted(((c.id, local_name(c)) for c in db.session.execute(
        select(IssueCategory.id, IssueCategory.name, IssueCategory.name_translations))),
        key=lambda c: c[1].casefold())  # in the reader's language
    return {
        "customers": [(c.id, c.name) for c in customers],
        "branches": [(b.id, f"{b.branch_code} · {b.branch_name}", b.name) for b in branches],
        "categories": categories,
        "priorities": [(p.value, p.label) for p in TicketPriority],
    }


