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

from app.models import CustomerBranch, WorkingCalendar


def list_calendars(actor) -> list[WorkingCalendar]:
    raise NotImplementedError


def get_calendar(calendar_id: str) -> WorkingCalendar:
    raise NotImplementedError


def create_calendar(data: dict, actor) -> WorkingCalendar:
    raise NotImplementedError


def update_calendar(calendar_id: str, data: dict, actor, version: int | None = None) -> WorkingCalendar:
    raise NotImplementedError


def set_branch_calendar(branch: CustomerBranch, calendar_id: str | None, actor) -> CustomerBranch:
    raise NotImplementedError
