"""Dispatcher workspace: the live board, ticket pages and the management pages.

Every view has the same beats: load and authorize, validate, call one service,
render or redirect. Reads come from `services.board`; writes go to the services the
API uses too. Forms that fail come back with the message next to the field and what
was typed still in it.
"""
from __future__ import annotations

from functools import partial

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from app.i18n import gettext as _
from flask_login import current_user, login_required

from sqlalchemy.exc import OperationalError

from app import clock, i18n
from app.auth_helpers import staff_required
from app.fragments import FragmentCache
from app.blueprints.dispatcher import bp
from app.blueprints.dispatcher import forms as F
from app.extensions import db
from app.models import Role, TicketPriority, TicketStatus
from app.services import assignment, board_version, reference, tickets
from app.services import technicians as technician_service
from app.services import board as board_service
from app.services.errors import DomainError, ValidationError
from app.blueprints.tickets.routes import page_response
from app.web import form_errors, is_htmx



def _submit(form, page, save, done, to: str):
    """The POST beats of a management form. A form that fails its own checks comes back
    with 400; one the service refuses is rolled back and comes back with the service's
    status; otherwise `done` says what `save` did (after it, so edits show the new
    values) and the browser goes to `to`. `page(errors=, status=)` draws the form."""
    if not form.validate_on_submit():
        return page(errors=form_errors(form), status=400)
    try:
        saved = save()
    except DomainError as exc:
        db.session.rollback()
        return page(errors=form_errors(form, exc), status=exc.status)
    flash(done(saved))
    return redirect(to)


_CARDS = FragmentCache(4096)


def _render_key() -> tuple:
    """What every fragment of a dispatcher page also depends on: the language, the zone
    times are shown in, the year (a time in another year is written with its year) and
    the app (tests run several in one process)."""
    return (i18n.current(), current_app.config.get("APP_TIMEZONE"), clock.now().year, id(current_app._get_current_object()))


def ticket_card(card, ticket_base: str):
    """A board card's HTML, rendered once per change of anything it shows."""
    def render():
        template = current_app.jinja_env.get_template("dispatcher/partials/_ticket_card.html")
        return template.render(card=card, ticket_base=ticket_base, local_text=reference.local_text)
    return _CARDS.get((_render_key(), ticket_base, card.render_key()), render)


_OPTIONS = FragmentCache(256)


def filter_choices(kind: str, rows, selected):
    """The filter bar's <option>s for branches or technicians (300 branches on a large
    desk: the longest part of the bar), rendered once per change of the list, of the
    choice and of the language. The key is the rows themselves: they are read anyway."""
    def render():
        template = current_app.jinja_env.get_template("dispatcher/partials/_filter_options.html")
        return template.render(kind=kind, rows=rows, selected=selected)
    return _OPTIONS.get((_render_key(), kind, tuple(rows), selected), render)


@bp.context_processor
def _template_helpers():
    return {"board_args": board_service.filter_args, "local_text": reference.local_text,
            "countdown_words": board_service.countdown_words, "ticket_card": ticket_card,
            "filter_choices": filter_choices}


# --- the live board ------------------------------------------------------------------

@bp.get("/dispatcher/tickets")
@staff_required
def board():
    """The live board: columns by status, SLA colours, filters kept in the URL."""
    filters = board_service.parse_filters(request.args)
    data = board_service.load_board(filters)
    if is_htmx():
        return render_template("dispatcher/partials/_board.html", board=data)
    return render_template("dispatcher/board.html", board=data, filters=filters,
                           options=board_service.filter_options())


@bp.get("/dispatcher/tickets/poll")
def board_poll():
    """The board's poll: 204 while the page's stamp is current, answered from one
    statement (the signed-in user's checks with the board's change counters), with no
    ticket query and nothing rendered. Anything else (signed out, another role, a
    stale stamp, a bad filter) takes the full path below."""
    if _idle_poll():
        return "", 204
    return _board_poll()


_STAFF = (Role.ADMIN, Role.DISPATCHER)


def _idle_poll() -> bool:
    """The session's user ("<id>:<session_version>", app/web.py's loader) is still a
    signed-in dispatcher or admin and nothing the board shows has changed."""
    stamp = board_service.parse_stamp(request.args.get("stamp"))
    token = session.get("_user_id")
    if stamp is None or not isinstance(token, str) or ":" not in token:
        return False
    user_id, _, session_version = token.rpartition(":")
    branch_id = request.args.get("branchId") or None
    if branch_id is not None and len(branch_id) > 64:
        return False  # the full path names the bad filter
    try:
        row = board_version.poll_read(user_id, branch_id)
    except OperationalError:  # a pooled connection found dead: the full path opens a fresh one
        return False
    if (row is None or not row.is_active or str(row.session_version) != session_version
            or row.role not in _STAFF):
        return False
    return board_service.still_current(stamp, row.board_version)


@staff_required
def _board_poll():
    filters = board_service.parse_filters(request.args)
    return render_template("dispatcher/partials/_board.html", board=board_service.load_board(filters))


@bp.get("/dispatcher/tickets/list")
@staff_required
def board_list():
    """Every ticket, closed ones included, newest first, one page at a time."""
    filters = board_service.parse_filters(request.args)
    rows, next_cursor = board_service.ticket_list(filters, request.args.get("after") or None)
    ctx = dict(rows=rows, next_cursor=next_cursor, filters=filters,
               args=board_service.filter_args(filters, with_status=True))
    if is_htmx():
        return render_template("dispatcher/partials/_ticket_rows.html", **ctx)
    return render_template("dispatcher/ticket_list.html", options=board_service.filter_options(),
                           statuses=list(TicketStatus), **ctx)


# --- creating a ticket -----------------------------------------------------------------

def _create_form_choices(form: F.TicketCreateForm) -> None:
    form.branchId.choices = _branch_choices()
    categories = board_service.categories_with_subcategories()
    form.categoryId.choices = F.choices(((c.id, c.display_name) for c in categories), _("Choose a category…"))
    if not form.categoryId.data and len(categories) == 1:
        form.categoryId.data = categories[0].id
    subs = next((c.subcategories for c in categories if c.id == form.categoryId.data), [])
    form.subcategoryId.choices = F.choices(((s.id, s.display_name) for s in subs), _("Choose a subcategory…"))
    from app.services.equipment_pages import branch_units

    units = branch_units(form.branchId.data, active_only=True) if form.branchId.data else []
    form.equipmentId.choices = F.choices(((u.id, f"{u.asset_tag} · {u.name}") for u in units), _("No unit named"))


def _preview(subcategory_id, priority, branch_id=None):
    try:
        priority = TicketPriority(priority or "NORMAL")
    except ValueError:
        priority = TicketPriority.NORMAL
    return tickets.preview_due_times(subcategory_id or None, priority, branch_id or None)


@bp.route("/tickets/create", methods=["GET", "POST"])
@staff_required
def create_ticket():
    """A ticket for any branch; due times are shown before saving."""
    form = F.TicketCreateForm()
    _create_form_choices(form)
    errors = {}
    if form.validate_on_submit():
        try:
            ticket = tickets.create_ticket(current_user, {**F.form_data(form), "equipmentId": form.equipmentId.data or None})
        except ValidationError as exc:
            errors = form_errors(form, exc)
        else:
            if ticket.assigned_technician:
                flash(_("Ticket %(number)s created and assigned to %(name)s.", number=ticket.ticket_number,
                        name=ticket.assigned_technician.name))
            else:
                flash(_("Ticket %(number)s created; no technician is available for this branch, assign one below.",
                        number=ticket.ticket_number))
            return redirect(url_for("tickets.page", ticket_id=ticket.id))
    elif request.method == "POST":
        errors = form_errors(form)
    due = _preview(form.subcategoryId.data, form.priority.data, form.branchId.data)
    return render_template("dispatcher/ticket_create.html", form=form, errors=errors, due=due), \
        (400 if errors else 200)


@bp.get("/tickets/create/subcategories")
@staff_required
def create_ticket_subcategories():
    """The subcategory options of the chosen category (htmx swaps them in)."""
    subs = reference.subcategories_of(request.args.get("categoryId"))
    resp = render_template("dispatcher/partials/_subcategory_options.html", subcategories=subs)
    return resp, 200, {"HX-Trigger-After-Swap": "subcategoriesChanged"}


@bp.get("/tickets/create/preview")
@staff_required
def create_ticket_preview():
    """Due times a ticket created now would get for this subcategory and priority."""
    due = _preview(request.args.get("subcategoryId"), request.args.get("priority"), request.args.get("branchId"))
    return render_template("dispatcher/partials/_due_preview.html", due=due)


# --- the ticket page's staff forms (the page: blueprints/tickets) --------------------------

def _ticket_action(ticket_id: str, section: str, form, values, done: str):
    """A dispatcher form on the ticket page (tickets.page): saved and back to the page,
    or the page again with the form as typed and its errors."""
    ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
    if not form.validate_on_submit():
        return page_response(ticket.id, 400, submitted=(section, form), errors=form_errors(form))
    try:
        tickets.patch(ticket, {**values(form), "version": form.version.data or None}, current_user)
    except DomainError as exc:
        db.session.rollback()
        return page_response(ticket_id, exc.status, submitted=(section, form), errors=form_errors(form, exc))
    flash(done)
    return redirect(url_for("tickets.page", ticket_id=ticket.id))


@bp.post("/tickets/<ticket_id>/assign")
@staff_required
def ticket_assign(ticket_id):
    """Reassign to an ACTIVE technician; the ticket waits for them to accept."""
    return _ticket_action(ticket_id, "assign", F.AssignForm(),
                          lambda f: {"assignedTechnicianId": f.assignedTechnicianId.data},
                          _("Technician assigned; waiting for them to accept."))


@bp.post("/tickets/<ticket_id>/priority")
@staff_required
def ticket_priority(ticket_id):
    """Change the priority: both due times are recomputed from the creation time."""
    return _ticket_action(ticket_id, "priority", F.PriorityForm(),
                          lambda f: {"priority": f.priority.data},
                          _("Priority changed; due times updated."))


@bp.post("/tickets/<ticket_id>/notes")
@staff_required
def ticket_notes(ticket_id):
    """Internal notes (never shown to the store)."""
    return _ticket_action(ticket_id, "notes", F.NotesForm(),
                          lambda f: {"internalNotes": f.internalNotes.data or ""},
                          _("Internal notes saved."))


@bp.post("/tickets/<ticket_id>/close")
@staff_required
def ticket_close(ticket_id):
    """Close without completion, with a reason (the page asks for confirmation)."""
    return _ticket_action(ticket_id, "close", F.CloseForm(),
                          lambda f: {"status": TicketStatus.CLOSED.value, "reason": f.reason.data},
                          _("Ticket closed."))


# --- technicians ------------------------------------------------------------------------

@bp.get("/dispatcher/technicians")
@staff_required
def technicians():
    """Technicians with status, territories, last location and open workload."""
    return render_template("dispatcher/technicians.html", rows=board_service.technician_rows())


@bp.route("/dispatcher/technicians/new", methods=["GET", "POST"])
@staff_required
def technician_create():
    """A new technician (territories are added on their page)."""
    form = F.TechnicianForm()
    errors = {}
    if form.validate_on_submit():
        try:
            t = technician_service.create_technician(current_user, F.form_data(form))
        except DomainError as exc:
            errors = form_errors(form, exc)
        else:
            flash(_("%(name)s added. Give them branches below.", name=t.name))
            return redirect(url_for(".technician_edit", technician_id=t.id))
    elif request.method == "POST":
        errors = form_errors(form)
    return render_template("dispatcher/technician_form.html", form=form, errors=errors, technician=None,
                           company_rate=technician_service.company_labor_rate()), \
        (400 if errors else 200)


def _branch_choices():
    """Active branches grouped by customer."""
    branches = sorted(board_service.active_branches(), key=lambda b: (b.customer.name, b.branch_code))
    customer = {b.id: b.customer.name for b in branches}
    return F.choices(((b.id, f"{b.branch_code} · {b.branch_name}") for b in branches), _("Choose a branch…"),
                     optgroup=customer.get)


def _technician_page(technician_id, form=None, territory_form=None, errors=None, status=200):
    section = "territory" if territory_form is not None else "details"
    t, current, past = board_service.technician_with_assignments(technician_id)
    if form is None:
        form = F.TechnicianForm(formdata=None, data={"name": t.name, "phone": t.phone, "email": t.email or "",
                                                     "status": t.status.value,
                                                     "laborRate": "" if t.labor_rate is None else f"{t.labor_rate:.2f}"})
    if territory_form is None:
        territory_form = F.TerritoryForm(formdata=None)
    territory_form.branchId.choices = _branch_choices()
    return render_template("dispatcher/technician_form.html", form=form, territory_form=territory_form,
                           technician=t, current=current, past=past, located_ago=board_service.located_ago(t),
                           errors=errors or {}, section=section,
                           company_rate=technician_service.company_labor_rate()), status


@bp.route("/dispatcher/technicians/<technician_id>", methods=["GET", "POST"])
@staff_required
def technician_edit(technician_id):
    """Edit name, phone, email and status (ACTIVE / INACTIVE / ON_LEAVE)."""
    if request.method == "GET":
        return _technician_page(technician_id)
    t = technician_service.get_technician(technician_id)
    form = F.TechnicianForm()
    return _submit(form, partial(_technician_page, technician_id, form=form),
                   lambda: technician_service.update_technician(current_user, t, F.form_data(form)),
                   lambda _saved: _("%(name)s saved.", name=t.name), url_for(".technician_edit", technician_id=t.id))


@bp.post("/dispatcher/technicians/<technician_id>/territories")
@staff_required
def technician_assign(technician_id):
    """Make the technician a branch's primary or secondary; the previous holder of
    that role there is ended, not refused."""
    t = technician_service.get_technician(technician_id)
    form = F.TerritoryForm()
    form.branchId.choices = _branch_choices()
    return _submit(form, partial(_technician_page, technician_id, territory_form=form),
                   lambda: assignment.assign_to_branch(t.id, form.branchId.data, form.role.data == "primary"),
                   lambda _saved: (_("%(name)s is now the primary technician of the branch.", name=t.name)
                                   if form.role.data == "primary" else
                                   _("%(name)s is now the secondary technician of the branch.", name=t.name)),
                   url_for(".technician_edit", technician_id=t.id))


@bp.post("/dispatcher/technicians/<technician_id>/territories/<assignment_id>/end")
@staff_required
def technician_unassign(technician_id, assignment_id):
    """End one of the technician's territories (kept in history)."""
    form = F.ConfirmForm()
    technician_service.get_territory(technician_id, assignment_id)
    if not form.validate_on_submit():
        abort(400)
    assignment.end_assignment(assignment_id)
    flash(_("Territory ended."))
    return redirect(url_for(".technician_edit", technician_id=technician_id))


# --- customers and branches ---------------------------------------------------------------

def _branches_page(customer_form=None, errors=None, status=200):
    customers, branches = board_service.customers_with_branches()
    return render_template("dispatcher/branches.html", customers=customers, branches=branches,
                           customer_form=customer_form or F.CustomerForm(formdata=None),
                           errors=errors or {}), status


@bp.get("/dispatcher/branches")
@staff_required
def branches():
    """Customers and their branches: codes, coordinates, contacts, active flag."""
    return _branches_page()


@bp.post("/dispatcher/customers")
@staff_required
def branch_customer_create():
    """A new customer (retail chain)."""
    form = F.CustomerForm()
    return _submit(form, partial(_branches_page, form),
                   lambda: reference.create_customer(current_user, F.form_data(form)),
                   lambda c: _("Customer %(name)s added.", name=c.name), url_for(".branches"))


def _branch_form_page(form, branch, errors=None, status=200):
    form.customerId.choices = F.choices(((c.id, c.name) for c in reference.list_customers()), _("Choose a customer…"))
    return render_template("dispatcher/branch_form.html", form=form, branch=branch, errors=errors or {}), status


def _branch_data(form) -> dict:
    data = F.form_data(form)
    data["isActive"] = bool(form.isActive.data)
    return data


def _update_branch(branch, form) -> None:
    data = _branch_data(form)
    data.pop("customerId", None)  # a branch stays with its customer
    reference.update_branch(current_user, branch.id, data)


@bp.route("/dispatcher/branches/new", methods=["GET", "POST"])
@staff_required
def branch_create():
    """A new branch of a customer."""
    form = F.BranchForm(data=None if request.method == "POST" else {"customerId": request.args.get("customerId")})
    if request.method == "GET":
        return _branch_form_page(form, None)
    return _submit(form, partial(_branch_form_page, form, None),
                   lambda: reference.create_branch(current_user, _branch_data(form)),
                   lambda b: _("Branch %(code)s added.", code=b.branch_code), url_for(".branches"))


@bp.route("/dispatcher/branches/<branch_id>", methods=["GET", "POST"])
@staff_required
def branch_edit(branch_id):
    """Edit a branch; an inactive branch takes no new tickets."""
    branch = board_service.branch_with_customer(branch_id)
    if request.method == "GET":
        form = F.BranchForm(formdata=None, data={
            "customerId": branch.customer_id, "branchCode": branch.branch_code, "branchName": branch.branch_name,
            "address": branch.address, "contactPerson": branch.contact_person, "phone": branch.phone,
            "latitude": "" if branch.latitude is None else str(branch.latitude),
            "longitude": "" if branch.longitude is None else str(branch.longitude),
            "isActive": branch.is_active})
        return _branch_form_page(form, branch)
    form = F.BranchForm()
    return _submit(form, partial(_branch_form_page, form, branch), lambda: _update_branch(branch, form),
                   lambda _saved: _("Branch %(code)s saved.", code=branch.branch_code), url_for(".branches"))


# --- categories and SLA minutes -------------------------------------------------------------

def _categories_page(form=None, errors=None, status=200):
    return render_template("dispatcher/categories.html", categories=board_service.categories_with_subcategories(),
                           form=form or F.CategoryForm(formdata=None), errors=errors or {},
                           sla_fields=F.SLA_FORM_FIELDS), status


@bp.get("/dispatcher/categories")
@staff_required
def categories():
    """Categories and subcategories with their eight SLA minute values."""
    return _categories_page()


@bp.post("/dispatcher/categories")
@staff_required
def category_create():
    """A new category."""
    form = F.CategoryForm()
    return _submit(form, partial(_categories_page, form),
                   lambda: reference.create_category(current_user, F.form_data(form), form.name_translations()),
                   lambda c: _("Category %(name)s added. Add its subcategories with their SLA minutes.",
                               name=c.display_name),
                   url_for(".categories"))


def _subcategory_page(form, category, subcategory, errors=None, status=200):
    return render_template("dispatcher/subcategory_form.html", form=form, category=category,
                           subcategory=subcategory, errors=errors or {}, sla_fields=F.SLA_FORM_FIELDS), status


@bp.route("/dispatcher/categories/<category_id>/subcategories/new", methods=["GET", "POST"])
@staff_required
def category_subcategory_create(category_id):
    """A new subcategory with its SLA minutes (the plan's defaults prefilled)."""
    category = reference.get_category(category_id)
    form = F.SubcategoryForm()
    if request.method == "GET":
        return _subcategory_page(form, category, None)
    return _submit(form, partial(_subcategory_page, form, category, None),
                   lambda: reference.create_subcategory(current_user, category.id, F.form_data(form),
                                                        form.name_translations()),
                   lambda s: _("Subcategory %(name)s added.", name=s.display_name), url_for(".categories"))


@bp.route("/dispatcher/subcategories/<subcategory_id>", methods=["GET", "POST"])
@staff_required
def category_subcategory_edit(subcategory_id):
    """Edit a subcategory's name and SLA minutes (new tickets get the new minutes)."""
    sub = reference.get_subcategory(subcategory_id)
    category = sub.category
    if request.method == "GET":
        data = {"name": sub.name, "description": sub.description or "",
                "nameRu": (sub.name_translations or {}).get("ru", ""), "nameUz": (sub.name_translations or {}).get("uz", "")}
        data.update({api: getattr(sub, column) for api, column, _ in F.SLA_FORM_FIELDS})
        return _subcategory_page(F.SubcategoryForm(formdata=None, data=data), category, sub)
    form = F.SubcategoryForm()
    return _submit(form, partial(_subcategory_page, form, category, sub),
                   lambda: reference.update_subcategory(current_user, sub.id, F.form_data(form),
                                                        form.name_translations()),
                   lambda _saved: _("Subcategory %(name)s saved. New tickets get the new minutes.",
                                    name=sub.display_name),
                   url_for(".categories"))


# --- the ticket's unit (the page's partial: tickets/_unit.html) --------------------------------

@bp.post("/tickets/<ticket_id>/equipment")
@staff_required
def ticket_equipment(ticket_id):
    """Set, change or remove the unit the ticket is about (any status: a closed ticket's
    cost then counts against the right unit)."""
    from app.blueprints.equipment.forms import UnitLinkForm

    return _ticket_action(ticket_id, "unit", UnitLinkForm(),
                          lambda f: {"equipmentId": f.equipmentId.data or None},
                          _("The ticket's unit is saved."))
