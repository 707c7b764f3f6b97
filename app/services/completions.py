"""Completing the work and the store manager's decision on it.

Costs are computed here in Decimal; whatever totals a client sends are ignored.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    ApprovalStatus,
    CompletionPart,
    PhotoType,
    ServiceCompletion,
    ServiceTicket,
    TicketPhoto,
    TicketStatus,
)
from app.models.types import new_id
from app.services import access, clock
from app.services.errors import Conflict, InvalidTransition, NotFound, ValidationError
from app.services.notifications import notify
from app.services.photos import decode_signature, discard_on_rollback
from app.services.storage import get_storage
from app.services.tickets import record_event
from app.services.validation import Fields

CENT = Decimal("0.01")
MAX_PARTS = 50


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_completion(data: dict, default_rate: Decimal | None = None) -> dict:
    f = Fields(data)
    out = {
        "work_description": f.text("workDescription", required=True, max_len=5000),
        "labor_hours": f.decimal("laborHours", required=True, max_value=Decimal("1000")),
        "labor_cost_per_hour": f.decimal("laborCostPerHour", required=default_rate is None,
                                         max_value=Decimal("100000"), default=default_rate),
        "photo_ids": None,
        "parts": [],
    }
    parts = data.get("partsUsed", [])
    if parts is None:
        parts = []
    if not isinstance(parts, list):
        f.error("partsUsed", "Must be a list of parts.")
        parts = []
    if len(parts) > MAX_PARTS:
        f.error("partsUsed", f"At most {MAX_PARTS} parts.")
        parts = []
    for i, raw in enumerate(parts):
        if not isinstance(raw, dict):
            f.error(f"partsUsed[{i}]", "Each part needs a name, quantity and unit cost.")
            continue
        pf = Fields(raw)
        name = pf.text("name", required=True, max_len=200)
        qty = pf.decimal("quantity", required=True, max_value=Decimal("100000"), allow_zero=False)
        unit = pf.decimal("unitCost", required=True, max_value=Decimal("10000000"))
        for k, v in pf.errors.items():
            f.error(f"partsUsed[{i}].{k}", v)
        if not pf.errors:
            out["parts"].append({"name": name, "quantity": qty, "unit_cost": unit})
    if "photoIds" in data and data["photoIds"] is not None:
        ids = data["photoIds"]
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            f.error("photoIds", "Must be a list of photo ids.")
        else:
            out["photo_ids"] = ids
    f.check()
    return out


def complete(ticket: ServiceTicket, actor, data: dict, default_rate: Decimal | None = None) -> ServiceCompletion:
    """IN_PROGRESS -> COMPLETED by the assigned technician, with costs computed here.

    At least one `after` photo must be on the ticket (not yet used by an earlier
    completion, or named in photoIds). The branch's store managers are asked to approve."""
    access.require_assigned_technician(actor, ticket)
    if ticket.status != TicketStatus.IN_PROGRESS:
        raise InvalidTransition(f"Only an IN_PROGRESS ticket can be completed (this one is {ticket.status.value})")
    values = parse_completion(data, default_rate)

    photos_stmt = select(TicketPhoto).where(TicketPhoto.ticket_id == ticket.id)
    if values["photo_ids"] is not None:
        photos_stmt = photos_stmt.where(TicketPhoto.id.in_(values["photo_ids"]))
    else:
        photos_stmt = photos_stmt.where(TicketPhoto.completion_id.is_(None))
    photos = list(db.session.execute(photos_stmt).scalars())
    if values["photo_ids"] is not None and len(photos) != len(set(values["photo_ids"])):
        raise ValidationError("Unknown photo", {"photoIds": "A photo does not belong to this ticket."})
    if not any(p.type == PhotoType.AFTER for p in photos):
        raise ValidationError("Add at least one photo of the finished work",
                              {"photos": "Add at least one “after” photo."})

    now = clock.now()
    completion = ServiceCompletion(
        id=new_id(),
        ticket_id=ticket.id,
        technician_id=ticket.assigned_technician_id,
        completed_by_id=actor.id,
        completed_by=actor.name,
        completed_at=now,
        work_description=values["work_description"],
        labor_hours=values["labor_hours"],
        labor_cost_per_hour=values["labor_cost_per_hour"],
    )
    parts_cost = Decimal("0")
    for pos, p in enumerate(values["parts"]):
        total = money(p["quantity"] * p["unit_cost"])
        parts_cost += total
        completion.parts.append(CompletionPart(position=pos, name=p["name"], quantity=p["quantity"],
                                               unit_cost=p["unit_cost"], total=total))
    completion.parts_cost = money(parts_cost)
    completion.labor_cost = money(values["labor_hours"] * values["labor_cost_per_hour"])
    completion.total_cost = money(completion.parts_cost + completion.labor_cost)
    db.session.add(completion)
    db.session.flush()
    for photo in photos:
        if photo.completion_id is None:
            photo.completion_id = completion.id

    ticket.status = TicketStatus.COMPLETED
    ticket.completed_at = now
    record_event(ticket, "completed", actor, completionId=completion.id, totalCost=str(completion.total_cost))
    notify("ticket_completed", ticket, actor)
    db.session.flush()
    return completion


def get_completion(completion_id: str, *, for_update: bool = False) -> ServiceCompletion:
    if not isinstance(completion_id, str) or len(completion_id) > 64:
        raise NotFound("Completion not found")
    stmt = (
        select(ServiceCompletion)
        .where(ServiceCompletion.id == completion_id)
        .options(selectinload(ServiceCompletion.parts), selectinload(ServiceCompletion.ticket))
    )
    completion = db.session.execute(stmt).scalar_one_or_none()
    if completion is None:
        raise NotFound("Completion not found")
    return completion


def _claim(completion: ServiceCompletion, status: ApprovalStatus, now, actor, notes: str | None) -> None:
    """Decide a PENDING completion exactly once, even with two deciders at once:
    a conditional UPDATE that only one of them can win."""
    result = db.session.execute(
        update(ServiceCompletion)
        .where(ServiceCompletion.id == completion.id, ServiceCompletion.approval_status == ApprovalStatus.PENDING)
        .values(approval_status=status, decided_at=now, decided_by_id=actor.id, approval_notes=notes,
                updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("This work has already been approved or rejected")
    db.session.refresh(completion)


def decide(completion: ServiceCompletion, actor, data: dict) -> ServiceCompletion:
    """approve: signature (PNG data URL) and signer's name -> ticket CLOSED.
    reject: a reason -> ticket back to IN_PROGRESS for the technician."""
    access.require_read_ticket(actor, completion.ticket)
    access.require_can_decide(actor, completion)
    ticket = completion.ticket
    if completion.approval_status != ApprovalStatus.PENDING:
        raise Conflict("This work has already been approved or rejected")
    if ticket.status != TicketStatus.COMPLETED or ticket.completion is not completion:
        raise Conflict("This completion is no longer awaiting approval")
    f = Fields(data)
    action = f.text("action", required=True, max_len=20)
    f.check()
    now = clock.now()
    if action == "approve":
        signed_by = f.text("signedBy", required=True, max_len=200)
        f.check()
        png = decode_signature(data.get("signature"))
        _claim(completion, ApprovalStatus.APPROVED, now, actor, None)
        key = f"signatures/{completion.id}.png"
        discard_on_rollback([key])
        get_storage().put(key, png)
        completion.signature_key = key
        completion.signed_by = signed_by
        completion.signed_at = now
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = now
        record_event(ticket, "approved", actor, completionId=completion.id, signedBy=signed_by)
        notify("completion_approved", ticket, actor)
    elif action == "reject":
        reason = f.text("reason", required=True, max_len=2000)
        f.check()
        _claim(completion, ApprovalStatus.REJECTED, now, actor, reason)
        ticket.status = TicketStatus.IN_PROGRESS
        ticket.completed_at = None
        record_event(ticket, "rejected", actor, completionId=completion.id, reason=reason)
        notify("completion_rejected", ticket, actor, reason=reason)
    else:
        raise ValidationError("Unknown action", {"action": "Use approve or reject."})
    db.session.flush()
    return completion
