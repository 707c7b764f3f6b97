"""The technician's workspace on the phone (/tech/...): the queue, location, arrival,
and completing the job with photos.

Every route keeps the same beat: load and authorize, validate, call one service,
render (the page, or for htmx the fragment it swaps). The queue's actions answer
with the whole queue fragment (re-sorted, with a notice), so one template is the
only source of a ticket card.
"""
from __future__ import annotations


from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth_helpers import technician_required
from app.blueprints.technician import bp
from app.blueprints.tickets.routes import moved
from app.blueprints.technician.forms import (
    CompletionForm,
    PartRow,
    arrival_data,
    location_data,
    new_row_key,
)
from app.extensions import db
from app.models import Technician
from app.services import completions, photos, tech_workspace, technicians, tickets
from app.services.errors import DomainError, NotFound, ValidationError
from app.services.timeline_text import distance_text
from app.web import form_errors, is_htmx, render_page_or_partial, swap_in_place


@bp.context_processor
def _helpers():
    return {"distance_text": distance_text, "num": plain_number}


def plain_number(value) -> str:
    """1.50 -> "1.5", 10.00 -> "10" (quantities and hours, not money)."""
    return "" if value is None else f"{value.normalize():f}"




# --- the queue ------------------------------------------------------------------

@bp.get("/dashboard")
@technician_required
def dashboard():
    """My open tickets, most urgent first, and work waiting for approval. htmx polls
    this URL for the queue fragment."""
    return _queue_response()


def _queue_response(status: int = 200, notice: str | None = None, kind: str = "ok",
                    decline: dict | None = None, ticket_id: str | None = None):
    """The queue (page or fragment). A notice about one ticket is shown on that ticket's
    card when the card is still in the queue (the tapped card stays where the thumb is,
    with its confirmation on it), otherwise above the list."""
    queue = tech_workspace.queue_for(current_user)
    on_card = ticket_id if ticket_id and any(i.ticket.id == ticket_id for i in queue.open + queue.awaiting) else None
    html = render_page_or_partial("technician/dashboard.html", "technician/partials/_queue.html",
                                  queue=queue, notice=notice, notice_kind=kind, notice_ticket=on_card,
                                  decline=decline or {})
    resp = make_response(html, status)
    if status >= 400 and is_htmx():
        swap_in_place(resp)  # the queue with the reason inline, where the tap was
    return resp


def _back_url(ticket_id: str) -> str:
    if request.form.get("back") == "ticket":
        return url_for("tickets.page", ticket_id=ticket_id)
    return url_for("technician.dashboard")


def _done(ticket_id: str, message: str, kind: str = "ok"):
    if is_htmx():
        return _queue_response(notice=message, kind=kind, ticket_id=ticket_id)
    flash(message, "message" if kind == "ok" else kind)
    return redirect(_back_url(ticket_id), 303)


def _failed(exc: DomainError, decline: dict | None = None, ticket_id: str | None = None):
    """The queue again, with the reason inline (on the card when it is still there);
    the status rolls the request back."""
    return _queue_response(exc.status, notice=exc.message, kind="error", decline=decline, ticket_id=ticket_id)


@bp.post("/tickets/<ticket_id>/accept")
@technician_required
def accept(ticket_id):
    """Accept an assigned ticket in one tap (ASSIGNED -> IN_PROGRESS)."""
    try:
        ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
        tickets.accept(ticket, current_user)
    except DomainError as exc:
        return _failed(exc, ticket_id=ticket_id)
    return _done(ticket.id, _("Accepted %(number)s. Tap “I'm on site” when you get there.", number=ticket.ticket_number))


@bp.post("/tickets/<ticket_id>/decline")
@technician_required
def decline(ticket_id):
    """Decline an assigned ticket with a reason: it goes to the branch's other
    technician or back to the dispatcher."""
    reason = request.form.get("reason", "")
    try:
        ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
        number = ticket.ticket_number
        tickets.decline(ticket, reason, current_user)
    except ValidationError as exc:
        return _failed(exc, decline={ticket_id: {"value": reason,
                                                 "message": exc.fields.get("reason", exc.message)}})
    except DomainError as exc:
        return _failed(exc)
    return _done(ticket_id, _("Declined %(number)s. The dispatcher has been told.", number=number))


@bp.post("/tickets/<ticket_id>/arrive")
@technician_required
def arrive(ticket_id):
    """"I'm on site": the arrival time and, when the phone gave a position, the
    distance from the branch (a warning past ARRIVAL_RADIUS_M, never a refusal)."""
    try:
        ticket = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
        latitude, longitude = tickets.parse_arrival(arrival_data(request.form))
        result = tickets.arrive(ticket, current_user, latitude, longitude, current_app.config["ARRIVAL_RADIUS_M"])
    except DomainError as exc:
        return _failed(exc)
    distance = result["distance"]
    if distance is None:
        return _done(ticket.id, _("Arrival at %(branch)s recorded (your location was not available).",
                                  branch=ticket.branch.branch_name))
    if result["farAway"]:
        return _done(ticket.id, _("Arrival recorded, but you are %(distance)s from %(branch)s — more than "
                                  "%(radius)s. The dispatcher will see the distance.",
                                  distance=distance_text(distance), branch=ticket.branch.branch_name,
                                  radius=distance_text(current_app.config["ARRIVAL_RADIUS_M"])), kind="warn")
    return _done(ticket.id, _("Arrival recorded: %(distance)s from %(branch)s.", distance=distance_text(distance),
                              branch=ticket.branch.branch_name))


@bp.post("/location")
@technician_required
def location():
    """The phone's position, sent by the page after the technician allowed it
    (on opening the queue, on accepting, and at most once a minute)."""
    technician = db.session.get(Technician, current_user.technician_id) if current_user.technician_id else None
    try:
        if technician is None:
            raise NotFound(_("No technician profile is linked to this account"))
        technicians.update_technician(current_user, technician, location_data(request))
    except DomainError as exc:
        return _plain(exc.message, exc.status)
    return "", 204


# --- one ticket -----------------------------------------------------------------

@bp.get("/tickets/<ticket_id>")
@login_required
def ticket(ticket_id):
    """Moved: the one ticket page is /tickets/<id> (with Accept, On site, Complete)."""
    return moved(ticket_id)


# --- completing the job ---------------------------------------------------------

@bp.route("/tickets/<ticket_id>/complete", methods=["GET", "POST"])
@technician_required
def complete(ticket_id):
    """Work, labour, parts and photos -> a completion for the store manager to approve.
    Errors come back inline with everything that was typed."""
    t = tickets.load_readable_ticket(current_user, ticket_id, for_update=request.method == "POST")
    default_rate = tech_workspace.default_labor_rate(t)  # set by the office, not typed here
    form, errors, status = CompletionForm(), {}, 200
    if request.method == "POST":
        form = CompletionForm.from_request(request.form)
        try:
            completions.complete(t, current_user, form.data(), default_rate)
        except ValidationError as exc:
            errors, status = form_errors(exc=exc), 422
            form.attach_errors(errors)
        else:
            flash(_("%(number)s is submitted and waiting for the store manager's approval.", number=t.ticket_number))
            if request.headers.get("X-Complete-Draft"):
                # tech.js sent it: it clears the phone's draft, then opens the queue.
                response = make_response("", 200)
                response.headers["X-Completed"] = url_for("technician.dashboard")
                return response
            return redirect(url_for("technician.dashboard"), 303)
    draft = tech_workspace.completion_draft(current_user, t)
    if request.method == "GET" and draft.prefill:  # "Complete again": start from the sent-back work
        form = CompletionForm.from_data(draft.prefill)
    totals = completions.preview_totals(form.data(), default_rate)
    return render_template("technician/complete.html", draft=draft, form=form, totals=totals, errors=errors,
                           store_photos=[p for p in draft.photos if p.id not in draft.own_photo_ids],
                           own_photos=[p for p in draft.photos if p.id in draft.own_photo_ids]), status


@bp.post("/tickets/<ticket_id>/totals")
@technician_required
def totals(ticket_id):
    """The running total of the form as typed, computed here (htmx swaps it in)."""
    t = tickets.load_readable_ticket(current_user, ticket_id)
    form = CompletionForm.from_request(request.form)
    result = completions.preview_totals(form.data(), tech_workspace.default_labor_rate(t))
    return render_template("technician/partials/_totals.html", totals=result)


@bp.get("/tickets/<ticket_id>/parts/new")
@technician_required
def part_row(ticket_id):
    """An empty parts row, appended in place by htmx."""
    tickets.load_readable_ticket(current_user, ticket_id)
    return render_template("technician/partials/_part_row.html", row=PartRow(key=new_row_key()), autofocus=True)


@bp.post("/tickets/<ticket_id>/photos")
@technician_required
def upload_photo(ticket_id):
    """One photo (multipart `file`, `type`, `caption`) -> its thumbnail fragment, 201.
    A refusal answers a short plain-text reason the upload script shows on the photo.
    The ticket is locked, as by the API, so a photo cannot slip in beside a completion
    being submitted at the same moment."""
    try:
        t = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
        upload = request.files.get("file")
        if upload is None:
            raise ValidationError(_("Choose a photo to upload."), {"file": _("Choose a photo.")})
        photo = photos.add_photo(t, current_user, upload.read(current_app.config["PHOTO_MAX_BYTES"] + 1),
                                 request.form.get("type", ""), request.form.get("caption") or None,
                                 upload.filename)
    except DomainError as exc:
        return _plain(exc.message, exc.status)
    return render_template("technician/partials/_photo.html", photo=photo), 201


@bp.delete("/tickets/<ticket_id>/photos/<photo_id>")
@technician_required
def delete_photo(ticket_id, photo_id):
    """Remove a photo not yet submitted (htmx swaps its thumbnail away)."""
    t = tickets.load_readable_ticket(current_user, ticket_id, for_update=True)
    photos.remove_photo(t, photo_id, current_user)
    return "", 200


def _plain(message: str, status: int):
    return message, status, {"Content-Type": "text/plain; charset=utf-8"}
