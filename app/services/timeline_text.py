"""The words of a ticket's timeline: one plain sentence per event kind (the ticket
page, its timeline partial). Times with their zone, distances in m or km, enum values
in their words; a kind not listed here still reads as a sentence, never a raw name."""
from __future__ import annotations

from datetime import datetime

from app.models.enums import label
from app.services import timefmt


def distance_text(meters: float | None) -> str:
    """The one distance format: "480 m" under 1 km, "7.5 km" above."""
    if meters is None:
        return ""
    if meters < 1000:
        return f"{meters:.0f} m"
    return f"{meters / 1000:.1f} km"


def _when(value) -> str | None:
    if isinstance(value, datetime):
        return timefmt.zoned(value)
    if isinstance(value, str) and value:
        try:
            return timefmt.zoned(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _arrived(d: dict) -> str:
    meters = d.get("distanceMeters")
    if meters is None:
        return "Arrived on site (location not available)."
    if d.get("farFromBranch"):
        return f"Arrived on site, {distance_text(meters)} from the branch (further than expected)."
    return f"Arrived on site, {distance_text(meters)} from the branch."


def _photo(d: dict, done: str) -> str:
    kind = d.get("type")
    if kind:
        return f"A photo ({label(kind).lower()}) was {done}."
    return f"A photo was {done}."


def _created(d: dict) -> str:
    return f"Ticket created with priority {label(d['priority'])}." if d.get("priority") else "Ticket created."


def _assigned(d: dict) -> str:
    name = d.get("technicianName") or "a technician"
    return f"Assigned to {name} (automatically)." if d.get("automatic") else f"Assigned to {name}."


def _note(d: dict, what: str, cleared: str) -> str:
    return f"{what}: {d['text']}" if d.get("text") else cleared


def _closed(d: dict) -> str:
    return f"Closed without completion: {d['reason']}" if d.get("reason") else "Closed without completion."


def _completed(d: dict) -> str:
    return f"Work completed, total {timefmt.money(d['totalCost'])}." if d.get("totalCost") else "Work completed."


def _approved(d: dict) -> str:
    return f"Approved, signed by {d['signedBy']}." if d.get("signedBy") else "Approved."


def _escalated(d: dict) -> str:
    name = d.get("technicianName")
    return f"Escalated to {name}, the backup technician." if name else "Escalated to the backup technician."


def _no_secondary(d: dict) -> str:
    return ("Response deadline at risk, and there is no backup technician to escalate to: "
            "the dispatcher was told.")


def _level2(d: dict) -> str:
    return "Still no response: escalated to the dispatchers."


def _response_warning(d: dict) -> str:
    due = _when(d.get("responseDueAt"))
    return f"Response deadline is close (due {due})." if due else "Response deadline is close."


def _response_overdue(d: dict) -> str:
    due = _when(d.get("responseDueAt"))
    return f"Response deadline missed (was due {due})." if due else "Response deadline missed."


def _resolution_overdue(d: dict) -> str:
    due = _when(d.get("resolutionDueAt"))
    return f"Fix deadline missed (was due {due})." if due else "Fix deadline missed."


def _equipment_changed(d: dict) -> str:
    from flask_babel import gettext as _

    unit = " · ".join(x for x in (d.get("assetTag"), d.get("equipmentName")) if x)
    before = " · ".join(x for x in (d.get("previousAssetTag"), d.get("previousEquipmentName")) if x)
    if unit and before:
        return _("Unit changed from %(before)s to %(unit)s.", before=before, unit=unit)
    if unit:
        return _("Unit set to %(unit)s.", unit=unit)
    if before:
        return _("Unit %(before)s removed from the ticket.", before=before)
    return _("Unit removed from the ticket.")


def _qr_report(d: dict) -> str:
    """Another report by the unit's QR code, added to its open ticket (services/qr_reports.py)."""
    from flask_babel import gettext as _

    name, phone, text = d.get("reporterName") or "", d.get("reporterPhone") or "", d.get("description") or ""
    if d.get("urgent"):
        return _("Reported again by QR code, marked urgent, by %(name)s (%(phone)s): “%(text)s”",
                 name=name, phone=phone, text=text)
    return _("Reported again by QR code by %(name)s (%(phone)s): “%(text)s”", name=name, phone=phone, text=text)


TEXTS = {
    "created": _created,
    "assigned": _assigned,
    "reassigned": lambda d: f"Reassigned to {d.get('technicianName') or 'another technician'}.",
    "accepted": lambda d: "Accepted by the technician.",
    "declined": lambda d: f"Declined by the technician: “{d.get('reason', '')}”",
    "arrived": _arrived,
    "photo_added": lambda d: _photo(d, "added"),
    "photo_removed": lambda d: _photo(d, "removed"),
    "priority_changed": lambda d: f"Priority changed from {label(d.get('from'))} to {label(d.get('to'))}.",
    "internal_note": lambda d: _note(d, "Internal note", "Internal notes cleared."),
    "store_note": lambda d: _note(d, "Store note", "Store note cleared."),
    "closed": _closed,
    "completed": _completed,
    "approved": _approved,
    "rejected": lambda d: f"Sent back by the store: “{d.get('reason', '')}”",
    "not_assigned": lambda d: f"Not assigned: {d.get('reason') or 'no active technician covers this branch'}.",
    "escalated": _escalated,
    "escalation_no_secondary": _no_secondary,
    "escalation_level2": _level2,
    "sla_response_warning": _response_warning,
    "sla_response_overdue": _response_overdue,
    "sla_resolution_overdue": _resolution_overdue,
    "equipment_changed": _equipment_changed,
    "qr_report": _qr_report,
}


def event_text(kind: str, data: dict | None, resolution_due_at: datetime | None = None) -> str:
    """The sentence for one event. `resolution_due_at` (the ticket's) dates a missed fix
    deadline when the event itself did not record it."""
    d = dict(data or {})
    if kind == "sla_resolution_overdue" and not d.get("resolutionDueAt") and resolution_due_at is not None:
        d["resolutionDueAt"] = resolution_due_at
    text = TEXTS.get(kind)
    if text is not None:
        return text(d)
    return "Something changed on this ticket."
