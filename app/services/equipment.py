"""Units of equipment: the registry, its history, the report token and the unit's figures.

Rules (API.md, "Equipment" and "Reporting by QR code"; the decisions the contract leaves
open are in docs/equipment.md):

- admins and dispatchers create and edit units; who may read one is
  `access.equipment_scope` (the one rule for lists and detail);
- asset tags are unique, stored in capitals; a sensor id names one unit;
- every change is a line of the unit's history in the same transaction: created,
  updated (each field from -> to), moved (branch to branch), report token replaced;
- the report token is at least 128 random bits; a new one makes the old URL find nothing
  (`equipment_by_report_token`, which the public page uses).

Functions flush; the caller (request, task, CLI) commits once.
"""
from __future__ import annotations

import io
import re
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    ApprovalStatus,
    CustomerBranch,
    Equipment,
    EquipmentEvent,
    EquipmentKind,
    ServiceCompletion,
    ServiceTicket,
    TicketSource,
)
from app.models import refrigerants
from app.services import access, history
from app.services.analytics.sql import cents
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.timefmt import to_local
from app.services.validation import Fields

# 18 random bytes: 144 bits (the contract asks for at least 128), 24 URL-safe characters.
TOKEN_BYTES = 18
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

FAULT_WINDOW_DAYS = 90  # summary.faultsLast90Days
COST_WINDOW_DAYS = 365  # summary.costLast12Months

# camelCase field -> column, in the order the history lists changes.
FIELDS = {
    "branchId": "branch_id", "assetTag": "asset_tag", "kind": "kind", "name": "name",
    "manufacturer": "manufacturer", "model": "model", "serialNumber": "serial_number",
    "installedOn": "installed_on", "refrigerant": "refrigerant", "chargeKg": "charge_kg",
    "leakDetection": "leak_detection", "replacementCost": "replacement_cost", "sensorId": "sensor_id",
    "setpointC": "setpoint_c", "isActive": "is_active",
}
REQUIRED = ("branchId", "assetTag", "kind", "name")
READ_ONLY = ("id", "gwp", "co2eTonnes", "reportUrl", "qrUrl", "summary")


# --- reading ----------------------------------------------------------------------------

def get_unit(unit_id) -> Equipment:
    access.require_id(unit_id, _("Unit not found"))
    unit = db.session.execute(
        select(Equipment).where(Equipment.id == unit_id).options(joinedload(Equipment.branch))
    ).scalar_one_or_none()
    if unit is None:
        raise NotFound(_("Unit not found"))
    return unit


def load_readable_unit(user, unit_id) -> Equipment:
    """The unit if `user` may read it; NotFound otherwise (no id leaks)."""
    return access.require_read_equipment(user, get_unit(unit_id))


def parse_filters(args) -> dict:
    f = Fields(dict(args))
    out = {
        "branch_id": f.text("branchId", max_len=64),
        "kind": f.choice("kind", EquipmentKind),
        "q": f.text("q", max_len=200),
        "is_active": f.boolean("isActive"),
    }
    f.check(_("Invalid filter"))
    return out


def _like(column, q: str):
    """`column` contains `q`, in any case, the same on both databases (SQLite's own LIKE
    folds ASCII only: non-ASCII text goes through evercold_fold, app/sqlite.py)."""
    from app.services.ticket_queries import _like_pattern

    pattern = _like_pattern(q)
    if db.session.get_bind().dialect.name == "sqlite" and not q.isascii():
        return func.evercold_fold(column).like(literal(pattern.lower()), escape="\\")
    return column.ilike(literal(pattern), escape="\\")


def unit_page(user, filters: dict, limit: int, cursor: dict | None):
    """The units `user` may read, in asset-tag order, keyset-paginated on the tag."""
    stmt = access.equipment_scope(user, select(Equipment).options(joinedload(Equipment.branch)))
    if filters.get("branch_id"):
        stmt = stmt.where(Equipment.branch_id == filters["branch_id"])
    if filters.get("kind"):
        stmt = stmt.where(Equipment.kind == filters["kind"])
    if filters.get("is_active") is not None:
        stmt = stmt.where(Equipment.is_active == filters["is_active"])
    if filters.get("q"):
        q = filters["q"]
        stmt = stmt.where(or_(*(_like(c, q) for c in (Equipment.asset_tag, Equipment.name, Equipment.serial_number,
                                                      Equipment.manufacturer, Equipment.model))))
    if cursor:
        after = cursor.get("tag")
        if not isinstance(after, str):
            raise ValidationError(_("Invalid cursor"), {"cursor": _("Invalid cursor.")})
        stmt = stmt.where(Equipment.asset_tag > after)
    rows = list(db.session.execute(stmt.order_by(Equipment.asset_tag).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ({"tag": rows[-1].asset_tag} if more and rows else None)


def history_page(unit: Equipment, limit: int, cursor: dict | None):
    """The unit's history, oldest first, offset-paginated like a ticket's timeline."""
    offset = 0
    if cursor:
        offset = cursor.get("offset", 0)
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 2**31:
            raise ValidationError(_("Invalid cursor"), {"cursor": _("Invalid cursor.")})
    rows = list(db.session.execute(
        select(EquipmentEvent).where(EquipmentEvent.equipment_id == unit.id)
        .options(joinedload(EquipmentEvent.actor))
        .order_by(EquipmentEvent.at, EquipmentEvent.id).offset(offset).limit(limit + 1)).scalars())
    more = len(rows) > limit
    return rows[:limit], ({"offset": offset + limit} if more else None)


def summary(unit: Equipment, now: datetime | None = None) -> dict:
    """The unit's figures in one aggregate query, whatever the length of its history:
    tickets on it, the open ones, when approved work was last done on it, what approved
    work cost in the last 365 days (by the decision's date, as the cost report counts),
    and its faults in the last 90 days (tickets created then, planned maintenance not
    counted)."""
    now = now or clock.now()
    T, C = ServiceTicket, ServiceCompletion
    cost_since, faults_since = now - timedelta(days=COST_WINDOW_DAYS), now - timedelta(days=FAULT_WINDOW_DAYS)
    # A ticket has at most one approved completion (approving closes it).
    approved = and_(C.ticket_id == T.id, C.approval_status == ApprovalStatus.APPROVED)
    row = db.session.execute(
        select(
            func.count(T.id).label("total"),
            func.count(case((T.status.in_(OPEN_STATUSES), 1))).label("open"),
            func.max(C.completed_at).label("last_service"),
            func.sum(case((C.decided_at >= cost_since, cents(C.total_cost)), else_=0)).label("cost_cents"),
            func.count(case((and_(T.created_at >= faults_since, T.source != TicketSource.PLAN), 1))).label("faults"),
        ).select_from(T).outerjoin(C, approved).where(T.equipment_id == unit.id)
    ).one()
    last = row.last_service
    if isinstance(last, str):  # SQLite, through an aggregate: the stored text
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        from datetime import timezone

        last = last.replace(tzinfo=timezone.utc)
    return {
        "ticketsTotal": int(row.total or 0),
        "openTickets": int(row.open or 0),
        "lastServiceAt": last,
        "costLast12Months": (Decimal(int(row.cost_cents or 0)) / 100).quantize(Decimal("0.01")),
        "faultsLast90Days": int(row.faults or 0),
    }


def report_url(unit: Equipment) -> str:
    return f"{current_app.config['APP_BASE_URL']}/r/{unit.report_token}"


def qr_svg(unit: Equipment) -> bytes:
    """The unit's report URL as an SVG QR code (segno: error correction M, which survives
    a scuffed label; a quiet zone of 4 modules, as the standard asks)."""
    import segno

    out = io.BytesIO()
    segno.make_qr(report_url(unit), error="m").save(
        out, kind="svg", scale=4, border=4, xmldecl=False, title=unit.asset_tag)
    return out.getvalue()


def equipment_by_report_token(token) -> Equipment | None:
    """The active unit (of an active branch) whose current report token is `token`, else
    None: the public report page answers 404 for an unknown, replaced or malformed token,
    a retired unit, or a closed branch."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        return None
    unit = db.session.execute(
        select(Equipment).join(Equipment.branch)
        .where(Equipment.report_token == token, Equipment.is_active.is_(True), CustomerBranch.is_active.is_(True))
        .options(joinedload(Equipment.branch))
    ).scalar_one_or_none()
    return unit


# --- writing ----------------------------------------------------------------------------

def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def record_history(unit: Equipment, kind: str, actor=None, **data: Any) -> EquipmentEvent:
    """One line of the unit's history, in order even when the clock stands still (each at
    least 1 µs after the unit's previous line: history.next_at, as the ticket timeline)."""
    at = history.next_at(EquipmentEvent.at, EquipmentEvent.equipment_id, unit.id)
    event = EquipmentEvent(equipment_id=unit.id, at=at, kind=kind, actor_id=getattr(actor, "id", None), data=data)
    db.session.add(event)
    return event


def _asset_tag(value: str) -> str:
    """As printed: spaces around dropped, runs of spaces one, capitals."""
    return " ".join(value.split()).upper()


def _parse_date(f: Fields, name: str):
    value = f.data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE_SHAPE.fullmatch(value.strip()):
        f.error(name, _("Use a date like 2024-03-31."))
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        f.error(name, _("Use a date like 2024-03-31."))
        return None
    if day > to_local(clock.now()).date():
        f.error(name, _("The date cannot be in the future."))
        return None
    if day.year < 1950:
        f.error(name, _("Use a date like 2024-03-31."))
        return None
    return day


def _parse(data: dict, *, creating: bool) -> dict:
    """The fields present in `data`, typed and checked (all errors at once)."""
    if not isinstance(data, dict):
        raise ValidationError(_("The body must be a JSON object"))
    f = Fields(data)
    errors: dict[str, str] = {}
    for key in data:
        if key in READ_ONLY:
            errors[key] = _("This field is read-only.")
        elif key not in FIELDS:
            errors[key] = _("Unknown field.")
    out: dict[str, Any] = {}
    present = [k for k in FIELDS if k in data or (creating and k in REQUIRED)]
    for key in present:
        if key in REQUIRED and (data.get(key) is None or data.get(key) == ""):
            f.error(key, _("This field is required."))
            continue
        if key in ("branchId", "name", "assetTag", "manufacturer", "model", "serialNumber", "sensorId"):
            limit = {"branchId": 64, "name": 200, "assetTag": 40}.get(key, 100)
            value = f.text(key, max_len=limit)
            out[key] = _asset_tag(value) if key == "assetTag" and value else value
        elif key == "kind":
            out[key] = f.choice(key, EquipmentKind, required=True)
        elif key == "installedOn":
            out[key] = _parse_date(f, key)
        elif key == "refrigerant":
            raw = data.get(key)
            if raw is None or raw == "":
                out[key] = None
            else:
                name = refrigerants.canonical(raw)
                if name is None:
                    f.error(key, _("Unknown refrigerant. Use one of: %(names)s.", names=", ".join(refrigerants.NAMES)))
                out[key] = name
        elif key == "chargeKg":
            out[key] = f.decimal(key, min_value=Decimal("0"), max_value=Decimal("100000"), places=3, allow_zero=False)
        elif key == "replacementCost":
            out[key] = f.decimal(key, min_value=Decimal("0"), max_value=Decimal("100000000"), places=2)
        elif key == "setpointC":
            out[key] = f.decimal(key, min_value=Decimal("-60"), max_value=Decimal("60"), places=1)
        elif key in ("leakDetection", "isActive"):
            if data.get(key) is None:
                f.error(key, _("Must be true or false."))
            else:
                out[key] = f.boolean(key)
    for key, message in errors.items():
        f.error(key, message)
    f.check()
    return out


def _branch(branch_id: str) -> CustomerBranch:
    branch = db.session.get(CustomerBranch, branch_id)
    if branch is None:
        raise ValidationError(_("Unknown branch"), {"branchId": _("Unknown branch.")})
    if not branch.is_active:
        raise ValidationError(_("This branch is inactive"), {"branchId": _("This branch is inactive.")})
    return branch


def _check_unique(values: dict, unit_id: str | None = None) -> None:
    """409 for an asset tag or sensor id another unit has (the unique indexes decide in
    the end: `_flush` turns a race into the same 409)."""
    checks = (("assetTag", Equipment.asset_tag, _("Another unit has this asset tag."), _("This asset tag is taken")),
              ("sensorId", Equipment.sensor_id, _("Another unit has this sensor."), _("This sensor is taken")))
    for key, column, field_message, message in checks:
        value = values.get(key)
        if not value:
            continue
        stmt = select(Equipment.id).where(column == value)
        if unit_id:
            stmt = stmt.where(Equipment.id != unit_id)
        if db.session.execute(stmt).first() is not None:
            raise Conflict(message, {key: field_message})


def _flush() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Another unit has this asset tag or sensor"),
                       {"assetTag": _("Another unit has this asset tag.")})


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, EquipmentKind):
        return value.value
    return value


def create_unit(actor, data: dict) -> Equipment:
    access.require_manage_equipment(actor)
    values = _parse(data, creating=True)
    branch = _branch(values["branchId"])
    _check_unique(values)
    unit = Equipment(report_token=new_token(), branch_id=branch.id, branch=branch)
    for key, value in values.items():
        if key != "branchId":
            setattr(unit, FIELDS[key], value)
    if unit.leak_detection is None:
        unit.leak_detection = False
    if unit.is_active is None:
        unit.is_active = True
    db.session.add(unit)
    _flush()
    record_history(unit, "created", actor, assetTag=unit.asset_tag, name=unit.name, branchId=branch.id,
                   branchName=branch.branch_name)
    db.session.flush()
    return unit


def update_unit(unit: Equipment, actor, data: dict) -> Equipment:
    """PATCH: the fields given; a new branch is a move (its own line in the history),
    the other changes one "updated" line naming each field's old and new value."""
    access.require_manage_equipment(actor)
    values = _parse(data, creating=False)
    if not values:
        raise ValidationError(_("Nothing to change"))
    _check_unique(values, unit.id)
    if "branchId" in values and values["branchId"] != unit.branch_id:
        old, new = unit.branch, _branch(values["branchId"])
        unit.branch_id, unit.branch = new.id, new
        record_history(unit, "moved", actor, fromBranchId=old.id, fromBranchName=old.branch_name,
                       toBranchId=new.id, toBranchName=new.branch_name)
    changes = {}
    for key, value in values.items():
        if key == "branchId":
            continue
        column = FIELDS[key]
        before = getattr(unit, column)
        if before != value:
            changes[key] = {"from": _json_value(before), "to": _json_value(value)}
            setattr(unit, column, value)
    if changes:
        record_history(unit, "updated", actor, changes=changes)
    _flush()
    return unit


def replace_report_token(unit: Equipment, actor) -> Equipment:
    """A new secret for the unit's report URL; the old URL finds nothing from now on.
    The history says when and who, never the token."""
    access.require_manage_equipment(actor)
    unit.report_token = new_token()
    record_history(unit, "report_token_changed", actor)
    db.session.flush()
    return unit


# --- tickets and units --------------------------------------------------------------------

def unit_for_ticket(branch_id: str, equipment_id) -> Equipment:
    """The unit a ticket of `branch_id` may name: an active unit of that branch (400 otherwise)."""
    unit = None
    if isinstance(equipment_id, str) and len(equipment_id) <= access.ID_MAX:
        unit = db.session.get(Equipment, equipment_id)
    if unit is None or unit.branch_id != branch_id:
        raise ValidationError(_("Unknown unit for this branch"),
                              {"equipmentId": _("Choose a unit of the ticket's branch.")})
    if not unit.is_active:
        raise ValidationError(_("This unit is out of service"),
                              {"equipmentId": _("This unit is out of service.")})
    return unit
