"""Technician performance: assignments, declines, acceptances, completions and their SLA and cost.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)

from app.extensions import db
from app.models import (
    ApprovalStatus,
    CustomerBranch,
    ServiceCompletion,
    ServiceTicket,
    Technician,
    TicketEvent,
)
from app.services.analytics.cost import cost_report
from app.services.analytics.periods import DateRange, Filters, _ticket_conditions
from app.services.analytics.rollup import _roomy_sorts
from app.services.analytics.sla import _ratio, sla_report
from app.services.analytics.sql import _at, json_text


# --- technicians ------------------------------------------------------------------------

ASSIGNING_KINDS = ("assigned", "reassigned", "escalated")


def _event_counts(rng: DateRange, filters: Filters):
    """Per technician: assignments to them, acceptances, declines and escalations away
    from them, from the timeline events in the range. Events are first counted per
    distinct JSON body (the same few per technician and kind), so each body is parsed
    once rather than once per event."""
    E, T, B = TicketEvent, ServiceTicket, CustomerBranch
    body = cast(E.data, Text)
    grouped = (select(E.kind.label("kind"), body.label("body"), func.count().label("n"))
               .where(E.kind.in_(ASSIGNING_KINDS + ("accepted", "declined")),
                      E.at >= _at(rng.start), E.at < _at(rng.end))
               .group_by(E.kind, body))
    conds = _ticket_conditions(filters)
    if conds:
        grouped = grouped.join(T, T.id == E.ticket_id).join(B, B.id == T.branch_id).where(*conds)
    g = grouped.subquery()
    towards = select(json_text(g.c.body, "technicianId").label("tech"), g.c.kind, g.c.n)
    away = select(json_text(g.c.body, "previousTechnicianId").label("tech"),
                  literal("escalated_away", String).label("kind"), g.c.n).where(g.c.kind == "escalated")
    u = union_all(towards, away).subquery()
    return (
        select(
            u.c.tech,
            func.sum(case((u.c.kind.in_(ASSIGNING_KINDS), u.c.n), else_=0)).label("assigned"),
            func.sum(case((u.c.kind == "accepted", u.c.n), else_=0)).label("accepted"),
            func.sum(case((u.c.kind == "declined", u.c.n), else_=0)).label("declined"),
            func.sum(case((u.c.kind == "escalated_away", u.c.n), else_=0)).label("escalated_away"),
        )
        .where(u.c.tech.is_not(None))
        .group_by(u.c.tech)
    )


def _completion_counts(rng: DateRange, filters: Filters):
    """Per technician: completions submitted in the range, and decisions taken in it."""
    C, T, B = ServiceCompletion, ServiceTicket, CustomerBranch
    start, end = _at(rng.start), _at(rng.end)
    submitted = and_(C.completed_at >= start, C.completed_at < end)
    decided = and_(C.decided_at >= start, C.decided_at < end)
    stmt = (
        select(
            C.technician_id.label("tech"),
            func.sum(case((submitted, 1), else_=0)).label("completed"),
            func.sum(case((and_(decided, C.approval_status != ApprovalStatus.PENDING), 1), else_=0)).label("decided"),
            func.sum(case((and_(decided, C.approval_status == ApprovalStatus.REJECTED), 1), else_=0)).label("rejected"),
        )
        .where(or_(submitted, decided), C.technician_id.is_not(None))
        .group_by(C.technician_id)
    )
    conds = _ticket_conditions(filters)
    if conds:
        stmt = stmt.join(T, T.id == C.ticket_id).join(B, B.id == T.branch_id).where(*conds)
    return stmt


def technician_activity(rng: DateRange, filters: Filters) -> dict:
    """The timeline and completion counts per technician (two aggregate queries)."""
    _roomy_sorts()
    return {"events": [dict(r) for r in db.session.execute(_event_counts(rng, filters)).mappings()],
            "completions": [dict(r) for r in db.session.execute(_completion_counts(rng, filters)).mappings()]}


def technician_report(rng: DateRange, filters: Filters, *, sla_rows: list[dict] | None = None,
                      cost_rows: list[dict] | None = None, activity: dict | None = None,
                      now: datetime | None = None) -> list[dict]:
    """One row per technician with any activity in the range: assignments, acceptances,
    declines, escalations away (timeline), completions submitted and the share of
    decisions that rejected their work, SLA compliance of the tickets they hold
    (created in the range), labour hours and cost of their approved work."""
    if sla_rows is None:
        sla_rows = sla_report(rng, filters, ("technician",), now)["technician"]
    if cost_rows is None:
        cost_rows = cost_report(rng, filters, ("technician",))["technician"]
    if activity is None:
        activity = technician_activity(rng, filters)
    rows: dict[str, dict] = {}

    def row(tech_id: str) -> dict:
        if tech_id not in rows:
            rows[tech_id] = {
                "key": tech_id, "label": "", "assigned": 0, "accepted": 0, "declined": 0, "escalatedAway": 0,
                "completed": 0, "decided": 0, "rejected": 0, "rejectionRate": None,
                "responseMeasured": 0, "responseMet": 0, "responseCompliance": None,
                "resolutionMeasured": 0, "resolutionMet": 0, "resolutionCompliance": None,
                "medianLaborHours": None, "laborHours": Decimal("0.00"), "partsCost": Decimal("0.00"),
                "laborCost": Decimal("0.00"), "totalCost": Decimal("0.00"), "approvedJobs": 0,
            }
        return rows[tech_id]

    for r in activity["events"]:
        x = row(r["tech"])
        x.update(assigned=int(r["assigned"]), accepted=int(r["accepted"]), declined=int(r["declined"]),
                 escalatedAway=int(r["escalated_away"]))
    for r in activity["completions"]:
        x = row(r["tech"])
        x.update(completed=int(r["completed"]), decided=int(r["decided"]), rejected=int(r["rejected"]),
                 rejectionRate=_ratio(int(r["rejected"]), int(r["decided"])))
    for s in sla_rows:
        if not s["key"]:
            continue
        x = row(s["key"])
        for f in ("responseMeasured", "responseMet", "responseCompliance", "resolutionMeasured", "resolutionMet",
                  "resolutionCompliance"):
            x[f] = s[f]
    for c in cost_rows:
        if not c["key"]:
            continue
        x = row(c["key"])
        x.update(medianLaborHours=c["medianLaborHours"], laborHours=c["laborHours"], partsCost=c["partsCost"],
                 laborCost=c["laborCost"], totalCost=c["totalCost"], approvedJobs=c["tickets"])
    if rows:
        names = dict(db.session.execute(
            select(Technician.id, Technician.name).where(Technician.id.in_(list(rows)))).all())
        for tech_id, x in rows.items():
            x["label"] = names.get(tech_id, "(deleted)")
    return sorted(rows.values(), key=lambda x: (-x["assigned"], -x["completed"], x["label"].lower()))


