"""The equipment pages: a branch's units, the unit form and the labels sheet
(dispatchers and admins), one unit's page (whoever may read the unit:
access.equipment_scope), the store manager's units.

Same beats as the other pages: load and authorize, validate, call one service (the one
the API calls), render or redirect; a refused form comes back with its errors."""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth_helpers import staff_required, store_manager_required
from app.blueprints.dispatcher.forms import ConfirmForm
from app.blueprints.equipment import bp
from app.blueprints.equipment.forms import UnitForm
from app import i18n
from app.extensions import db
from app.services import access, equipment, equipment_pages
from app.services.errors import DomainError
from app.web import form_errors


@bp.context_processor
def _helpers():
    # A month is a calendar date: a datetime would be moved to UTC by format_date first
    # (local midnight on the 1st is still the previous month in UTC east of Greenwich).
    return {"month_name": lambda d: format_date(d.date() if isinstance(d, datetime) else d, "LLLL y"), "format_date": format_date,
            "report_url": equipment.report_url, "number": lambda v: format_decimal(v, "#,##0.0##")}


def _staff_branch(branch_id):
    try:
        return equipment_pages.branch_of(branch_id)
    except DomainError:
        abort(404)


# --- a branch's units (dispatchers and admins) -------------------------------------------

@bp.get("/dispatcher/branches/<branch_id>/equipment")
@staff_required
def branch_units(branch_id):
    """The branch's units, in service and retired, with links to add, edit and print labels."""
    branch = _staff_branch(branch_id)
    return render_template("equipment/branch_units.html", branch=branch,
                           units=equipment_pages.branch_units(branch.id))


def _branch_select(form, current_branch_id):
    from app.blueprints.dispatcher.routes import _branch_choices

    form.branchId.choices = _branch_choices()
    if not form.branchId.data:
        form.branchId.data = current_branch_id


def _form_page(form, branch, unit, errors=None, status=200):
    return render_template("equipment/unit_form.html", form=form, branch=branch, unit=unit,
                           errors=errors or {}), status


def _save(form, branch, unit, save, done):
    if not form.validate_on_submit():
        return _form_page(form, branch, unit, form_errors(form), 400)
    try:
        saved = save()
    except DomainError as exc:
        db.session.rollback()
        return _form_page(form, branch, unit, form_errors(form, exc), exc.status)
    flash(done(saved))
    return redirect(url_for(".unit_page", unit_id=saved.id))


@bp.route("/dispatcher/branches/<branch_id>/equipment/new", methods=["GET", "POST"])
@staff_required
def unit_create(branch_id):
    """A new unit of the branch."""
    branch = _staff_branch(branch_id)
    form = UnitForm()
    del form.isActive, form.branchId
    if request.method == "GET":
        return _form_page(form, branch, None)
    return _save(form, branch, None,
                 lambda: equipment.create_unit(current_user, {**form.values(creating=True), "branchId": branch.id}),
                 lambda u: _("Unit %(tag)s added.", tag=u.asset_tag))


@bp.route("/equipment/<unit_id>/edit", methods=["GET", "POST"])
@staff_required
def unit_edit(unit_id):
    """Edit a unit; a new branch moves it (its tickets go with it), "in service" off retires it."""
    unit = equipment.load_readable_unit(current_user, unit_id)
    if request.method == "GET":
        data = {name: getattr(unit, column) for name, column in equipment.FIELDS.items()}
        data = {k: ("" if v is None else (v.value if hasattr(v, "value") else str(v) if not isinstance(v, bool) else v))
                for k, v in data.items()}
        form = UnitForm(formdata=None, data=data)
        _branch_select(form, unit.branch_id)
        return _form_page(form, unit.branch, unit)
    form = UnitForm()
    _branch_select(form, unit.branch_id)
    return _save(form, unit.branch, unit, lambda: equipment.update_unit(unit, current_user, form.values(creating=False)),
                 lambda u: _("Unit %(tag)s saved.", tag=u.asset_tag))


@bp.post("/equipment/<unit_id>/report-token")
@staff_required
def unit_new_token(unit_id):
    """A new report URL for the unit: the old label's QR code finds nothing from now on."""
    unit = equipment.load_readable_unit(current_user, unit_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("Your form expired; please reload the page and try again."), "error")
        return redirect(url_for(".unit_page", unit_id=unit.id))
    equipment.replace_report_token(unit, current_user)
    flash(_("New QR code made for %(tag)s. Print its label again: the old one no longer works.", tag=unit.asset_tag))
    return redirect(url_for(".unit_page", unit_id=unit.id))


@bp.get("/dispatcher/branches/<branch_id>/labels")
@staff_required
def labels(branch_id):
    """The branch's labels on A4: QR code, asset tag, name, branch, "scan to report", in
    the language chosen on the page (en / ru / uz, kept in the URL)."""
    branch = _staff_branch(branch_id)
    units = equipment_pages.branch_units(branch.id, active_only=True)
    # The labels are read by whoever stands at the unit: their words are in the language
    # chosen here (?lang=, default DEFAULT_LOCALE), the page around them in the reader's.
    label_lang = i18n.valid_locale(request.args.get("lang")) or i18n.default_locale()
    with i18n.force_locale(label_lang):
        sheet = Markup(render_template("equipment/_label_sheet.html", branch=branch, units=units,
                                       label_lang=label_lang))
    return render_template("equipment/labels.html", branch=branch, units=units, sheet=sheet, label_lang=label_lang)


# --- one unit -----------------------------------------------------------------------------

@bp.get("/equipment/<unit_id>")
@login_required
def unit_page(unit_id):
    """The unit: its tickets and their photos, costs by month, recent faults, repair or
    replace, and its QR code. Anyone who may not read it gets 404."""
    unit = equipment.load_readable_unit(current_user, unit_id)
    view = equipment_pages.unit_view(current_user, unit)
    return render_template("equipment/unit.html", v=view, unit=unit, staff=access.is_staff(current_user),
                           confirm_form=ConfirmForm(formdata=None))


# --- the store manager's units ---------------------------------------------------------------

@bp.get("/store/equipment")
@store_manager_required
def store_units():
    """The units of my branches: each links to its page and to a new ticket about it."""
    return render_template("equipment/store_units.html", units=equipment_pages.readable_units(current_user))


# --- the dispatcher's create form: the branch's units -----------------------------------------

@bp.get("/tickets/create/units")
@staff_required
def create_ticket_units():
    """The unit <option>s of the chosen branch (htmx swaps them into the create form)."""
    branch_id = request.args.get("branchId") or ""
    units = equipment_pages.branch_units(branch_id, active_only=True) if len(branch_id) <= 64 and branch_id else []
    return render_template("equipment/_unit_options.html", units=units, selected=request.args.get("equipmentId"))
