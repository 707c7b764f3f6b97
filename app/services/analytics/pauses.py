"""The pauses report: how often and how long the resolution clock was paused, by reason,
branch or technician (API.md, "Pausing the resolution clock"; docs/pauses-report.md).

See app/services/analytics/__init__.py for the definitions every report shares.

* **Which pauses.** Those that *started* in the range (`ticket_pauses.paused_at`, its
  index `ix_ticket_pauses_paused_at`), whether resumed since or not.
* **Minutes** are wall-clock minutes: for a resumed pause, those its resume recorded
  (`ticket_pauses.wall_minutes`, what the timeline says), else whole minutes (rounded
  down) from `paused_at` to `resumed_at`; for a pause still open, to *now* (its length so
  far, also when now is after the range's end: the range picks the pauses, it does not
  cut them). This is how
  long the ticket sat waiting, what a manager asks about; the working minutes the due
  time moved by are the SLA clock's business (`ticket_pauses.paused_minutes`).
* **Group.** The reason; the branch and the technician the pause recorded when it began
  (a later reassignment does not move it); a pause without a technician is "Unassigned".
* **Median** like PostgreSQL's percentile_cont(0.5): the middle value, or the mean of the
  two middle ones. SQL returns one row per group and whole minute with its count (a
  histogram: bounded by groups x distinct lengths, not by the number of pauses), and
  Python reads the median off it: one code path on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, func, select, type_coerce

from app import clock
from app.extensions import db
from app.models import CustomerBranch, PauseReason, ServiceTicket, Technician, TicketPause
from app.models.types import UTCDateTime
from app.services.analytics.periods import DateRange, Filters
from app.services.analytics.sql import whole_minutes

PAUSE_API_GROUPS = ("reason", "branch", "technician")
REASON_ORDER = [r.value for r in PauseReason]


def _key_column(group: str):
    P = TicketPause
    if group == "reason":
        return type_coerce(P.reason, String)
    if group == "branch":
        return P.branch_id
    if group == "technician":
        return func.coalesce(P.technician_id, "")
    raise ValueError(group)


def _conditions(filters: Filters) -> tuple[list, bool]:
    """The page's filters as conditions on the pause (its branch) or its ticket."""
    P, T, B = TicketPause, ServiceTicket, CustomerBranch
    conds, need_ticket = [], False
    if filters.branch_id:
        conds.append(P.branch_id == filters.branch_id)
    if filters.customer_id:
        conds.append(P.branch_id.in_(select(B.id).where(B.customer_id == filters.customer_id)))
    if filters.category_id:
        conds.append(T.category_id == filters.category_id)
        need_ticket = True
    if filters.priority:
        conds.append(T.priority == filters.priority)
        need_ticket = True
    return conds, need_ticket


def _histogram(rng: DateRange, filters: Filters, group: str, now: datetime):
    """(key, minutes, pauses): how many pauses of each group lasted each whole minute."""
    P = TicketPause
    until = func.coalesce(P.resumed_at, bindparam("now", now, type_=UTCDateTime()))
    minutes = func.coalesce(P.wall_minutes, whole_minutes(until, P.paused_at))
    conds, need_ticket = _conditions(filters)
    inner = select(_key_column(group).label("k"), minutes.label("m"))
    if need_ticket:
        inner = inner.join(ServiceTicket, ServiceTicket.id == P.ticket_id)
    inner = inner.where(P.paused_at >= bindparam("start", rng.start, type_=UTCDateTime()),
                        P.paused_at < bindparam("end", rng.end, type_=UTCDateTime()), *conds).subquery("p")
    stmt = select(inner.c.k, inner.c.m, func.count().label("n")).group_by(inner.c.k, inner.c.m)
    return db.session.execute(stmt).all()


def median_of_histogram(counts: list[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many), like percentile_cont(0.5)."""
    counts = sorted(counts)
    n = sum(c for _v, c in counts)
    if n == 0:
        return None
    lo_rank, hi_rank = (n - 1) // 2 + 1, n // 2 + 1  # 1-based ranks of the middle value(s)
    lo = hi = None
    seen = 0
    for value, c in counts:
        seen += c
        if lo is None and seen >= lo_rank:
            lo = value
        if seen >= hi_rank:
            hi = value
            break
    return round((lo + hi) / 2.0, 1)


def _labels(group: str, keys: set[str]) -> dict[str, str]:
    if group == "reason":
        return {k: str(PauseReason(k).label) if k in REASON_ORDER else k for k in keys}
    ids = [k for k in keys if k]
    out = {"": _("Unassigned")} if "" in keys else {}
    if not ids:
        return out
    if group == "branch":
        B = CustomerBranch
        rows = db.session.execute(select(B.id, B.branch_name + " (" + B.branch_code + ")").where(B.id.in_(ids)))
    else:
        rows = db.session.execute(select(Technician.id, Technician.name).where(Technician.id.in_(ids)))
    out.update({k: v for k, v in rows})
    return out


def pause_report(rng: DateRange, filters: Filters | None = None, group: str = "reason",
                 now: datetime | None = None) -> list[dict]:
    """Rows `{key, label, pauses, pausedMinutes, medianMinutes}` of the pauses that began
    in the range, one per group that had any; most pauses first (reasons in their own
    order on ties), labels in the reader's language."""
    if group not in PAUSE_API_GROUPS:
        raise ValueError(group)
    now = now or clock.now()
    per_key: dict[str, list[tuple[int, int]]] = {}
    for k, m, n in _histogram(rng, filters or Filters(), group, now):
        per_key.setdefault(k or "", []).append((max(int(m or 0), 0), int(n)))
    labels = _labels(group, set(per_key))
    rows = []
    for k, counts in per_key.items():
        rows.append({
            "key": k or None,
            "label": labels.get(k) or _("(deleted)"),
            "pauses": sum(c for _m, c in counts),
            "pausedMinutes": sum(m * c for m, c in counts),
            "medianMinutes": median_of_histogram(counts),
        })
    tie = (lambda r: REASON_ORDER.index(r["key"]) if r["key"] in REASON_ORDER else 99) if group == "reason" \
        else (lambda r: r["label"].casefold())
    return sorted(rows, key=lambda r: (-r["pauses"], tie(r)))
