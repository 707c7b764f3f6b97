"""The ticket page: one URL for every role that may read the ticket. The service
(services/ticket_page.py) decides what the role sees and may do; this draws it.

The store manager adds a note or a photo from the page itself (/tickets/<id>/store-note,
/tickets/<id>/store-photo). The other actions keep their own endpoints: the dispatcher's forms post to
/tickets/<id>/{assign,priority,notes,close} (dispatcher blueprint, which redraws this
page with a refused form's errors), the technician's to /tech/tickets/<id>/...,
approval has its own screen (/tickets/<id>/approve) and so has completing the job
(/tech/tickets/<id>/complete).
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.blueprints.dispatcher import forms as F
from app.blueprints.equipment.forms import UnitLinkForm
from app.blueprints.tickets import bp
from app.blueprints.tickets.forms import PauseForm, ResumeForm
from app.extensions import db
from flask_babel import gettext as _

from app.services import access, equipment_pages, pauses, photos, ticket_page, ticket_queries, tickets
from app.services.errors import Conflict, DomainError, Forbidden
from app.services.timefmt import zoned
from app.web import form_errors, home_for

# What the store manager just added: the page confirms it beside the form it came from
# (the page comes back scrolled there), not in a flash at the top, off screen.
ADDED = ("note", "photo")
PHOTO_TOO_LARGE = _l("This photo is too large to upload. Choose a smaller one, or take it again at a lower resolution.")


@bp.context_processor
def _helpers():
    """The technician's card on this page needs the technician pages' helpers."""
    from app.blueprints.technician.routes import distance_text, plain_number

    return {"distance_text": distance_text, "num": plain_number}


def page_response(ticket_id: str, status: int = 200, *, submitted=None, errors=None, section=None, typed=None):
    """The page of `ticket_id` for the current user. `submitted` is (section, form) of
    a dispatcher form that failed: it is shown as typed, with its `errors`; a store
    form that failed names its `section` and what was `typed`."""
    ticket = ticket_page.load_ticket(current_user, ticket_id)
    page = ticket_page.build(current_user, ticket)
    forms = {}
    if page.actions.staff:
        version = {"version": ticket.version}
        forms = {
            "assign": F.AssignForm(formdata=None, data=version),
            "priority": F.PriorityForm(formdata=None, data={**version, "priority": ticket.priority.value}),
            "notes": F.NotesForm(formdata=None, data={**version, "internalNotes": ticket.internal_notes or ""}),
            "close": F.CloseForm(formdata=None, data=version),
            "unit": UnitLinkForm(formdata=None, data={**version, "equipmentId": ticket.equipment_id or ""}),
        }
        if submitted is not None:
            section, form = submitted
            forms[section] = form
            form.version.data = ticket.version  # a retry carries the version on screen now
        forms["unit"].equipmentId.choices = F.choices(
            ((u.id, f"{u.asset_tag} · {u.name}") for u in equipment_pages.branch_units(ticket.branch_id, active_only=True)
             if u.id != ticket.equipment_id), _("No unit named"))
        if ticket.equipment is not None:  # its current unit stays a choice even when retired
            forms["unit"].equipmentId.choices.insert(1, F.choices([(ticket.equipment.id, f"{ticket.equipment.asset_tag} · {ticket.equipment.name}")])[0])
    if page.actions.pause or page.actions.resume:
        version = {"version": ticket.version}
        forms.setdefault("pause", PauseForm(formdata=None, data=version))
        forms.setdefault("resume", ResumeForm(formdata=None, data=version))
        if submitted is not None and submitted[0] in ("pause", "resume"):
            forms[submitted[0]] = submitted[1]
            submitted[1].version.data = ticket.version  # a retry carries the version on screen now
    unit_readable = ticket.equipment is not None and access.can_read_equipment(current_user, ticket.equipment)
    return render_template("tickets/page.html", page=page, t=ticket, forms=forms, errors=errors or {},
                           error_section=section, home=home_for(current_user), typed=typed or {},
                           unit_readable=unit_readable,
                           created=bool(request.args.get("created")),
                           added=request.args.get("added") if request.args.get("added") in ADDED else None), status


@bp.get("/tickets/<ticket_id>")
@login_required
def page(ticket_id):
    """All about one ticket, for whoever may read it (anyone else gets 404)."""
    return page_response(ticket_id)


@bp.get("/tickets/<ticket_id>/timeline")
@login_required
def timeline(ticket_id):
    """The page's timeline fragment (htmx refreshes it when the ticket changes)."""
    ticket = tickets.load_readable_ticket(current_user, ticket_id)
    return render_template("tickets/_timeline.html", events=ticket_queries.timeline(current_user, ticket.id))


@bp.post("/tickets/<ticket_id>/store-note")
@login_required
def store_note(ticket_id):
    """The store manager's note on its open ticket: added to the timeline."""
    ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
    text = request.form.get("note", "")
    try:
        tickets.add_store_note(ticket, current_user, text)
    except DomainError as exc:
        db.session.rollback()
        return _store_refused(ticket_id, exc, "note", {"note": text})
    return redirect(url_for("tickets.page", ticket_id=ticket.id, added="note") + "#add-to-report")


@bp.post("/tickets/<ticket_id>/store-photo")
@login_required
def store_photo(ticket_id):
    """A photo of the problem from the store manager while the ticket is open."""
    ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
    caption = request.form.get("caption") or None
    upload = request.files.get("photo")
    data = upload.read(current_app.config["PHOTO_MAX_BYTES"] + 1) if upload and upload.filename else None
    try:
        photos.add_store_photo(ticket, current_user, data, upload.filename if upload else None, caption)
    except DomainError as exc:
        db.session.rollback()
        return _store_refused(ticket_id, exc, "photo", {"caption": caption or ""})
    return redirect(url_for("tickets.page", ticket_id=ticket.id, added="photo") + "#add-to-report")


@bp.post("/tickets/<ticket_id>/pause")
@login_required
def pause(ticket_id):
    """Pause the resolution clock with a reason (the assigned technician or staff):
    back to the page, which now shows the pause and "Resume work"."""
    form = PauseForm()
    ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
    if not form.validate_on_submit():
        return page_response(ticket.id, 400, submitted=("pause", form), errors=form_errors(form), section="pause")
    try:
        pauses.pause_ticket(ticket, current_user, form.reason.data, form.note.data, form.version.data or None)
    except DomainError as exc:
        db.session.rollback()
        again = _already(ticket_id, exc, paused=True)
        if again is None:
            return page_response(ticket_id, exc.status, submitted=("pause", form), errors=form_errors(form, exc),
                                 section="pause")
        ticket = again  # a double tap: the first tap paused it, this one has nothing to do
    flash(_("Work paused: %(reason)s. The repair deadline waits until you resume.",
            reason=ticket.pause_reason.label))
    # The page's top, where the confirmation is (not the pause section further down).
    return redirect(url_for("tickets.page", ticket_id=ticket.id), 303)


@bp.post("/tickets/<ticket_id>/resume")
@login_required
def resume(ticket_id):
    """Resume the resolution clock: the repair deadline moves later by the paused working time."""
    form = ResumeForm()
    ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
    if not form.validate_on_submit():
        return page_response(ticket.id, 400, submitted=("resume", form), errors=form_errors(form), section="pause")
    before = ticket.paused_minutes_total or 0
    try:
        pauses.resume(ticket.id, current_user, form.version.data or None)
    except DomainError as exc:
        db.session.rollback()
        again = _already(ticket_id, exc, paused=False)
        if again is None:
            return page_response(ticket_id, exc.status, submitted=("resume", form), errors=form_errors(form, exc),
                                 section="pause")
        flash(_("Work resumed. Must be fixed by %(when)s.", when=zoned(again.resolution_due_at)))
        return redirect(url_for("tickets.page", ticket_id=again.id), 303)
    moved = (ticket.paused_minutes_total or 0) - before
    if moved > 0:
        flash(_("Work resumed. The deadline moved %(time)s later (the paused working time): must be fixed by "
                "%(when)s.", time=pauses.working_time_words(moved), when=zoned(ticket.resolution_due_at)))
    else:
        flash(_("Work resumed. The pause took no working time, so the deadline stays %(when)s.",
                when=zoned(ticket.resolution_due_at)))
    return redirect(url_for("tickets.page", ticket_id=ticket.id), 303)


@bp.get("/tickets/<ticket_id>/pause")
@bp.get("/tickets/<ticket_id>/resume")
@login_required
def pause_address(ticket_id):
    """The address a refused pause or resume leaves in the browser: reloading it (weak
    signal) opens the ticket, not "Method not allowed"."""
    return redirect(url_for("tickets.page", ticket_id=ticket_id), 303)


def _already(ticket_id: str, exc: DomainError, *, paused: bool):
    """After a refused pause (paused=True) or resume: the ticket when it is already as
    the tap asked (a double tap whose first tap won: its stale version or "already
    paused" is no error to the person), else None."""
    if not isinstance(exc, Conflict):
        return None
    ticket = tickets.load_readable_ticket(current_user, ticket_id)
    return ticket if (ticket.paused_at is not None) == paused else None


def _store_refused(ticket_id: str, exc: DomainError, field: str, typed: dict):
    """The page again, with what was typed: a refused input's reason beside its field
    (the caption's, or else `field`); a refused action's (not allowed, ticket no longer
    open) at the top of the page."""
    if isinstance(exc, (Forbidden, Conflict)):
        return page_response(ticket_id, exc.status, errors={"_form": exc.message})
    found = form_errors(exc=exc)
    errors = {"caption": found["caption"]} if "caption" in found else {field: found.get(field) or exc.message}
    return page_response(ticket_id, exc.status, errors=errors, section="store", typed=typed)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    """A photo larger than the whole request may be is refused before it is read: the
    page comes back with the reason beside the photo field, not a bare error page."""
    db.session.rollback()
    ticket_id = (request.view_args or {}).get("ticket_id")
    if request.endpoint != "tickets.store_photo" or not ticket_id:
        from app.errors import error_response

        return error_response(413, _("The upload is too large"))
    return page_response(ticket_id, 413, errors={"photo": str(PHOTO_TOO_LARGE)}, section="store")


def moved(ticket_id: str):
    """An old ticket URL: the same page now lives at /tickets/<id> (query kept)."""
    return redirect(url_for("tickets.page", ticket_id=ticket_id, **request.args), 308)
