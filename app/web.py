"""Everything the HTML pages share: the user loader, template helpers, headers,
the page-or-partial choice, and the home redirect by role."""
from __future__ import annotations

import io
import json

from flask import Flask, g, has_request_context, redirect, render_template, request, send_file, url_for
from werkzeug.datastructures import Headers
from flask_babel import get_translations, lazy_gettext as _l, lazy_ngettext
from flask_login import current_user, login_required

from app import signals
from app.extensions import db, login_manager
from app.models import Role, User
from app.models.enums import label as enum_label
from app.services import timefmt

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


_SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)
# Checked once here by Werkzeug (no newline, a valid name): every response then appends
# them as they are (`_headers`).
Headers([*_SECURITY_HEADERS, ("Cache-Control", "no-store")])


@login_manager.user_loader
def _load_user(token: str):
    """The session holds "<id>:<session_version>": a bumped version ends old sessions."""
    try:
        user_id, version = token.rsplit(":", 1)
        version = int(version)
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def is_htmx() -> bool:
    """htmx asks for a fragment to swap. Not when it restores history after a cache
    miss (the Back button): then it wants the whole page, or the tab shows a bare fragment."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render_page_or_partial(page: str, partial: str, **ctx):
    """One URL serves the page and, for htmx, just the fragment it swaps (is_htmx)."""
    return render_template(partial if is_htmx() else page, **ctx)


# Lazy: each page reads them in its reader's language (str() them for a plain str).
FORM_EXPIRED = _l("Your form expired; please reload the page and try again.")
STALE_PAGE = _l("This page is out of date; please reload it and try again.")


class WTFormsTranslations:
    """WTForms' own messages ("Not a valid choice.", "This field is required.") in the
    reader's language, from OUR catalogue: WTForms ships no Uzbek, and its Russian is
    not our glossary's. Flask-WTF hands this to every form (WTF_I18N_ENABLED, its
    default) once `register_web` installs it. WTForms formats the result itself (`%`),
    so this returns the raw translation, placeholders and all."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


# WTForms' built-in messages, listed so that `make translations` puts them in the
# catalogues (never read here: WTForms asks WTFormsTranslations for them by their text).
WTFORMS_MESSAGES = (
    _l("This field is required."), _l("Not a valid choice."), _l("Invalid Choice: could not coerce."),
    _l("Not a valid integer value."), _l("Not a valid decimal value."), _l("Not a valid float value."),
    _l("Not a valid date value."), _l("Not a valid datetime value."), _l("Not a valid time value."),
    _l("Not a valid week value."), _l("Invalid email address."), _l("Invalid input."), _l("Invalid URL."),
    _l("Field must be equal to %(other_name)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 1),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 1),
    lazy_ngettext("Field must be exactly %(max)d character long.",
                  "Field must be exactly %(max)d characters long.", 1),
    _l("Number must be at least %(min)s."), _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."), _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("Invalid value, must be one of: %(values)s."), _l("Invalid value, can't be any of: %(values)s."),
    _l("This field is disabled and cannot have a value."), _l("This field cannot be edited."),
    _l("CSRF token missing."), _l("CSRF token expired."), _l("Invalid CSRF Token."), _l("CSRF failed."),
)


class FormErrors(dict):
    """{field name: its one message}, and "_form" for the message above the form.
    `first` names the first field in error (the one to focus)."""

    first: str | None = None


def form_errors(form=None, exc=None, *, names: dict[str, str] | None = None,
                also: tuple[str, ...] = ()) -> FormErrors:
    """The one way a refused HTML form shows what is wrong, for every blueprint: the
    form's own checks first (WTForms: first message per field), then the service's
    `DomainError` fields (API names, renamed by `names` to the form's) and its message
    above the form; an expired CSRF token says so; a
    message about a field the page does not draw (a hidden version) says the page is
    stale (`also`: fields the page draws by hand, photos say). The template side is
    `partials/_forms.html` (field, check, form_alert)."""
    out = FormErrors()
    names = names or {}
    form_errs = getattr(form, "errors", None) or {}
    for name, msgs in form_errs.items():
        if name == "csrf_token":
            out["_form"] = str(FORM_EXPIRED)
        elif msgs:
            out[name] = str(msgs[0] if isinstance(msgs, (list, tuple)) else msgs)
    if exc is not None:
        for name, message in getattr(exc, "fields", {}).items():
            out.setdefault(names.get(name, name), message)
        out.setdefault("_form", exc.message)  # the service's own summary ("The signature is blank")
    if form is not None and hasattr(form, "_fields"):
        drawn = [n for n, f in form._fields.items() if f.type not in ("HiddenField", "CSRFTokenField")]
        drawn += list(also)
        if any(n != "_form" and n not in drawn for n in out):
            out["_form"] = str(STALE_PAGE)  # what it says cannot be fixed on this page
        out.first = next((n for n in drawn if n in out), None)
    else:
        out.first = next((n for n in out if n != "_form"), None)
    return out


def swap_in_place(response, swap: str = "outerHTML"):
    """A refused htmx action answered with a fragment to show where the action was (the
    queue with the reason inline): the standard HX-Reswap header marks it, and app.js
    swaps it although its status is 4xx (the status still rolls the request back)."""
    response.headers["HX-Reswap"] = swap
    return response


def add_trigger(response, event: str, detail=True):
    """Add one htmx event to the response's HX-Trigger header, keeping those already
    there (a bare name, a comma list or JSON)."""
    current = response.headers.get("HX-Trigger")
    events = {}
    if current:
        if current.lstrip().startswith("{"):
            events = json.loads(current)
        else:
            events = {name.strip(): True for name in current.split(",") if name.strip()}
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


@signals.ticket_changed.connect
def _remember_changed_ticket(ticket_id, kinds=()):
    if has_request_context():
        g.setdefault("changed_tickets", {}).setdefault(ticket_id, []).extend(kinds)


def _announce_ticket_changes(response):
    """An htmx request that changed tickets answers with the event `ticketChanged`
    ({"ids": [...], "kinds": [...]}): the timeline, the queue, the store list and the
    phone's location sharing listen for it (`hx-trigger="ticketChanged from:body"`).
    The edge has committed by now; a refused or rolled-back request changed nothing."""
    changed = g.pop("changed_tickets", None)
    if changed and is_htmx() and response.status_code < 400:
        kinds = list(dict.fromkeys(k for ks in changed.values() for k in ks))
        add_trigger(response, "ticketChanged", {"ids": list(changed), "kinds": kinds})


def private_image(data: bytes, mimetype: str):
    """An image only its reader may see: kept by the browser, never by a shared cache."""
    resp = send_file(io.BytesIO(data), mimetype=mimetype, max_age=0)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


def home_for(user) -> str:
    if user.role in (Role.ADMIN, Role.DISPATCHER):
        return "/dispatcher/tickets"
    if user.role == Role.TECHNICIAN:
        return "/tech/dashboard"
    return "/store"


def contact_role(value: str | None) -> str:
    """A ticket's contact role as its reader says it: the app stores "Store Manager" for a
    store manager's own report (the plan's default); a role someone typed stays as typed."""
    if value and value.strip().lower().replace(" ", "_") == Role.STORE_MANAGER.value:
        return Role.STORE_MANAGER.label
    return value or ""


def register_web(app: Flask) -> None:
    import flask_wtf.form

    # Flask-WTF's forms ask this module global for their translations (WTF_I18N_ENABLED).
    flask_wtf.form.translations = WTFormsTranslations()
    app.jinja_env.filters["localtime"] = timefmt.local_str
    app.jinja_env.filters["zoned"] = timefmt.zoned  # a time with its zone: "7 Dec 14:25 UTC+5"
    app.jinja_env.filters["isotime"] = timefmt.iso_utc
    app.jinja_env.filters["money"] = timefmt.money
    app.jinja_env.filters["contact_role"] = contact_role
    app.jinja_env.filters["quantity"] = timefmt.quantity  # 1.5 -> "1,5" for a Russian reader
    app.jinja_env.filters["duration"] = timefmt.duration  # minutes in words: 1440 -> "1 day"
    app.jinja_env.filters["label"] = enum_label  # an enum's words: {{ t.status|label }}
    # Browsers ask for /favicon.ico on every page whatever the <link rel="icon"> says.
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: redirect(url_for("static", filename="favicon.svg"), 301))

    @app.context_processor
    def _ctx():
        return {"Role": Role, "app_timezone": app.config["APP_TIMEZONE"], "zone_label": timefmt.zone_label,
                "currency": app.config["CURRENCY"]}

    @app.after_request
    def _headers(response):
        # Every response pays for this: one pass over the headers it has, then the
        # missing ones added (not five setdefault scans).
        headers = response.headers
        present = {key.lower() for key in headers.keys()}
        missing = [(name, value) for name, value in _SECURITY_HEADERS if name.lower() not in present]
        # Pages and API answers are per user: never cached by shared caches. (No
        # current_user lookup here: the commit has expired it and it would cost a query.)
        if "cache-control" not in present and not request.path.startswith("/static/"):
            missing.append(("Cache-Control", "no-store"))
        if missing:
            # Constants, checked once (`_SECURITY_HEADERS` below passed Werkzeug's checks at
            # start-up): appended as they are, not validated again on every response.
            raw = getattr(headers, "_list", None)
            raw.extend(missing) if isinstance(raw, list) else headers.extend(missing)
        if "changed_tickets" in g:
            _announce_ticket_changes(response)
        return response

    from app.blueprints.account import bp as account_bp
    from app.blueprints.analytics import bp as analytics_bp
    from app.blueprints.dispatcher import bp as dispatcher_bp
    from app.blueprints.store import bp as store_bp
    from app.blueprints.technician import bp as technician_bp
    from app.blueprints.files import bp as files_bp
    from app.blueprints.tickets import bp as tickets_bp

    for blueprint in (tickets_bp, dispatcher_bp, technician_bp, store_bp, account_bp, analytics_bp, files_bp):
        app.register_blueprint(blueprint)

    @app.get("/")
    @login_required
    def index():
        return redirect(home_for(current_user))

    _ = url_for  # keep import for templates' helpers
