"""/r/<token>: the page a unit's QR code opens (API.md, "Reporting by QR code").

No sign-in. It shows the unit's asset tag, name and branch name, and while the unit has
an open ticket, that ticket's number and status; nothing else of the company. Its one
form (no JavaScript needed) files a report: services/qr_reports.py decides whether it
opens a ticket or joins the open one. A signed-in store manager of the unit's branch
gets the usual new-ticket form with the unit chosen instead.

Rate limits (Flask-Limiter, as app/ratelimit.py): per token QR_REPORTS_PER_TOKEN (5 an
hour) accepted reports; per address QR_REPORTS_PER_ADDRESS (20 an hour) accepted reports
and unknown tokens (someone trying URLs). Then 429, a page saying when to try again.
"""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import BooleanField, StringField, TextAreaField

from app.blueprints.public import bp
from app.extensions import csrf, db, limiter
from app.models import Role
from app.services import access, equipment, qr_reports
from app.services.errors import ValidationError
from app.web import form_errors

DONE_KEY = "qr_reported"  # what the page says after the redirect: {token: (number, created)}


class QrReportForm(FlaskForm):
    """The CSRF token and what was typed (services/qr_reports.py checks the values)."""

    description = TextAreaField()
    subcategoryId = StringField()
    urgent = BooleanField()
    name = StringField()
    phone = StringField()

    def values(self) -> dict:
        return {"description": self.description.data, "subcategoryId": self.subcategoryId.data or None,
                "urgent": bool(self.urgent.data), "name": self.name.data, "phone": self.phone.data}


def _token_key() -> str:
    return "qr-token:" + str((request.view_args or {}).get("token", ""))[:64]


def _address_key() -> str:
    return "qr-address:" + (get_remote_address() or "")


def _accepted(response) -> bool:
    return response.status_code == 303


def _accepted_or_unknown(response) -> bool:
    return response.status_code in (303, 404)


per_token = limiter.limit(lambda: current_app.config["QR_REPORTS_PER_TOKEN"], key_func=_token_key,
                          methods=["POST"], deduct_when=_accepted)
per_address = limiter.limit(lambda: current_app.config["QR_REPORTS_PER_ADDRESS"], key_func=_address_key,
                            methods=["POST"], deduct_when=_accepted_or_unknown)


def _private(response):
    """The page holds the secret URL and a CSRF token: kept by nobody, indexed by nobody."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(unit, form, errors, status=200, done=None):
    response = current_app.make_response((render_template(
        "public/report.html", unit=unit, form=form, errors=errors, done=done,
        open_ticket=qr_reports.open_ticket(unit), choices=qr_reports.subcategory_choices(),
        default_subcategory=qr_reports.DEFAULT_SUBCATEGORY), status))
    return _private(response)


def _gone():
    db.session.rollback()
    return _private(current_app.make_response((render_template("public/gone.html"), 404)))


def _manager_of(unit) -> bool:
    return (current_user.is_authenticated and current_user.role == Role.STORE_MANAGER
            and unit.branch_id in access.branch_ids_of(current_user))


@bp.route("/r/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below, after the limits have seen the post (as the sign-in page)
@per_address
@per_token
def report(token):
    unit = equipment.equipment_by_report_token(token)
    if unit is None:
        return _gone()
    if _manager_of(unit):
        # The usual form, this unit chosen (in the served HTML: no JavaScript needed).
        return redirect(url_for("store.new_ticket", equipment=unit.id))
    if request.method == "GET":
        done = (session.get(DONE_KEY) or {}).pop(token, None)
        if done is not None:
            session.modified = True
        return _page(unit, QrReportForm(formdata=None), {}, done=done)

    form = QrReportForm(formdata=request.form, meta={"csrf": False})
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            csrf.protect()
        except CSRFError:
            return _page(unit, form, {"_form": _("This form expired. Please send it again.")}, 400)
    try:
        outcome = qr_reports.report(unit, form.values())
    except ValidationError as exc:
        db.session.rollback()
        return _page(unit, form, form_errors(exc=exc), exc.status)
    number = outcome.ticket.ticket_number  # the request's edge commits (app/edge.py)
    done = dict(session.get(DONE_KEY) or {})
    done = {k: v for k, v in list(done.items())[-4:]}  # a few at most (one phone, a few labels)
    done[token] = [number, outcome.created]
    session[DONE_KEY] = done
    return redirect(url_for("public.report", token=token), code=303)


@bp.errorhandler(429)
def _too_many(exc):
    db.session.rollback()
    response = current_app.make_response((render_template("public/slow.html"), 429))
    return _private(response)
