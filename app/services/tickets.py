"""The ticket workflow: creation, assignment and the status machine.

Every change appends a TicketEvent and the outbox rows in the same transaction.
Functions flush; the caller (request, task, CLI) commits once.
"""
from __future__ import annotations

import math
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    CustomerBranch,
    IssueCategory,
    IssueSubcategory,
    Role,
    ServiceTicket,
    Technician,
    TechnicianStatus,
    TicketAssignee,
    TicketEvent,
    TicketPriority,
    TicketSource,
    TicketStatus,
)
from app import clock, signals
from app.services import access, equipment, history, numbering, pauses, sla_clock
from app.services.assignment import pick_technician, why_nobody
from app.services.errors import Conflict, InvalidTransition, NotFound, ValidationError
from app.services.notifications import acted_on, notify, taken_off
from app.services.timefmt import to_local
from app.services.validation import Fields
from app.transaction import on_commit, transaction_cache

DESCRIPTION_MAX = 5000
NOTES_MAX = 5000
REASON_MAX = 1000


def record_event(ticket: ServiceTicket, kind: str, actor=None, **data: Any) -> TicketEvent:
    """Append one fact to the ticket's timeline.

    The timeline keeps the order things happened in even when the clock does not
    move (a frozen test clock, a coarse or corrected system clock): each fact is at
    least 1 µs after the ticket's previous one (history.next_at)."""
    at = history.next_at(TicketEvent.at, TicketEvent.ticket_id, ticket.id)
    event = TicketEvent(ticket_id=ticket.id, at=at, kind=kind,
                        actor_id=getattr(actor, "id", None), data=data)
    db.session.add(event)
    acted_on(ticket, actor, kind)  # the actor's items about it are read; all of them once it closed
    _announce(ticket.id, kind)
    return event


def _announce(ticket_id: str, kind: str) -> None:
    """Once the transaction commits, say which tickets changed and how (app/signals.py)."""
    changed = transaction_cache("changed_tickets")
    if ticket_id not in changed:
        kinds = changed[ticket_id] = []
        on_commit(lambda: signals.ticket_changed.send(ticket_id, kinds=list(kinds)))
    changed[ticket_id].append(kind)


def _remember_assignee(ticket: ServiceTicket, technician_id: str) -> None:
    exists = db.session.get(TicketAssignee, (ticket.id, technician_id))
    if exists is None:
        db.session.add(TicketAssignee(ticket_id=ticket.id, technician_id=technician_id))


def get_ticket(ticket_id: str, *, for_update: bool = False) -> ServiceTicket:
    access.require_id(ticket_id, _("Ticket not found"))
    stmt = (
        select(ServiceTicket)
        .where(ServiceTicket.id == ticket_id)
        .options(
            selectinload(ServiceTicket.branch),
            selectinload(ServiceTicket.category),
            selectinload(ServiceTicket.subcategory),
            selectinload(ServiceTicket.assigned_technician),
            selectinload(ServiceTicket.equipment),
        )
    )
    if for_update and db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=ServiceTicket)
    ticket = db.session.execute(stmt).scalar_one_or_none()
    if ticket is None:
        raise NotFound(_("Ticket not found"))
    return ticket


def load_readable_ticket(user, ticket_id: str, *, for_update: bool = False) -> ServiceTicket:
    """The ticket if `user` may read it; NotFound otherwise (no id leaks)."""
    return access.require_read_ticket(user, get_ticket(ticket_id, for_update=for_update))


# --- creation -----------------------------------------------------------------

def parse_new_ticket(data: dict) -> dict:
    f = Fields(data)
    out = {
        "branch_id": f.text("branchId", required=True, max_len=64),
        "category_id": f.text("categoryId", required=True, max_len=64),
        "subcategory_id": f.text("subcategoryId", required=True, max_len=64),
        "description": f.text("description", required=True, max_len=DESCRIPTION_MAX),
        "priority": f.choice("priority", TicketPriority, default=TicketPriority.NORMAL),
        "external_id": f.text("externalId", max_len=100),
        "contact_name": f.text("contactName", max_len=200),
        "contact_phone": f.text("contactPhone", max_len=50),
        "equipment_id": f.text("equipmentId", max_len=64),
    }
    f.check()
    return out


def preview_due_times(subcategory_id: str | None, priority: TicketPriority, branch_id: str | None = None):
    """Due times a ticket created now would get (for the create form), in the chosen
    branch's working calendar (around the clock until a branch is chosen)."""
    sub = db.session.get(IssueSubcategory, subcategory_id) if subcategory_id else None
    if sub is None:
        return None
    branch = db.session.get(CustomerBranch, branch_id) if isinstance(branch_id, str) and branch_id else None
    return sla_clock.due_times(sub, priority, clock.now(), calendar=branch.calendar if branch else None)


def source_for(actor) -> TicketSource:
    """Where a ticket a person creates comes from: STORE for a store manager, DISPATCHER
    for staff (the API passes API for a service token's requests; the QR page, alarms,
    plans and rules pass their own)."""
    if actor is not None and actor.role == Role.STORE_MANAGER:
        return TicketSource.STORE
    return TicketSource.DISPATCHER if actor is not None else TicketSource.SYSTEM


_UNSET = object()


def create_ticket(actor, data: dict, *, source: TicketSource | None = None,
                  contact_role: str | None = _UNSET) -> ServiceTicket:
    """Create a ticket for a branch and auto-assign it.

    Rules: the subcategory must belong to the category; store managers only for their
    own branches; the branch's current primary technician if ACTIVE, else its current
    secondary if ACTIVE (status ASSIGNED), otherwise NEW; due times from the
    subcategory's minutes for the priority; contact defaults from the branch.

    `actor` None is a report nobody signed in for (the QR page, services/qr_reports.py):
    allowed only with a `source` that says where it came from; its caller has already
    decided the branch (the unit's) and passes the reporter as the contact.
    """
    if actor is None:
        if source not in (TicketSource.QR, TicketSource.ALARM, TicketSource.PLAN, TicketSource.SYSTEM):
            raise ValueError("a ticket without an actor needs a system source")
    else:
        access.require_can_create_tickets(actor)
    values = parse_new_ticket(data)
    branch = db.session.get(CustomerBranch, values["branch_id"])
    if branch is None or (actor is not None and not access.can_create_ticket_for_branch(actor, branch.id)):
        raise ValidationError(_("Unknown branch"), {"branchId": _("Unknown branch.")})
    if not branch.is_active:
        raise ValidationError(_("This branch is inactive"), {"branchId": _("This branch is inactive.")})
    category = db.session.get(IssueCategory, values["category_id"])
    if category is None:
        raise ValidationError(_("Unknown category"), {"categoryId": _("Unknown category.")})
    subcategory = db.session.get(IssueSubcategory, values["subcategory_id"])
    if subcategory is None or subcategory.category_id != category.id:
        raise ValidationError(
            _("The subcategory does not belong to the category"),
            {"subcategoryId": _("Choose a subcategory of the selected category.")},
        )
    unit = equipment.unit_for_ticket(branch.id, values["equipment_id"]) if values["equipment_id"] else None

    now = clock.now()
    technician = pick_technician(branch.id)
    ticket = ServiceTicket(
        ticket_number=numbering.next_ticket_number(to_local(now)),
        external_id=values["external_id"],
        branch_id=branch.id,
        branch=branch,
        category_id=category.id,
        category=category,
        subcategory_id=subcategory.id,
        subcategory=subcategory,
        description=values["description"],
        priority=values["priority"],
        contact_name=values["contact_name"] or branch.contact_person,
        contact_phone=values["contact_phone"] or branch.phone,
        contact_role="Store Manager" if contact_role is _UNSET else contact_role,
        dispatcher_id=actor.id if actor is not None and actor.role in (Role.DISPATCHER, Role.ADMIN) else None,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
        status=TicketStatus.ASSIGNED if technician else TicketStatus.NEW,
        assigned_technician_id=technician.id if technician else None,
        assigned_technician=technician,
        equipment_id=unit.id if unit else None,
        equipment=unit,
        source=source or source_for(actor),
    )
    sla_clock.set_deadlines(ticket, subcategory, values["priority"], now, calendar=branch.calendar)
    db.session.add(ticket)
    db.session.flush()
    record_event(ticket, "created", actor, ticketNumber=ticket.ticket_number, priority=ticket.priority.value,
                 technicianId=technician.id if technician else None, source=ticket.source.value,
                 **({"equipmentId": unit.id, "assetTag": unit.asset_tag, "equipmentName": unit.name} if unit else {}))
    if technician:
        _remember_assignee(ticket, technician.id)
        record_event(ticket, "assigned", None, technicianId=technician.id, technicianName=technician.name,
                     automatic=True)
        notify("ticket_assigned", ticket, actor)
    else:
        # Why nobody: shown in the timeline as "Not assigned: <reason>."
        record_event(ticket, "not_assigned", None, why=why_nobody(branch.id))
        notify("ticket_unassigned", ticket, actor)
    notify("ticket_created", ticket, actor)
    db.session.flush()
    return ticket


# --- staff actions --------------------------------------------------------------

def assign(ticket: ServiceTicket, technician_id: str, actor) -> ServiceTicket:
    """Assign or reassign to an ACTIVE technician (staff only). The ticket becomes
    ASSIGNED: the new technician has to accept it."""
    access.require_staff(actor)
    if ticket.status not in OPEN_STATUSES:
        raise InvalidTransition(_("A ticket in status “%(status)s” cannot be reassigned", status=ticket.status.label))
    technician = db.session.get(Technician, technician_id) if isinstance(technician_id, str) else None
    if technician is None:
        raise ValidationError(_("Unknown technician"), {"assignedTechnicianId": _("Unknown technician.")})
    if technician.status != TechnicianStatus.ACTIVE:
        raise ValidationError(_("This technician is not active"),
                              {"assignedTechnicianId": _("Only active technicians can take tickets.")})
    if technician.id == ticket.assigned_technician_id and ticket.status != TicketStatus.NEW:
        return ticket
    previous = ticket.assigned_technician_id
    # Back to ASSIGNED: a paused repair resumes first (only work in progress is paused).
    pauses.resume_ticket(ticket, actor)
    ticket.assigned_technician_id = technician.id
    ticket.assigned_technician = technician
    ticket.status = TicketStatus.ASSIGNED
    ticket.dispatcher_id = actor.id
    _remember_assignee(ticket, technician.id)
    record_event(ticket, "reassigned" if previous else "assigned", actor, technicianId=technician.id,
                 technicianName=technician.name, previousTechnicianId=previous)
    notify("ticket_assigned", ticket, actor)
    taken_off(ticket, previous, actor)
    db.session.flush()
    return ticket


def link_equipment(ticket: ServiceTicket, equipment_id: str | None, actor) -> ServiceTicket:
    """Staff name the ticket's unit, change it, or unlink it (None): an active unit of the
    ticket's branch. The timeline records each change with the unit's tag and name."""
    access.require_staff(actor)
    unit = equipment.unit_for_ticket(ticket.branch_id, equipment_id) if equipment_id else None
    if (unit.id if unit else None) == ticket.equipment_id:
        return ticket
    previous = ticket.equipment
    ticket.equipment_id = unit.id if unit else None
    ticket.equipment = unit
    record_event(ticket, "equipment_changed", actor,
                 equipmentId=unit.id if unit else None, assetTag=unit.asset_tag if unit else None,
                 equipmentName=unit.name if unit else None,
                 previousEquipmentId=previous.id if previous else None,
                 previousAssetTag=previous.asset_tag if previous else None,
                 previousEquipmentName=previous.name if previous else None)
    db.session.flush()
    return ticket


def change_priority(ticket: ServiceTicket, priority: TicketPriority, actor) -> ServiceTicket:
    """Staff only. Both due times are recomputed from createdAt, in the branch's working
    calendar as it is now (CRITICAL: around the clock); the resolution due time keeps the
    paused working time the ticket already has (`paused_minutes_total`)."""
    access.require_staff(actor)
    if ticket.status == TicketStatus.CLOSED:
        raise InvalidTransition(_("A closed ticket cannot change priority"))
    return _set_priority(ticket, priority, actor)


# Why a priority changed without anyone choosing it (the `reason` of `priority_changed`).
URGENT_QR_REPORT = "urgent_qr_report"


def raise_priority_for_urgent_report(ticket: ServiceTicket) -> ServiceTicket:
    """An urgent report by the unit's QR code joined this open ticket: it becomes at least
    HIGH (never lower; CRITICAL stays CRITICAL), its due times recomputed as any change
    of priority, and the timeline says why (services/qr_reports.py)."""
    if ticket.status == TicketStatus.CLOSED or PRIORITY_ORDER[ticket.priority] >= PRIORITY_ORDER[TicketPriority.HIGH]:
        return ticket
    return _set_priority(ticket, TicketPriority.HIGH, None, reason=URGENT_QR_REPORT)


PRIORITY_ORDER = {TicketPriority.LOW: 0, TicketPriority.NORMAL: 1, TicketPriority.HIGH: 2, TicketPriority.CRITICAL: 3}


def _set_priority(ticket: ServiceTicket, priority: TicketPriority, actor, *, reason: str | None = None) -> ServiceTicket:
    """The one place a ticket's priority changes: due times recomputed from createdAt by
    the SLA clock, fresh warnings, one timeline line (with `reason` when the system did it)."""
    if priority == ticket.priority:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    sla_clock.set_deadlines(ticket, ticket.subcategory, priority, ticket.created_at,
                            calendar=ticket.branch.calendar, paused_minutes=ticket.paused_minutes_total or 0)
    # A new window deserves fresh warnings.
    ticket.response_warned_at = None
    data = {"from": old.value, "to": priority.value}
    if reason:
        data["reason"] = reason
    record_event(ticket, "priority_changed", actor, **data)
    db.session.flush()
    return ticket


def update_notes(ticket: ServiceTicket, actor, *, internal: str | None = None, store: str | None = None) -> ServiceTicket:
    """Internal notes: staff only. Store notes: staff and the branch's managers.
    None leaves a note as it is; "" clears it (the timeline says so)."""
    if internal is not None:
        access.require_staff(actor)
        ticket.internal_notes = internal or None
        record_event(ticket, "internal_note", actor, text=internal)
    if store is not None:
        if not (access.is_staff(actor) or actor.role == Role.STORE_MANAGER):
            access.require_staff(actor)
        ticket.store_notes = store or None
        record_event(ticket, "store_note", actor, text=store)
    db.session.flush()
    return ticket


STORE_NOTE_MAX = 2000


def add_store_note(ticket: ServiceTicket, actor, text) -> TicketEvent:
    """A note from the branch's store manager on its open ticket: one more line in the
    timeline, which everyone who reads the ticket sees; earlier notes stay as written."""
    access.require_store_evidence(actor, ticket, "notes")
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise ValidationError(_("Write the note first."), {"note": _("Write the note first.")})
    if len(text) > STORE_NOTE_MAX:
        raise ValidationError(_("The note is too long."), {"note": _("At most %(max)s characters.", max=STORE_NOTE_MAX)})
    event = record_event(ticket, "store_note", actor, text=text)
    db.session.flush()
    return event


def close_without_completion(ticket: ServiceTicket, reason: str, actor) -> ServiceTicket:
    """Staff close NEW/ASSIGNED/IN_PROGRESS tickets with a reason (in the timeline)."""
    access.require_staff(actor)
    if ticket.status not in OPEN_STATUSES:
        raise InvalidTransition(_("A ticket in status “%(status)s” cannot be closed this way", status=ticket.status.label))
    if not reason or not reason.strip():
        raise ValidationError(_("A reason is required to close a ticket"), {"reason": _("Say why it is closed.")})
    pauses.resume_ticket(ticket, actor)  # the pause ends with the ticket
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = clock.now()
    ticket.close_reason = reason.strip()[:REASON_MAX]
    record_event(ticket, "closed", actor, reason=ticket.close_reason)
    db.session.flush()
    return ticket


# --- technician actions ---------------------------------------------------------

def accept(ticket: ServiceTicket, actor) -> ServiceTicket:
    """ASSIGNED -> IN_PROGRESS by the assigned technician; firstResponseAt set once."""
    access.require_assigned_technician(actor, ticket)
    if ticket.status != TicketStatus.ASSIGNED:
        raise InvalidTransition(_("Only an ASSIGNED ticket can be accepted (this one is %(status)s)", status=ticket.status.label))
    ticket.status = TicketStatus.IN_PROGRESS
    if ticket.first_response_at is None:
        ticket.first_response_at = clock.now()
    record_event(ticket, "accepted", actor, technicianId=ticket.assigned_technician_id)
    db.session.flush()
    return ticket


def decline(ticket: ServiceTicket, reason: str | None, actor) -> ServiceTicket:
    """The assigned technician declines: the branch's other current ACTIVE technician
    gets it (ASSIGNED) unless they declined it already, otherwise it goes back to NEW.
    Dispatchers are told."""
    access.require_assigned_technician(actor, ticket)
    if ticket.status != TicketStatus.ASSIGNED:
        raise InvalidTransition(_("Only an ASSIGNED ticket can be declined (this one is %(status)s)", status=ticket.status.label))
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError(_("A reason is required to decline"), {"reason": _("Say why you decline.")})
    previous = ticket.assigned_technician_id
    declined_before = {e.data.get("technicianId") for e in db.session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "declined")).scalars()}
    # The other technician, unless they already turned this ticket down: then dispatch decides.
    other = pick_technician(ticket.branch_id, exclude={previous, *declined_before})
    record_event(ticket, "declined", actor, technicianId=previous, reason=reason[:REASON_MAX])
    if other is not None:
        ticket.assigned_technician_id = other.id
        ticket.assigned_technician = other
        ticket.status = TicketStatus.ASSIGNED
        _remember_assignee(ticket, other.id)
        record_event(ticket, "assigned", None, technicianId=other.id, technicianName=other.name,
                     previousTechnicianId=previous, automatic=True)
        notify("ticket_assigned", ticket, actor)
    else:
        ticket.assigned_technician_id = None
        ticket.assigned_technician = None
        ticket.status = TicketStatus.NEW
    notify("ticket_declined", ticket, actor, reason=reason[:REASON_MAX])
    db.session.flush()
    return ticket


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def parse_arrival(data: dict) -> tuple[float | None, float | None]:
    """Optional `{latitude, longitude}`: both or neither, in range."""
    f = Fields(data)
    lat = f.floating("latitude", min_value=-90, max_value=90)
    lon = f.floating("longitude", min_value=-180, max_value=180)
    if (data.get("latitude") is None) != (data.get("longitude") is None):
        f.error("latitude" if data.get("latitude") is None else "longitude",
                _("Send latitude and longitude together."))
    f.check()
    return lat, lon


def arrive(ticket: ServiceTicket, actor, latitude: float | None = None, longitude: float | None = None,
           radius_m: float | None = None) -> dict:
    """The assigned technician is on site: arrivedAt once per visit (an ASSIGNED ticket is
    accepted first), distance from the branch in the timeline (a warning past the
    radius, never a refusal)."""
    access.require_assigned_technician(actor, ticket)
    if ticket.status == TicketStatus.ASSIGNED:
        accept(ticket, actor)  # arriving on site is accepting it
    if ticket.status != TicketStatus.IN_PROGRESS:
        raise InvalidTransition(_("Arrival can only be marked on open work (this ticket is %(status)s)", status=ticket.status.label))
    if access.on_site(ticket):  # once per visit; after the work was sent back, the return visit
        return {"ticket": ticket, "distance": ticket.arrival_distance_m, "farAway": False}
    now = clock.now()
    ticket.arrived_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    distance = None
    b = ticket.branch
    if latitude is not None and longitude is not None and b.latitude is not None and b.longitude is not None:
        distance = round(haversine_m(latitude, longitude, b.latitude, b.longitude), 1)
    ticket.arrival_distance_m = distance
    far = distance is not None and radius_m is not None and distance > radius_m
    record_event(ticket, "arrived", actor, distanceMeters=distance, farFromBranch=far)
    db.session.flush()
    return {"ticket": ticket, "distance": distance, "farAway": far}


# --- PATCH ------------------------------------------------------------------------

def patch(ticket: ServiceTicket, data: dict, actor) -> ServiceTicket:
    """Apply a PATCH body: status / assignedTechnicianId / priority / notes, with an
    optional `version` for optimistic concurrency (stale -> 409)."""
    f = Fields(data)
    version = f.integer("version", min_value=0, max_value=2**31)
    f.check()
    if version is not None and version != ticket.version:
        raise Conflict(_("This ticket was changed by someone else; reload and try again"))
    known = {"status", "assignedTechnicianId", "priority", "internalNotes", "storeNotes", "version", "reason",
             "equipmentId"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(_("Unknown fields"), {k: _("Unknown field.") for k in unknown})
    if not (set(data) - {"version", "reason"}):
        raise ValidationError(_("Nothing to change"))

    if "priority" in data:
        priority = f.choice("priority", TicketPriority, required=True)
        f.check()
        change_priority(ticket, priority, actor)
    if "internalNotes" in data or "storeNotes" in data:
        internal = f.text("internalNotes", max_len=NOTES_MAX, strip=False) if "internalNotes" in data else None
        store = f.text("storeNotes", max_len=NOTES_MAX, strip=False) if "storeNotes" in data else None
        f.check()
        # Sent empty or null: cleared ("" to update_notes), not ignored.
        update_notes(ticket, actor, internal=(internal or "") if "internalNotes" in data else None,
                     store=(store or "") if "storeNotes" in data else None)
    if "equipmentId" in data:
        equipment_id = f.text("equipmentId", max_len=64)
        f.check()
        link_equipment(ticket, equipment_id, actor)
    if "assignedTechnicianId" in data:
        tech_id = f.text("assignedTechnicianId", required=True, max_len=64)
        f.check()
        assign(ticket, tech_id, actor)
    if "status" in data:
        status = f.choice("status", TicketStatus, required=True)
        f.check()
        if status == TicketStatus.IN_PROGRESS:
            accept(ticket, actor)
        elif status == TicketStatus.CLOSED:
            close_without_completion(ticket, data.get("reason") if isinstance(data.get("reason"), str) else "", actor)
        elif status == TicketStatus.ASSIGNED and "assignedTechnicianId" in data:
            pass  # done by the assignment above
        else:
            raise InvalidTransition(_("Status cannot be set to %(status)s this way", status=status.value))
    return ticket
