"""Reporting a fault by the QR code on a unit (API.md, "Reporting by QR code").

Whoever scans the label (no account) says what is wrong, whether it is urgent, and how
to reach them. The report:

- opens a ticket for the unit's branch and the unit, source QR, the reporter as its
  contact, through `tickets.create_ticket` (auto-assignment, due times, notifications:
  the same rules as every other ticket, no copy of them here);
- or, while the unit has an open ticket (NEW, ASSIGNED, IN_PROGRESS: what the unit's
  `summary.openTickets` counts), is added to that ticket's timeline as a `qr_report`
  event instead of opening a second one; an urgent one raises that ticket to HIGH when
  it was lower (tickets.raise_priority_for_urgent_report: due times recomputed, the
  timeline says why). The unit's row is locked first (PostgreSQL), so
  two people scanning at once make one ticket and one timeline line.

The page shows the unit's asset tag, name and branch name and, while it has one, the
open ticket's number and status; nothing else (docs/equipment.md).
Functions flush; the request commits once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    Equipment,
    IssueCategory,
    IssueSubcategory,
    ServiceTicket,
    TicketPriority,
    TicketSource,
)
from app.services import reference, tickets
from app.services.errors import ValidationError

DEFAULT_SUBCATEGORY = "Equipment Not Working"
DESCRIPTION_MAX = 2000
NAME_MAX = 200
PHONE_MAX = 50
# A phone number as people type it: digits with +, spaces, dashes, dots and brackets;
# at least 5 digits (a short internal number), at most 20.
_PHONE_SHAPE = re.compile(r"\+?[0-9()\-. ]+")


@dataclass
class Outcome:
    ticket: ServiceTicket
    created: bool  # False: added to the unit's open ticket


def subcategory_choices() -> list[tuple[str, str]]:
    """(id, name in the reader's language) of the seeded subcategories ("what is wrong"),
    "Equipment Not Working" first (the default), then by name."""
    from app.cli import SEED_CATEGORY, SEED_SUBCATEGORIES

    names = [name for name, _d, _t in SEED_SUBCATEGORIES]
    rows = db.session.execute(
        select(IssueSubcategory).join(IssueCategory, IssueCategory.id == IssueSubcategory.category_id)
        .where(IssueCategory.name == SEED_CATEGORY[0], IssueSubcategory.name.in_(names))
    ).scalars().all()
    rows.sort(key=lambda s: (s.name != DEFAULT_SUBCATEGORY, reference.local_name(s)))
    return [(s.id, reference.local_name(s)) for s in rows]


def open_ticket(unit: Equipment) -> ServiceTicket | None:
    """The unit's open ticket (the latest, should there be several)."""
    return db.session.execute(
        select(ServiceTicket).where(ServiceTicket.equipment_id == unit.id, ServiceTicket.status.in_(OPEN_STATUSES))
        .order_by(ServiceTicket.created_at.desc()).limit(1)
    ).scalar_one_or_none()


def _text(data: dict, name: str, max_len: int, errors: dict, required_message: str) -> str | None:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors[name] = required_message
        return None
    value = value.strip()
    if "\x00" in value:
        errors[name] = _("Contains a character that is not allowed.")
        return None
    if len(value) > max_len:
        errors[name] = _("At most %(num)d characters.", num=max_len)
        return None
    return value


def parse(data: dict, choices: list[tuple[str, str]]) -> dict:
    """The form's values, checked (every error at once, in the reader's language)."""
    errors: dict[str, str] = {}
    description = _text(data, "description", DESCRIPTION_MAX, errors, _("Say what is wrong."))
    name = _text(data, "name", NAME_MAX, errors, _("Enter your name."))
    phone = _text(data, "phone", PHONE_MAX, errors, _("Enter your phone number."))
    if phone and (not _PHONE_SHAPE.fullmatch(phone) or not 5 <= sum(c.isdigit() for c in phone) <= 20):
        errors["phone"] = _("Enter a phone number, for example +998 90 123 45 67.")
    sub = data.get("subcategoryId") or None
    ids = [i for i, _n in choices]
    if sub is not None and sub not in ids:
        errors["subcategoryId"] = _("Choose one of the listed problems.")
    if sub is None:
        defaults = [i for i, _n in choices]
        sub = defaults[0] if defaults else None
    if sub is None and not errors:
        raise ValidationError(_("Reporting is not set up yet. Please call the store."))
    urgent = data.get("urgent") in ("1", "on", "true", "yes", True)
    if errors:
        raise ValidationError(_("Please correct the fields marked below."), errors)
    return {"description": description, "name": name, "phone": phone, "subcategory_id": sub, "urgent": urgent}


def _lock(unit: Equipment) -> None:
    """Serialise reports on one unit (PostgreSQL; SQLite writes one at a time anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Equipment.id).where(Equipment.id == unit.id).with_for_update())


def report(unit: Equipment, data: dict) -> Outcome:
    """File the report: a new QR ticket, or a line on the unit's open ticket."""
    values = parse(data, subcategory_choices())
    _lock(unit)
    existing = open_ticket(unit)
    if existing is not None:
        sub = db.session.get(IssueSubcategory, values["subcategory_id"])
        tickets.record_event(existing, "qr_report", None, reporterName=values["name"], reporterPhone=values["phone"],
                             description=values["description"], urgent=values["urgent"],
                             subcategoryName=sub.name if sub else None)
        if values["urgent"]:
            tickets.raise_priority_for_urgent_report(existing)  # HIGH at least, never lower
        db.session.flush()
        return Outcome(existing, created=False)
    sub = db.session.get(IssueSubcategory, values["subcategory_id"])
    ticket = tickets.create_ticket(None, {
        "branchId": unit.branch_id, "categoryId": sub.category_id, "subcategoryId": sub.id,
        "description": values["description"],
        "priority": (TicketPriority.HIGH if values["urgent"] else TicketPriority.NORMAL).value,
        "contactName": values["name"], "contactPhone": values["phone"], "equipmentId": unit.id,
    }, source=TicketSource.QR, contact_role=None)
    return Outcome(ticket, created=True)
