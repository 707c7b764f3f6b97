"""Managing working calendars (API.md, "Working calendars"): list, create, edit, and
point a branch at one. The API (`/api/calendars`, `PATCH /api/customer-branches/{id}`)
and the calendar pages both call these; what working time *is* lives in
services/calendars.py.

    list_calendars(actor) -> [WorkingCalendar] by name (everyone signed in)
    get_calendar(calendar_id) -> WorkingCalendar (NotFound)
    create_calendar(data, actor) -> WorkingCalendar
    update_calendar(calendar_id, data, actor, version=None) -> WorkingCalendar
    set_branch_calendar(branch, calendar_id, actor) -> CustomerBranch

`data` uses the API's names: {name, timezone, week, holidays, country}. Admins and
dispatchers only (Forbidden otherwise); a bad week, timezone, country or holiday date is
a ValidationError with a field message and writes nothing; a name another calendar has
is a Conflict, and so is a stale `version` (the pages' optimistic lock). Changing a
calendar never touches the due times of existing tickets: they keep what was promised.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.i18n import gettext as _
from app.models import CustomerBranch, WorkingCalendar
from app.services import access, calendars
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.validation import Fields

MAX_NAME = 120


def list_calendars(actor) -> list[WorkingCalendar]:
    """Every calendar by name (anyone signed in may read them: branches show theirs)."""
    return list(db.session.execute(select(WorkingCalendar).order_by(WorkingCalendar.name)).scalars())


def get_calendar(calendar_id) -> WorkingCalendar:
    cal = db.session.get(WorkingCalendar, calendar_id) if isinstance(calendar_id, str) else None
    if cal is None:
        raise NotFound(_("Calendar not found"))
    return cal


def _clean(data: dict, current: WorkingCalendar | None) -> dict:
    """The fields `data` gives (all of them to create one), validated; nothing is written.
    Every message names its field; the first bad field raises."""
    f = Fields(data)
    out: dict = {}
    if current is None or "name" in data:
        out["name"] = f.text("name", required=True, max_len=MAX_NAME)
    f.check()
    if current is None or "timezone" in data:
        out["timezone"] = calendars.validate_timezone(data.get("timezone"))
    if current is None or "week" in data:
        out["week"] = calendars.validate_week(data.get("week"))
        calendars.require_working_time(out["week"])
    if "holidays" in data or current is None:
        out["holidays"] = calendars.validate_holidays(data.get("holidays"))
    if "country" in data or current is None:
        out["country"] = calendars.validate_country(data.get("country"))
    if "name" in out:
        clash = select(WorkingCalendar.id).where(func.lower(WorkingCalendar.name) == out["name"].lower())
        if current is not None:
            clash = clash.where(WorkingCalendar.id != current.id)
        if db.session.execute(clash).first():
            raise Conflict(_("A calendar with this name exists"), {"name": _("Already exists.")})
    return out


def create_calendar(data: dict, actor) -> WorkingCalendar:
    """A new calendar from {name, timezone, week, holidays?, country?} (admins and dispatchers)."""
    access.require_staff(actor)
    values = _clean(data, None)
    cal = WorkingCalendar(**values)
    db.session.add(cal)
    db.session.flush()
    return cal


def update_calendar(calendar_id: str, data: dict, actor, version: int | None = None) -> WorkingCalendar:
    """Change the fields `data` gives. `version` (the one the editor read) makes a stale
    edit a Conflict. Existing tickets keep their due times; new ones count in the new week."""
    access.require_staff(actor)
    cal = get_calendar(calendar_id)
    if version is not None and str(version).strip() != str(cal.version):  # a form sends it as text
        raise Conflict(_("Someone else changed this calendar. Reload it and try again."))
    values = _clean(data, cal)
    for key, value in values.items():
        setattr(cal, key, value)
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(_("Someone else changed this calendar. Reload it and try again."))
    return cal


def calendar_for_branch(calendar_id) -> WorkingCalendar | None:
    """The calendar a branch form or body names (None/"" for around the clock); an unknown
    one is a ValidationError on "calendarId"."""
    if calendar_id is None or calendar_id == "":
        return None
    cal = db.session.get(WorkingCalendar, calendar_id) if isinstance(calendar_id, str) else None
    if cal is None:
        raise ValidationError(_("Unknown calendar"), {"calendarId": _("Choose one of the calendars.")})
    return cal


def set_branch_calendar(branch: CustomerBranch, calendar_id: str | None, actor) -> CustomerBranch:
    """Point a branch at a calendar (None: around the clock). Its open tickets keep their
    due times; tickets created from now on count in the calendar."""
    access.require_staff(actor)
    cal = calendar_for_branch(calendar_id)
    branch.calendar_id = cal.id if cal else None
    branch.calendar = cal
    db.session.flush()
    return branch
