"""Model -> API JSON (camelCase, UTC ISO times, money as strings)."""
from __future__ import annotations

from decimal import Decimal

from flask import url_for

from app.models import (
    CustomerBranch,
    IssueCategory,
    IssueSubcategory,
    ServiceCompletion,
    ServiceTicket,
    Technician,
    TechnicianBranchAssignment,
    TicketEvent,
    TicketPhoto,
    User,
)
from app.services import access, sla_clock
from app.services.timefmt import iso_utc


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def number(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def category(c: IssueCategory) -> dict:
    return {"id": c.id, "name": c.name, "description": c.description}


def subcategory(s: IssueSubcategory) -> dict:
    return {
        "id": s.id, "categoryId": s.category_id, "name": s.name, "description": s.description,
        "slaResponseCritical": s.sla_response_critical, "slaResponseHigh": s.sla_response_high,
        "slaResponseNormal": s.sla_response_normal, "slaResponseLow": s.sla_response_low,
        "slaResolutionCritical": s.sla_resolution_critical, "slaResolutionHigh": s.sla_resolution_high,
        "slaResolutionNormal": s.sla_resolution_normal, "slaResolutionLow": s.sla_resolution_low,
    }


def customer(c) -> dict:
    return {"id": c.id, "name": c.name, "createdAt": iso_utc(c.created_at)}


def branch(b: CustomerBranch) -> dict:
    return {
        "id": b.id, "customerId": b.customer_id, "branchCode": b.branch_code, "branchName": b.branch_name,
        "address": b.address, "contactPerson": b.contact_person, "phone": b.phone,
        "latitude": b.latitude, "longitude": b.longitude, "isActive": b.is_active,
        "calendarId": b.calendar_id,  # null: around the clock
    }


def calendar(c) -> dict:
    return {"id": c.id, "name": c.name, "timezone": c.timezone, "week": c.week, "holidays": list(c.holidays or []),
            "country": c.country}


def assignment(a: TechnicianBranchAssignment) -> dict:
    return {
        "id": a.id, "technicianId": a.technician_id, "branchId": a.branch_id, "isPrimary": a.is_primary,
        "serviceTerritory": a.service_territory, "assignedDate": iso_utc(a.assigned_date),
        "startDate": iso_utc(a.start_date), "endDate": iso_utc(a.end_date),
    }


def technician(t: Technician, with_assignments: bool = False) -> dict:
    out = {
        "id": t.id, "name": t.name, "phone": t.phone, "email": t.email, "status": t.status.value,
        "latitude": t.latitude, "longitude": t.longitude, "lastLocationUpdate": iso_utc(t.last_location_update),
        "createdAt": iso_utc(t.created_at),
        "laborRate": money(t.labor_rate),  # null: the company's rate (DEFAULT_LABOR_RATE)
    }
    if with_assignments:
        out["branchAssignments"] = [assignment(a) for a in t.branch_assignments]
    return out


def user(u: User) -> dict:
    return {
        "id": u.id, "email": u.email, "name": u.name, "role": u.role.value, "phone": u.phone,
        "telegramChatId": u.telegram_chat_id, "notifyTelegram": u.notify_telegram, "notifySms": u.notify_sms,
        "locale": u.locale, "technicianId": u.technician_id, "branchIds": [b.id for b in u.branches], "isActive": u.is_active,
    }


def service_token(t, *, with_state: bool = True) -> dict:
    """A service token without its secret (only its SHA-256 is stored anyway)."""
    out = {"id": t.id, "name": t.name, "createdAt": iso_utc(t.created_at)}
    if with_state:
        out.update({"lastUsedAt": iso_utc(t.last_used_at), "revokedAt": iso_utc(t.revoked_at)})
    return out


def photo(p: TicketPhoto) -> dict:
    return {
        "id": p.id, "type": p.type.value, "caption": p.caption,
        "url": url_for("api.photo_file", photo_id=p.id),
        "thumbnailUrl": url_for("api.photo_file", photo_id=p.id, size="thumb"),
        "width": p.width, "height": p.height, "createdAt": iso_utc(p.created_at),
    }


def completion(c: ServiceCompletion) -> dict:
    return {
        "id": c.id, "ticketId": c.ticket_id, "completedBy": c.completed_by, "completedAt": iso_utc(c.completed_at),
        "workDescription": c.work_description, "laborHours": number(c.labor_hours),
        "laborCostPerHour": money(c.labor_cost_per_hour),
        "parts": [{"name": p.name, "quantity": number(p.quantity), "unitCost": money(p.unit_cost),
                   "total": money(p.total)} for p in c.parts],
        "partsCost": money(c.parts_cost), "laborCost": money(c.labor_cost), "totalCost": money(c.total_cost),
        "photos": [photo(p) for p in c.photos],
        "approvalStatus": c.approval_status.value, "approvalNotes": c.approval_notes,
        "signatureUrl": url_for("api.signature_file", completion_id=c.id) if c.signature_key else None,
        "signedBy": c.signed_by, "signedAt": iso_utc(c.signed_at), "decidedAt": iso_utc(c.decided_at),
    }


def ticket(t: ServiceTicket, viewer: User, *, with_completion: bool = True) -> dict:
    out = {
        "id": t.id, "ticketNumber": t.ticket_number, "externalId": t.external_id,
        "branchId": t.branch_id, "branch": branch(t.branch) if t.branch else None,
        "categoryId": t.category_id, "category": category(t.category) if t.category else None,
        "subcategoryId": t.subcategory_id,
        "subcategory": {"id": t.subcategory.id, "name": t.subcategory.name} if t.subcategory else None,
        "description": t.description, "priority": t.priority.value, "status": t.status.value,
        "assignedTechnicianId": t.assigned_technician_id,
        "assignedTechnician": (
            {"id": t.assigned_technician.id, "name": t.assigned_technician.name,
             "phone": t.assigned_technician.phone} if t.assigned_technician else None
        ),
        "dispatcherId": t.dispatcher_id, "contactName": t.contact_name, "contactRole": t.contact_role,
        "contactPhone": t.contact_phone, "createdAt": iso_utc(t.created_at),
        "firstResponseAt": iso_utc(t.first_response_at), "arrivedAt": iso_utc(t.arrived_at),
        "completedAt": iso_utc(t.completed_at), "closedAt": iso_utc(t.closed_at),
        "responseDueAt": iso_utc(t.response_due_at), "resolutionDueAt": iso_utc(t.resolution_due_at),
        "responseBreached": sla_clock.response_breached(t), "resolutionBreached": sla_clock.resolution_breached(t),
        "escalationLevel": t.escalation_level, "internalNotes": t.internal_notes, "storeNotes": t.store_notes,
        "version": t.version,
        "equipmentId": t.equipment_id, "equipment": equipment_ref(t.equipment) if t.equipment_id else None,
        "source": t.source.value if t.source else None, "maintenancePlanId": t.maintenance_plan_id,
        "paused": t.paused_at is not None, "pausedAt": iso_utc(t.paused_at),
        "pauseReason": t.pause_reason.value if t.pause_reason else None,
        "pausedMinutesTotal": t.paused_minutes_total or 0,
    }
    if not access.can_see_internal_notes(viewer):
        out.pop("internalNotes")
    if with_completion:
        c = t.completion
        out["completion"] = completion(c) if c else None
    return out


def event(e: TicketEvent) -> dict:
    actor = None
    if e.actor is not None:
        actor = {"id": e.actor.id, "name": e.actor.name, "role": e.actor.role.value}
    return {"id": e.id, "at": iso_utc(e.at), "kind": e.kind, "actor": actor, "data": e.data or {}}


def equipment_ref(e) -> dict | None:
    """A unit as a ticket names it."""
    if e is None:
        return None
    return {"id": e.id, "assetTag": e.asset_tag, "name": e.name, "kind": e.kind.value}


def equipment(e, summary: dict | None = None) -> dict:
    from app.services.equipment import report_url

    out = {
        "id": e.id, "branchId": e.branch_id, "assetTag": e.asset_tag, "kind": e.kind.value, "name": e.name,
        "manufacturer": e.manufacturer, "model": e.model, "serialNumber": e.serial_number,
        "installedOn": e.installed_on.isoformat() if e.installed_on else None,
        "refrigerant": e.refrigerant,
        "chargeKg": None if e.charge_kg is None else f"{e.charge_kg:.3f}",
        "gwp": e.gwp, "co2eTonnes": money(e.co2e_tonnes),
        "leakDetection": bool(e.leak_detection), "replacementCost": money(e.replacement_cost),
        "sensorId": e.sensor_id, "setpointC": number(e.setpoint_c), "isActive": bool(e.is_active),
        "reportUrl": report_url(e), "qrUrl": url_for("equipment.qr_svg", unit_id=e.id),
    }
    if summary is not None:
        out["summary"] = {
            "ticketsTotal": summary["ticketsTotal"], "openTickets": summary["openTickets"],
            "lastServiceAt": iso_utc(summary["lastServiceAt"]),
            "costLast12Months": money(summary["costLast12Months"]),
            "faultsLast90Days": summary["faultsLast90Days"],
        }
    return out


def equipment_event(e) -> dict:
    actor = None
    if e.actor is not None:
        actor = {"id": e.actor.id, "name": e.actor.name, "role": e.actor.role.value}
    return {"id": e.id, "at": iso_utc(e.at), "kind": e.kind, "actor": actor, "data": e.data or {}}
