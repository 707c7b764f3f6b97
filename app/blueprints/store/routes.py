"""The store manager's pages: the branch's tickets, reporting a problem, reviewing and
signing the work, and the service report (page and PDF)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Field, MultipartDecoder, NeedData, Preamble

from app.auth_helpers import roles_required, store_manager_required
from app.blueprints.store import bp
from app.blueprints.store.forms import DecisionForm, ReportProblemForm
from app.blueprints.tickets.routes import moved
from app.errors import error_response
from app.extensions import db
from app.models import Role
from app.services import completions, reference, reports, store_views
from app.services.errors import Conflict, TooLarge, UnsupportedMedia, ValidationError
from app.web import FormErrors, form_errors, render_page_or_partial

FORM_ERRORS = (ValidationError, TooLarge, UnsupportedMedia)
PHOTOS_TOO_LARGE = _l("The photos together are too large to send, so nothing was saved. "
                      "Your answers are kept: choose fewer or smaller photos and send again.")
FIELDS_READ_LIMIT = 256 * 1024  # the text fields come first; the photos are never read


@bp.get("/store")
@store_manager_required
def home():
    """My branch: open tickets first (waiting for my approval on top), then recent closed ones."""
    data = store_views.branch_tickets(current_user)
    return render_page_or_partial("store/home.html", "store/partials/_tickets.html", data=data,
                                  branches=list(current_user.branches))


@bp.route("/store/tickets/new", methods=["GET", "POST"])
@store_manager_required
def new_ticket():
    """Report a problem in a few taps; on success, the ticket page names who comes."""
    form = ReportProblemForm()
    choices = store_views.report_form_choices(current_user)
    errors, status = {}, 200
    if request.method == "GET":
        form.branchId.data = choices["branches"][0].id if choices["branches"] else None
        if len(choices["categories"]) == 1:
            form.categoryId.data = choices["categories"][0].id
        chosen = next((u for u in choices["units"] if u.id == request.args.get("equipment")), None)
        if chosen is not None:  # from the unit's page or its QR code: the unit (and its branch) chosen
            form.equipmentId.data, form.branchId.data = chosen.id, chosen.branch_id
    elif form.validate_on_submit():
        limit = current_app.config["PHOTO_MAX_BYTES"] + 1
        files = [(f.read(limit), f.filename) for f in request.files.getlist("photos") if f and f.filename]
        try:
            ticket = store_views.report_problem(current_user, form.values(), files)
        except FORM_ERRORS as exc:
            errors, status = form_errors(form, exc, also=("photos",)), exc.status
        else:
            return redirect(url_for("tickets.page", ticket_id=ticket.id, created=1))
    else:
        errors, status = form_errors(form), 400
    return _report_page(form, choices, errors, status)


def _report_page(form, choices, errors, status):
    return render_template("store/new_ticket.html", form=form, errors=errors,
                           subcategories=reference.subcategories_of(form.categoryId.data),
                           priorities=store_views.PRIORITY_HELP, max_photos=store_views.MAX_REPORT_PHOTOS,
                           **choices), status


@bp.errorhandler(RequestEntityTooLarge)
def _report_too_large(exc):
    """A report whose photos together pass MAX_CONTENT_LENGTH is refused before its body
    is parsed (CSRF or the form would read it): the form comes back with what was typed
    (read from the start of the body, where the browser puts the text fields before
    the files) and the reason next to the photos, instead of a bare error page."""
    db.session.rollback()
    if request.endpoint != "store.new_ticket" or getattr(current_user, "role", None) != Role.STORE_MANAGER:
        return error_response(413, _("The upload is too large"))
    choices = store_views.report_form_choices(current_user)
    form = ReportProblemForm(formdata=_fields_before_the_files())
    if not form.branchId.data:
        form.branchId.data = choices["branches"][0].id if choices["branches"] else None
    too_large = str(PHOTOS_TOO_LARGE)
    return _report_page(form, choices, FormErrors(photos=too_large, _form=too_large), 413)


def _fields_before_the_files() -> MultiDict:
    """The text fields at the start of a multipart body that was refused as too large,
    read from at most its first FIELDS_READ_LIMIT bytes: only to show them again on the
    form (nothing is saved, no file is read)."""
    mimetype, options = parse_options_header(request.environ.get("CONTENT_TYPE", ""))
    stream = request.environ.get("wsgi.input")
    fields: MultiDict = MultiDict()
    if mimetype != "multipart/form-data" or not options.get("boundary") or stream is None:
        return fields
    decoder = MultipartDecoder(options["boundary"].encode("latin-1"), max_form_memory_size=FIELDS_READ_LIMIT)
    name, value, budget = None, bytearray(), FIELDS_READ_LIMIT
    try:
        while budget > 0:
            chunk = stream.read(min(16384, budget))
            budget -= len(chunk)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                if isinstance(event, Field):
                    name, value = event.name, bytearray()
                elif isinstance(event, Data) and name is not None:
                    value += event.data
                    if not event.more_data:
                        fields.add(name, value.decode("utf-8", "replace"))
                        name = None
                elif not isinstance(event, (Data, Preamble)):  # a file, or the end: no more text fields
                    return fields
                event = decoder.next_event()
            if not chunk:
                break
    except (ValueError, OSError):  # a malformed or cut body: keep what was read
        pass
    return fields


@bp.get("/store/tickets/new/subcategories")
@store_manager_required
def subcategory_options():
    """The subcategory select for the chosen category (swapped in by htmx), with
    `subcategoryId` chosen when given (a draft restored on the phone)."""
    return render_template("store/partials/_subcategory_field.html",
                           subcategories=reference.subcategories_of(request.args.get("categoryId")),
                           selected=request.args.get("subcategoryId"), errors={})


@bp.get("/store/tickets/<ticket_id>")
@login_required
def ticket(ticket_id):
    """Moved: the one ticket page is /tickets/<id> (with the approval and the report)."""
    return moved(ticket_id)


@bp.route("/tickets/<ticket_id>/approve", methods=["GET", "POST"])
@roles_required(Role.STORE_MANAGER, Role.ADMIN)
def approve(ticket_id):
    """Review the work and sign to approve (closes the ticket), or reject with a reason
    (back to the technician)."""
    t = store_views.load_ticket_page(current_user, ticket_id)
    form = DecisionForm()
    errors, status = {}, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            errors, status = form_errors(form), 400
        elif t.completion is None:
            flash(_("There is no finished work to approve on this ticket yet."), "error")
            return redirect(url_for("store.approve", ticket_id=t.id))
        else:
            try:
                decided = completions.decide(t.completion, current_user, form.values())
            except Conflict as exc:
                flash(exc.message, "error")
                return redirect(url_for("store.approve", ticket_id=t.id))
            except FORM_ERRORS as exc:
                errors, status = form_errors(form, exc, also=("signature",)), exc.status
            else:
                if decided.approval_status.value == "APPROVED":
                    flash(_("Approved: %(number)s is closed. Thank you!", number=t.ticket_number))
                    return redirect(url_for("store.report", ticket_id=t.id))
                flash(_("Sent back to the technician: %(number)s.", number=t.ticket_number))
                return redirect(url_for("store.home") if current_user.role == Role.STORE_MANAGER
                                else url_for("store.approve", ticket_id=t.id))
    if request.method == "GET":
        form.signedBy.data = current_user.name
    completion = t.completion
    return render_template("store/approve.html", t=t, form=form, errors=errors,
                           state=store_views.decision_state(t), completion=completion,
                           photos=store_views.photo_set(t, completion), notes=store_views.store_notes(t)), status


@bp.get("/tickets/<ticket_id>/report")
@roles_required(Role.ADMIN, Role.DISPATCHER, Role.STORE_MANAGER)
def report(ticket_id):
    """The printable one-page service report of a closed ticket."""
    return render_template("store/report.html", report=reports.load_report(current_user, ticket_id),
                           sla_words=reports.sla_words)


@bp.get("/tickets/<ticket_id>/report.pdf")
@roles_required(Role.ADMIN, Role.DISPATCHER, Role.STORE_MANAGER)
def report_pdf(ticket_id):
    """The same report as a PDF download."""
    rep = reports.load_report(current_user, ticket_id)
    resp = current_app.response_class(reports.render_pdf(rep), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{rep.filename}"'
    return resp
