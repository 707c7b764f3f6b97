"""The dispatcher's working calendars: the list, the create/edit page (a week grid, the
holidays, the country and the timezone), and which branches count their SLA minutes in
a calendar. Saving goes to services/calendar_admin.py (the API's service); the words on
the pages come from services/calendar_pages.py.

The edit form works without JavaScript: every day has three interval slots and a
"closed" toggle, and the quick buttons (copy Monday, add or remove a holiday) are
submit buttons that redraw the form as changed without saving it. calendar.js does
the same in the page and hides the empty slots behind "Add interval".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth_helpers import staff_required
from app.blueprints.dispatcher import bp
from app.blueprints.dispatcher import forms as F
from app.extensions import db
from app.i18n import gettext as _
from app.models import SLA_DEFAULTS, WEEKDAYS, TicketPriority
from app.services import calendar_admin, calendar_pages, calendars as working_time
from app.services.errors import Conflict, DomainError
from app.web import FormErrors, form_errors

SLOTS = 3  # interval slots a day has on the page (the model allows any number)
WORKDAYS = WEEKDAYS[:5]


@dataclass
class DayDraft:
    closed: bool = True
    slots: list[list[str]] = field(default_factory=lambda: [["", ""] for _ in range(SLOTS)])

    def intervals(self) -> list[list[str]]:
        return [] if self.closed else [[s, e] for s, e in self.slots if s or e]


@dataclass
class Draft:
    """The calendar as the form shows it (what was typed, even when it is wrong)."""

    name: str = ""
    timezone: str = "Asia/Tashkent"
    country: str = "UZ"
    version: str = ""
    days: dict[str, DayDraft] = field(default_factory=lambda: {d: DayDraft() for d in WEEKDAYS})
    holidays: list[str] = field(default_factory=list)

    @classmethod
    def default(cls) -> "Draft":
        """A new calendar starts as the company week: Mon-Sat 08:00-20:00."""
        draft = cls()
        for day in WEEKDAYS[:6]:
            draft.days[day] = DayDraft(False, [["08:00", "20:00"]] + [["", ""] for _ in range(SLOTS - 1)])
        return draft

    @classmethod
    def of(cls, cal) -> "Draft":
        draft = cls(name=cal.name, timezone=cal.timezone, country=cal.country or "", version=str(cal.version),
                    holidays=sorted(cal.holidays or []))
        for day in WEEKDAYS:
            intervals = [list(i) for i in (cal.week or {}).get(day) or []]
            slots = intervals + [["", ""] for _ in range(max(0, SLOTS - len(intervals)))]
            draft.days[day] = DayDraft(not intervals, slots)
        return draft

    @classmethod
    def from_form(cls, form) -> "Draft":
        zone = form.get("timezone") or (form.get("timezoneOther") or "").strip()
        draft = cls(name=(form.get("name") or "").strip(), timezone=zone,
                    country=form.get("country") or "", version=form.get("version") or "",
                    holidays=sorted({d for d in form.getlist("holidays") if d}))
        for day in WEEKDAYS:
            slots = [[_hhmm(form.get(f"{day}-{i}-start")), _hhmm(form.get(f"{day}-{i}-end"), end=True)]
                     for i in range(SLOTS)]
            closed = form.get(f"{day}-closed") == "y" or not any(s or e for s, e in slots)
            draft.days[day] = DayDraft(closed, slots)
        return draft

    def copy_monday(self, to) -> None:
        monday = self.days["mon"]
        for day in to:
            self.days[day] = DayDraft(monday.closed, [list(s) for s in monday.slots])

    def data(self) -> dict:
        """The API's calendar JSON for services/calendar_admin.py."""
        return {"name": self.name, "timezone": self.timezone, "country": self.country or None,
                "week": {d: self.days[d].intervals() for d in WEEKDAYS}, "holidays": list(self.holidays)}

    def own_errors(self) -> FormErrors:
        """What the form itself can tell: a name, both ends of each interval."""
        errors = FormErrors()
        if not self.name:
            errors["name"] = str(F.REQUIRED)
        for day in WEEKDAYS:
            d = self.days[day]
            if not d.closed and any(bool(s) != bool(e) for s, e in d.slots):
                errors[f"week-{day}"] = _("Give each interval a start and an end time.")
        return _first(errors)


def _hhmm(value, end: bool = False) -> str:
    """A time input's value as the week stores it: "8:00" and "08:00:00" are "08:00";
    an interval that ends at 00:00 ends at midnight, "24:00" (a time input cannot say
    24:00). Anything else stays as typed, for services/calendars.py to name."""
    text = (value or "").strip()
    parts = text.split(":")
    if 2 <= len(parts) <= 3 and all(p.isdigit() for p in parts) and len(parts[0]) <= 2 and len(parts[1]) == 2:
        text = f"{int(parts[0]):02d}:{parts[1]}"
    return "24:00" if end and text == "00:00" else text


def _first(errors: FormErrors) -> FormErrors:
    order = ["name", "timezone", "week", *(f"week-{d}" for d in WEEKDAYS), "holidays", "country"]
    errors.first = next((n for n in order if n in errors), None)
    if errors and "_form" not in errors:
        errors["_form"] = _("Nothing was saved. Please correct the fields marked below.")
    return errors


def _service_errors(exc: DomainError) -> FormErrors:
    """A service's refusal next to the field it is about: a week error names its day."""
    errors = FormErrors()
    for name, message in exc.fields.items():
        if name == "week":  # a day's message names the day; else it is about the whole week
            errors[f"week-{message}" if message in WEEKDAYS else "week"] = exc.message
        elif name in ("name", "timezone", "country", "holidays"):
            errors[name] = exc.message
        else:
            errors.setdefault("_form", exc.message)
    if isinstance(exc, Conflict) and not exc.fields:
        errors["_form"] = _("Someone else saved this calendar while you were editing it, so nothing was saved. "
                            "Open it again to see their changes, then make yours.")
    if not any(name != "_form" for name in errors):  # not about a field: say it above the form
        errors.setdefault("_form", _("Nothing was saved: %(reason)s", reason=exc.message))
    return _first(errors)


# --- pages -------------------------------------------------------------------------------

@bp.get("/dispatcher/calendars")
@staff_required
def calendars():
    """Every working calendar: its week in words, holidays, country, branches."""
    return render_template("dispatcher/calendars.html", rows=calendar_pages.calendar_rows())


def _edit_page(draft: Draft, cal=None, errors=None, status=200, notice=None):
    errors = errors if errors is not None else FormErrors()
    form = F.ConfirmForm(formdata=None)
    return render_template(
        "dispatcher/calendar_form.html", draft=draft, calendar=cal, errors=errors, form=form, notice=notice,
        weekdays=WEEKDAYS, slots=SLOTS, day_names=calendar_pages.day_names("wide"),
        zones=calendar_pages.zone_choices(), countries=calendar_pages.country_choices(),
        country=draft.country, country_name=calendar_pages.country_name(draft.country),
        country_holidays=calendar_pages.country_holidays(draft.country),
        holiday_rows=_holiday_rows(draft.holidays),
        sla_rows=calendar_pages.sla_table(cal) if cal is not None else [],
        example=working_time.describe_working_minutes(cal, SLA_DEFAULTS["sla_response_normal"]) if cal is not None else "",
        normal=TicketPriority.NORMAL,
        day_note=working_time.working_day_note(cal) if cal is not None else "",
        branches=calendar_pages.branches_for_assignment() if cal is not None else [],
    ), status


def _holiday_rows(dates):
    good = []
    for d in dates:
        try:
            date.fromisoformat(d)
        except (TypeError, ValueError):
            continue  # the service names it; the list shows the good ones
        good.append(d)
    return [(h.day.isoformat(), h.text) for h in calendar_pages.holiday_list(good)]


def _typed_holiday() -> str | None:
    """The date typed into "Add a holiday" (None: nothing typed; "" a bad date)."""
    typed = (request.form.get("newHoliday") or "").strip()
    if not typed:
        return None
    try:
        return date.fromisoformat(typed).isoformat()
    except ValueError:
        return ""


def _redraw(draft: Draft) -> str | None:
    """The form's quick buttons without JavaScript: change the draft and say so (it is
    drawn again, unsaved). None when the button was Save."""
    action = request.form.get("action") or "save"
    if action == "copy-weekdays":
        draft.copy_monday(WEEKDAYS[1:5])
        return _("Monday's hours copied to Tuesday–Friday. Not saved yet.")
    if action == "copy-all":
        draft.copy_monday([d for d in WEEKDAYS[1:] if not draft.days[d].closed])
        return _("Monday's hours copied to every working day. Not saved yet.")
    if action == "add-holiday":
        return _("Holiday added. Not saved yet.")
    if action.startswith("remove-holiday:"):
        gone = action.split(":", 1)[1]
        draft.holidays = [d for d in draft.holidays if d != gone]
        return _("Holiday removed. Not saved yet.")
    return None


def _post(cal=None):
    draft = Draft.from_form(request.form)
    confirm = F.ConfirmForm()
    if not confirm.validate_on_submit():
        return _edit_page(draft, cal, _first(form_errors(confirm)), 400)
    typed = _typed_holiday()
    if typed == "" or (typed is None and request.form.get("action") == "add-holiday"):
        return _edit_page(draft, cal, _first(FormErrors(holidays=_("Choose a date to add."))), 400)
    if typed:  # added by its button, or typed and Save pressed: meant to be kept
        draft.holidays = sorted(set(draft.holidays) | {typed})
    notice = _redraw(draft)
    if notice is not None:
        return _edit_page(draft, cal, notice=notice)
    errors = draft.own_errors()
    if errors:
        return _edit_page(draft, cal, errors, 400)
    try:
        if cal is None:
            saved = calendar_admin.create_calendar(draft.data(), current_user)
        else:
            saved = calendar_admin.update_calendar(cal.id, draft.data(), current_user,
                                                   version=int(draft.version) if draft.version.isdigit() else None)
    except DomainError as exc:
        db.session.rollback()
        if cal is not None:
            cal = calendar_admin.get_calendar(cal.id)
        return _edit_page(draft, cal, _service_errors(exc), exc.status)
    db.session.commit()
    flash(_("Calendar %(name)s saved.", name=saved.name))
    return redirect(url_for(".calendar_edit", calendar_id=saved.id))


@bp.route("/dispatcher/calendars/new", methods=["GET", "POST"])
@staff_required
def calendar_create():
    """A new calendar, started as Mon-Sat 08:00-20:00 in Asia/Tashkent with Uzbekistan's holidays."""
    if request.method == "GET":
        return _edit_page(Draft.default())
    return _post()


@bp.route("/dispatcher/calendars/<calendar_id>", methods=["GET", "POST"])
@staff_required
def calendar_edit(calendar_id):
    """Edit a calendar; its branches and what the SLA minutes come to on it."""
    cal = calendar_admin.get_calendar(calendar_id)
    if request.method == "GET":
        return _edit_page(Draft.of(cal), cal)
    return _post(cal)


@bp.post("/dispatcher/calendars/<calendar_id>/branches")
@staff_required
def calendar_branches(calendar_id):
    """The branches that count in this calendar: the ticked ones join it, the unticked
    ones that used it go back to around the clock."""
    cal = calendar_admin.get_calendar(calendar_id)
    if not F.ConfirmForm().validate_on_submit():
        return _edit_page(Draft.of(cal), cal, _first(form_errors(F.ConfirmForm())), 400)
    chosen = set(request.form.getlist("branchId"))
    changed = 0
    try:
        for branch, _customer, _name in calendar_pages.branches_for_assignment():
            if branch.id in chosen and branch.calendar_id != cal.id:
                calendar_admin.set_branch_calendar(branch, cal.id, current_user)
                changed += 1
            elif branch.id not in chosen and branch.calendar_id == cal.id:
                calendar_admin.set_branch_calendar(branch, None, current_user)
                changed += 1
    except DomainError as exc:
        db.session.rollback()
        return _edit_page(Draft.of(cal), cal, _service_errors(exc), exc.status)
    db.session.commit()
    flash(_("Branches of %(name)s saved.", name=cal.name) if changed else _("No branch changed."))
    return redirect(url_for(".calendar_edit", calendar_id=cal.id))  # the top, where the confirmation is


@bp.get("/dispatcher/calendars/country-holidays")
@staff_required
def calendar_country_holidays():
    """The chosen country's public holidays of this year (htmx swaps them under the picker)."""
    code = request.args.get("country") or ""
    known = {c for c, _n in calendar_pages.country_choices()}
    code = code if code in known else ""
    return render_template("dispatcher/partials/_country_holidays.html", country=code,
                           country_name=calendar_pages.country_name(code),
                           country_holidays=calendar_pages.country_holidays(code))
