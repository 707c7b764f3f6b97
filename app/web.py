"""Everything the HTML pages share: the user loader, template helpers, headers,
the page-or-partial choice, and the home redirect by role."""
from __future__ import annotations

import io

from flask import Flask, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from app.extensions import db, login_manager
from app.models import Role, User
from app.models.enums import label as enum_label
from app.services import timefmt

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


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


def swap_in_place(response, swap: str = "outerHTML"):
    """A refused htmx action answered with a fragment to show where the action was (the
    queue with the reason inline): the standard HX-Reswap header marks it, and app.js
    swaps it although its status is 4xx (the status still rolls the request back)."""
    response.headers["HX-Reswap"] = swap
    return response


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


def register_web(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = timefmt.local_str
    app.jinja_env.filters["zoned"] = timefmt.zoned  # a time with its zone: "7 Dec 14:25 UTC+5"
    app.jinja_env.filters["isotime"] = timefmt.iso_utc
    app.jinja_env.filters["money"] = timefmt.money
    app.jinja_env.filters["duration"] = timefmt.duration  # minutes in words: 1440 -> "1 day"
    app.jinja_env.filters["label"] = enum_label  # an enum's words: {{ t.status|label }}

    @app.context_processor
    def _ctx():
        return {"Role": Role, "app_timezone": app.config["APP_TIMEZONE"], "zone_label": timefmt.zone_label,
                "currency": app.config["CURRENCY"]}

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Pages and API answers are per user: never cached by shared caches. (No
        # current_user lookup here: the commit has expired it and it would cost a query.)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
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
