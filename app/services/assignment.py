"""Which technician a branch's ticket goes to, and branch territories."""
from __future__ import annotations

from collections.abc import Collection

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CustomerBranch,
    Technician,
    TechnicianBranchAssignment,
    TechnicianStatus,
)
from app import clock
from app.services import access
from app.services.errors import NotFound, ValidationError
from app.services.validation import Fields


def current_assignments(branch_id: str) -> dict[str, TechnicianBranchAssignment]:
    """The branch's current assignments keyed "primary" / "secondary" (one query)."""
    rows = db.session.execute(
        select(TechnicianBranchAssignment)
        .join(TechnicianBranchAssignment.technician)
        .where(TechnicianBranchAssignment.branch_id == branch_id, TechnicianBranchAssignment.end_date.is_(None))
    ).scalars()
    return {("primary" if a.is_primary else "secondary"): a for a in rows}


def pick_technician(branch_id: str, exclude_id: str | None = None,
                    exclude: Collection[str] = ()) -> Technician | None:
    """Current primary if ACTIVE, else current secondary if ACTIVE, else nobody.

    `exclude_id` / `exclude` skip technicians (those who declined)."""
    skip = set(exclude) | ({exclude_id} if exclude_id else set())
    current = current_assignments(branch_id)
    for role in ("primary", "secondary"):
        a = current.get(role)
        if a and a.technician.status == TechnicianStatus.ACTIVE and a.technician_id not in skip:
            return a.technician
    return None


def why_nobody(branch_id: str) -> dict:
    """Why auto-assignment found nobody for the branch, as the "not_assigned" event keeps
    it: who holds each role and how they stand, `{"primary": {"name", "status"} | None,
    "secondary": ...}`. The timeline words it in its reader's language
    (services/timeline_text.py), e.g. "Bekzod Usmonov (primary): on leave; the branch has
    no other active technician"."""
    current = current_assignments(branch_id)

    def standing(a):
        return None if a is None else {"name": a.technician.name, "status": a.technician.status.value}

    return {"primary": standing(current.get("primary")), "secondary": standing(current.get("secondary"))}


def assign_to_branch(technician_id: str, branch_id: str, is_primary: bool = True,
                     service_territory: str | None = None) -> TechnicianBranchAssignment:
    """Make a technician the branch's primary (or secondary). The previous holder of
    that role is ended (endDate set) rather than refused. The same technician holding
    the other role there gives it up, so one person is not both."""
    technician = db.session.get(Technician, technician_id) if len(technician_id) <= 64 else None
    if technician is None:
        raise NotFound(_("Technician not found"))
    branch = db.session.get(CustomerBranch, branch_id)
    if branch is None:
        raise ValidationError(_("Unknown branch"), {"branchId": _("Unknown branch.")})
    if not branch.is_active:
        # The pages offer active branches only; the API and a hand-made post agree.
        raise ValidationError(_("The branch is inactive"), {"branchId": _("This branch is inactive.")})
    now = clock.now()
    current = current_assignments(branch_id)
    mine = current.get("primary" if is_primary else "secondary")
    if mine is not None and mine.technician_id == technician_id:
        return mine
    for a in current.values():
        if a.is_primary == is_primary or a.technician_id == technician_id:
            a.end_date = now
    db.session.flush()
    assignment = TechnicianBranchAssignment(
        technician_id=technician_id,
        branch_id=branch_id,
        is_primary=is_primary,
        service_territory=service_territory,
        assigned_date=now,
        start_date=now,
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


def assign_from_request(actor, technician_id: str, data: dict) -> TechnicianBranchAssignment:
    """Staff only: `{branchId, isPrimary=true, serviceTerritory?}`."""
    access.require_staff(actor)
    f = Fields(data)
    branch_id = f.text("branchId", required=True, max_len=64)
    is_primary = f.boolean("isPrimary", default=True)
    territory = f.text("serviceTerritory", max_len=200)
    f.check()
    return assign_to_branch(technician_id, branch_id, is_primary, territory)


def end_assignment(assignment_id: str, actor=None) -> TechnicianBranchAssignment:
    """End a territory assignment (endDate now); ending it twice changes nothing."""
    if actor is not None:
        access.require_staff(actor)
    assignment = db.session.get(TechnicianBranchAssignment, assignment_id) if len(assignment_id) <= 64 else None
    if assignment is None:
        raise NotFound(_("Assignment not found"))
    if assignment.end_date is None:
        assignment.end_date = clock.now()
        db.session.flush()
    return assignment
