"""The ticket page: one URL for every role that may read the ticket. The service
(services/ticket_page.py) decides what the role sees and may do; this draws it.

The actions keep their own endpoints: the dispatcher's forms post to
/tickets/<id>/{assign,priority,notes,close} (dispatcher blueprint, which redraws this
page with a refused form's errors), the technician's to /tech/tickets/<id>/...,
approval has its own screen (/tickets/<id>/approve) and so has completing the job
(/tech/tickets/<id>/complete).
"""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.blueprints.dispatcher import forms as F
from app.blueprints.tickets import bp
from app.services import ticket_page, ticket_queries, tickets
from app.web import home_for


@bp.context_processor
def _helpers():
    """The technician's card on this page needs the technician pages' helpers."""
    from app.blueprints.technician.routes import distance_text, plain_number

    return {"distance_text": distance_text, "num": plain_number}


def page_response(ticket_id: str, status: int = 200, *, submitted=None, errors=None):
    """The page of `ticket_id` for the current user. `submitted` is (section, form) of
    a dispatcher form that failed: it is shown as typed, with its `errors`."""
    ticket = ticket_page.load_ticket(current_user, ticket_id)
    page = ticket_page.build(current_user, ticket)
    forms, section = {}, None
    if page.actions.staff:
        version = {"version": ticket.version}
        forms = {
            "assign": F.AssignForm(formdata=None, data=version),
            "priority": F.PriorityForm(formdata=None, data={**version, "priority": ticket.priority.value}),
            "notes": F.NotesForm(formdata=None, data={**version, "internalNotes": ticket.internal_notes or ""}),
            "close": F.CloseForm(formdata=None, data=version),
        }
        if submitted is not None:
            section, form = submitted
            forms[section] = form
            form.version.data = ticket.version  # a retry carries the version on screen now
    return render_template("tickets/page.html", page=page, t=ticket, forms=forms, errors=errors or {},
                           error_section=section, home=home_for(current_user),
                           created=bool(request.args.get("created"))), status


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


def moved(ticket_id: str):
    """An old ticket URL: the same page now lives at /tickets/<id> (query kept)."""
    return redirect(url_for("tickets.page", ticket_id=ticket_id, **request.args), 308)
