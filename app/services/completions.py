"""Completing the work and the store manager's decision on it.

Costs are computed here in Decimal; whatever totals a client sends are ignored.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
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
from app import clock
from app.services import access, pauses
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


def cost_totals(parts: list[dict], labor_hours: Decimal, labor_cost_per_hour: Decimal) -> dict:
    """The one costing rule: each part's quantity x unit cost rounded to cents, parts
    summed, labour = hours x rate rounded to cents, total = parts + labour."""
    part_totals = [money(p["quantity"] * p["unit_cost"]) for p in parts]
    parts_cost = money(sum(part_totals, Decimal("0")))
    labor_cost = money(labor_hours * labor_cost_per_hour)
    return {"part_totals": part_totals, "parts_cost": parts_cost, "labor_cost": labor_cost,
            "total_cost": money(parts_cost + labor_cost)}


def preview_totals(data: dict, default_rate: Decimal | None = None) -> dict:
    """The running total of a completion form being filled in (nothing is saved):
    the same costing as `complete`; a value that is missing or not yet a valid
    number counts as zero and the result says it is `incomplete`."""
    def number(source: dict, name: str, **limits) -> Decimal | None:
        f = Fields(source)
        value = f.decimal(name, **limits)
        return None if f.errors else value

    hours = number(data, "laborHours", max_value=Decimal("1000"))
    rate = number(data, "laborCostPerHour", max_value=Decimal("100000"))
    if rate is None and (data.get("laborCostPerHour") in (None, "")):
        rate = default_rate
    incomplete = hours is None or rate is None
    parts = []
    raw_parts = data.get("partsUsed") if isinstance(data.get("partsUsed"), list) else []
    for raw in raw_parts[:MAX_PARTS]:
        if not isinstance(raw, dict):
            continue
        qty = number(raw, "quantity", max_value=Decimal("100000"), allow_zero=False)
        unit = number(raw, "unitCost", max_value=Decimal("10000000"))
        if qty is None or unit is None:
            incomplete = True
            continue
        parts.append({"quantity": qty, "unit_cost": unit})
    costs = cost_totals(parts, hours or Decimal("0"), rate or Decimal("0"))
    return {**costs, "labor_hours": hours, "labor_cost_per_hour": rate, "parts_count": len(parts),
            "incomplete": incomplete}


def parse_completion(data: dict, default_rate: Decimal | None = None) -> dict:
    """The technician's form: hours and rates non-negative, quantities positive, at
    most two decimals; `laborCostPerHour` falls back to `default_rate` when absent.
    Totals a client sends are not read at all."""
    out, f = _read_completion(data, default_rate)
    f.check()
    return out


def _read_completion(data: dict, default_rate: Decimal | None) -> tuple[dict, Fields]:
    """The values of `parse_completion` and the field errors found so far (unchecked,
    so the caller can add its own before one ValidationError names them all)."""
    f = Fields(data)
    out = {
        "work_description": f.text("workDescription", required=True, max_len=5000),
        "labor_hours": f.decimal("laborHours", required=True, max_value=Decimal("1000")),
        "labor_cost_per_hour": f.decimal("laborCostPerHour", required=default_rate is None,
                                         max_value=Decimal("100000"),
                                         default=default_rate),
        "photo_ids": None,
        "parts": [],
    }
    parts = data.get("partsUsed", [])
    if parts is None:
        parts = []
    if not isinstance(parts, list):
        f.error("partsUsed", _("Must be a list of parts."))
        parts = []
    if len(parts) > MAX_PARTS:
        f.error("partsUsed", _("At most %(max)s parts.", max=MAX_PARTS))
        parts = []
    for i, raw in enumerate(parts):
        if not isinstance(raw, dict):
            f.error(f"partsUsed[{i}]", _("Each part needs a name, quantity and unit cost."))
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
        if not isinstance(ids, list) or len(ids) > 100 or not all(isinstance(x, str) and len(x) <= 64 for x in ids):
            f.error("photoIds", _("Must be a list of photo ids."))
        else:
            out["photo_ids"] = ids
    return out, f


def complete(ticket: ServiceTicket, actor, data: dict, default_rate: Decimal | None = None) -> ServiceCompletion:
    """IN_PROGRESS -> COMPLETED by the assigned technician, with costs computed here.

    At least one `after` photo must be on the ticket (not yet used by an earlier
    completion, or named in photoIds). The branch's store managers are asked to approve."""
    access.require_assigned_technician(actor, ticket)
    if ticket.status != TicketStatus.IN_PROGRESS:
        raise InvalidTransition(_("Only an IN_PROGRESS ticket can be completed (this one is %(status)s)", status=ticket.status.label))
    values, f = _read_completion(data, default_rate)

    on_ticket = list(db.session.execute(select(TicketPhoto).where(TicketPhoto.ticket_id == ticket.id)).scalars())
    photos = [p for p in on_ticket if p.completion_id is None]
    if values["photo_ids"] is not None:
        wanted = set(values["photo_ids"])
        named = [p for p in on_ticket if p.id in wanted]
        if len(named) != len(wanted):
            f.error("photoIds", _("A photo does not belong to this ticket."))
        photos = [p for p in named if p.completion_id is None]
    if not any(p.type == PhotoType.AFTER for p in on_ticket):
        f.error("photos", _("Add at least one “after” photo."))
    # Every problem in one answer: the text, the hours and the missing photo together.
    if set(f.errors) == {"photos"}:
        f.check(_("Add at least one photo of the finished work"))
    if set(f.errors) == {"photoIds"}:
        f.check(_("Unknown photo"))
    f.check()

    now = clock.now()
    # Completing a paused ticket resumes it first: the pause ends (its minutes move the
    # due time) before the completion stops the clock.
    pauses.resume_ticket(ticket, actor, now)
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
    costs = cost_totals(values["parts"], values["labor_hours"], values["labor_cost_per_hour"])
    for pos, (p, total) in enumerate(zip(values["parts"], costs["part_totals"])):
        completion.parts.append(CompletionPart(position=pos, name=p["name"], quantity=p["quantity"],
                                               unit_cost=p["unit_cost"], total=total))
    completion.parts_cost = costs["parts_cost"]
    completion.labor_cost = costs["labor_cost"]
    completion.total_cost = costs["total_cost"]
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
    access.require_id(completion_id, _("Completion not found"))
    stmt = (
        select(ServiceCompletion)
        .where(ServiceCompletion.id == completion_id)
        .options(selectinload(ServiceCompletion.parts), selectinload(ServiceCompletion.ticket))
    )
    completion = db.session.execute(stmt).scalar_one_or_none()
    if completion is None:
        raise NotFound(_("Completion not found"))
    return completion


def get_readable_completion(user, completion_id: str) -> ServiceCompletion:
    """A completion whose ticket `user` may read; NotFound otherwise."""
    completion = get_completion(completion_id)
    access.require_read_ticket(user, completion.ticket)
    return completion


def signature_png(user, completion_id: str) -> bytes:
    """The stored signature of an approved completion, for readers of its ticket."""
    completion = get_readable_completion(user, completion_id)
    if not completion.signature_key:
        raise NotFound(_("No signature"))
    try:
        return get_storage().get(completion.signature_key)
    except (FileNotFoundError, ValueError):
        raise NotFound(_("Signature file missing"))


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
        raise Conflict(_("This work has already been approved or rejected"))
    db.session.refresh(completion)


def decide(completion: ServiceCompletion, actor, data: dict) -> ServiceCompletion:
    """approve: signature (PNG data URL) and signer's name -> ticket CLOSED.
    reject: a reason -> ticket back to IN_PROGRESS for the technician."""
    access.require_read_ticket(actor, completion.ticket)
    access.require_can_decide(actor, completion)
    ticket = completion.ticket
    if completion.approval_status != ApprovalStatus.PENDING:
        raise Conflict(_("This work has already been approved or rejected"))
    if ticket.status != TicketStatus.COMPLETED:
        raise Conflict(_("This completion is no longer awaiting approval"))
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
        raise ValidationError(_("Unknown action"), {"action": _("Use approve or reject.")})
    db.session.flush()
    return completion
