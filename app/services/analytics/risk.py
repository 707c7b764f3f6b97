"""Open tickets at risk: the running SLA clock (services/sla_clock.py) is amber or overdue.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

from types import SimpleNamespace
from datetime import datetime

from sqlalchemy import (
    case,
    func,
    select,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    CustomerBranch,
    IssueSubcategory,
    ServiceTicket,
    Technician,
)
from app import clock
from app.services import sla_clock
from app.services.analytics.periods import Filters, _as_utc, _ticket_conditions


# --- open tickets at risk ---------------------------------------------------------------------

def at_risk(filters: Filters, now: datetime | None = None, limit: int | None = 50) -> dict:
    """Open tickets (whatever the range) whose running SLA clock (sla_clock) is amber or
    overdue; soonest due first."""
    T, B = ServiceTicket, CustomerBranch
    now = now or clock.now()
    due = sla_clock.sql_running_due(T)
    conds = [sla_clock.sql_at_risk(now, T), *_ticket_conditions(filters)]
    counts = db.session.execute(
        select(func.count().label("n"),
               func.sum(case((sla_clock.sql_overdue(now, T), 1), else_=0)).label("overdue"))
        .select_from(T).join(B, B.id == T.branch_id).where(*conds)
    ).one()
    tech = aliased(Technician)
    sub = aliased(IssueSubcategory)
    stmt = (
        select(T.id, T.ticket_number, T.priority, T.status, T.created_at, T.response_due_at, T.resolution_due_at,
               T.first_response_at, due.label("due"), B.branch_name, B.branch_code, sub.name.label("sub"),
               T.subcategory_id, tech.name.label("tech"), T.assigned_technician_id)
        .select_from(T)
        .join(B, B.id == T.branch_id)
        .outerjoin(sub, sub.id == T.subcategory_id)
        .outerjoin(tech, tech.id == T.assigned_technician_id)
        .where(*conds)
        .order_by(due, T.ticket_number)
    )
    if limit:
        stmt = stmt.limit(limit)
    rows = []
    for r in db.session.execute(stmt).mappings():
        due_at = _as_utc(r["due"])
        which = sla_clock.RESPONSE if sla_clock.races_response(SimpleNamespace(**r)) else sla_clock.RESOLUTION
        rows.append({
            "id": r["id"], "ticketNumber": r["ticket_number"], "priority": r["priority"].value,
            "status": r["status"].value, "branch": f"{r['branch_name']} ({r['branch_code']})",
            "subcategoryId": r["subcategory_id"], "subcategory": r["sub"] or "",
            "technicianId": r["assigned_technician_id"], "technician": r["tech"] or "Unassigned",
            "dueAt": due_at, "sla": which, "overdue": due_at < now,
            "overdueMinutes": round((now - due_at).total_seconds() / 60) if due_at < now else 0,
            "minutesLeft": round((due_at - now).total_seconds() / 60) if due_at >= now else 0,
        })
    return {"count": int(counts.n or 0), "overdue": int(counts.overdue or 0), "rows": rows}


