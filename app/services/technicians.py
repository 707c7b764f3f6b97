"""Technicians: records, status, labour rate and last known location."""
from __future__ import annotations

from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Role, Technician, TechnicianBranchAssignment, TechnicianStatus
from app import clock
from app.services import access
from app.services.errors import Forbidden, NotFound
from app.services.validation import Fields


MAX_LABOR_RATE = Decimal("100000")


def company_labor_rate() -> Decimal:
    """The company's labour rate per hour (DEFAULT_LABOR_RATE, in CURRENCY)."""
    return Decimal(str(current_app.config.get("DEFAULT_LABOR_RATE") or "0")).quantize(Decimal("0.01"))


def labor_rate_for(technician: Technician | None) -> Decimal:
    """The rate a job of `technician` is charged at: their own when the office set one,
    else the company's. Technicians do not choose it (the web form shows it read-only)."""
    if technician is not None and technician.labor_rate is not None:
        return Decimal(technician.labor_rate).quantize(Decimal("0.01"))
    return company_labor_rate()


def list_technicians() -> list[Technician]:
    return list(db.session.execute(
        select(Technician).options(selectinload(Technician.branch_assignments)).order_by(Technician.name)
    ).scalars())


def get_technician(technician_id: str) -> Technician:
    t = None
    if isinstance(technician_id, str):
        t = db.session.execute(
            select(Technician).where(Technician.id == technician_id).options(
                selectinload(Technician.branch_assignments).selectinload(TechnicianBranchAssignment.branch))
        ).scalar_one_or_none()
    if t is None:
        raise NotFound("Technician not found")
    return t


def get_territory(technician_id: str, assignment_id: str) -> TechnicianBranchAssignment:
    """One of this technician's territories; another technician's is "not found"."""
    a = None
    if isinstance(assignment_id, str) and len(assignment_id) <= 64:
        a = db.session.get(TechnicianBranchAssignment, assignment_id)
    if a is None or a.technician_id != technician_id:
        raise NotFound("Territory not found")
    return a


def list_visible_technicians(user) -> list[Technician]:
    """Staff see every technician; nobody else lists them."""
    access.require_staff(user)
    return list_technicians()


def get_visible_technician(user, technician_id: str) -> Technician:
    """Staff see any technician, a technician their own record (another's is "not
    found"); store managers do not manage technicians at all (Forbidden)."""
    if not access.is_staff(user):
        if user.role != Role.TECHNICIAN:
            raise Forbidden("Only dispatchers and admins manage technicians")
        if user.technician_id != technician_id:
            raise NotFound("Technician not found")
    return get_technician(technician_id)


def create_technician(actor, data: dict) -> Technician:
    access.require_staff(actor)
    f = Fields(data)
    name = f.text("name", required=True, max_len=200)
    phone = f.text("phone", required=True, max_len=50)
    email = f.text("email", max_len=254)
    status = f.choice("status", TechnicianStatus, default=TechnicianStatus.ACTIVE)
    rate = f.decimal("laborRate", max_value=MAX_LABOR_RATE)
    f.check()
    t = Technician(name=name, phone=phone, email=email, status=status, labor_rate=rate)
    db.session.add(t)
    db.session.flush()
    return t


def update_technician(actor, technician: Technician, data: dict) -> Technician:
    """Staff edit anything (an empty `laborRate` returns the technician to the company's
    rate); a technician may only report their own location."""
    own = actor.role == Role.TECHNICIAN and actor.technician_id == technician.id
    f = Fields(data)
    location_keys = {"latitude", "longitude"}
    if not access.is_staff(actor):
        if not own or set(data) - location_keys:
            raise Forbidden("You may only update your own location")
    allowed = location_keys | {"status", "name", "phone", "email", "laborRate"}
    for k in sorted(set(data) - allowed):
        f.error(k, "Unknown field.")
    lat = f.floating("latitude", min_value=-90, max_value=90)
    lon = f.floating("longitude", min_value=-180, max_value=180)
    if ("latitude" in data) != ("longitude" in data):
        f.error("latitude" if "latitude" not in data else "longitude", "Send latitude and longitude together.")
    status = f.choice("status", TechnicianStatus)
    name = f.text("name", max_len=200)
    phone = f.text("phone", max_len=50)
    email = f.text("email", max_len=254)
    rate = f.decimal("laborRate", max_value=MAX_LABOR_RATE)
    f.check()
    if "laborRate" in data:
        technician.labor_rate = rate
    if lat is not None and lon is not None:
        technician.latitude, technician.longitude = lat, lon
        technician.last_location_update = clock.now()
    if status is not None:
        technician.status = status
    if name:
        technician.name = name
    if phone:
        technician.phone = phone
    if "email" in data:
        technician.email = email
    db.session.flush()
    return technician
