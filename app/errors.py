"""Errors as JSON under /api and as pages elsewhere. Never a 500 for bad input."""
from __future__ import annotations

import logging

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import DomainError
from app.web import FORM_EXPIRED

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def error_response(status: int, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": str(message)}
        if fields:
            body["fields"] = fields
        response = jsonify(body)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response, status
    if status == 503:
        # The database is down: the normal frame (signed-in header, bell) would ask it
        # again and fail or wait again. This page needs nothing but its template.
        return _plain_page(status, message), status
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # noqa: BLE001  (the frame itself failed: still answer with a page)
        log.exception("the error page could not be rendered; answering with the plain one")
        _rollback_quietly()
        return _plain_page(status, message), status


_TITLES = {403: _l("Not allowed"), 404: _l("Not found"), 429: _l("Slow down"),
           503: _l("The service desk is temporarily unavailable")}


def _plain_page(status: int, message: str) -> str:
    retry_url = request.full_path.rstrip("?") if request.method == "GET" else "/"
    # Straight from the Jinja environment: render_template would run the context
    # processors, and Flask-Login's loads the signed-in user from the database.
    template = current_app.jinja_env.get_template("errors/plain.html")
    from app import i18n

    return template.render(status=status, message=message, current_language=i18n.current,
                           title=str(_TITLES.get(status) or _("Something went wrong")),
                           retry_url=retry_url)


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (a connection that is gone has nothing to roll back)
        log.debug("rollback after a database failure failed", exc_info=True)


_HTTP_MESSAGES = {
    400: _l("Bad request"),
    401: _l("Sign in required"),
    403: _l("You are not allowed to do this"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    413: _l("The upload is too large"),
    415: _l("Unsupported media type"),
    429: _l("Too many attempts; please wait a moment and try again"),
}


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.fields)

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        db.session.rollback()
        return error_response(409, _("This ticket was changed by someone else; reload and try again"))

    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        db.session.rollback()
        log.info("integrity error: %s", exc.orig)
        return error_response(409, _("This conflicts with existing data"))

    @app.errorhandler(DataError)
    def _data(exc):
        # A value the database refuses (out of range, a NUL byte) is bad input, not a crash.
        db.session.rollback()
        log.info("data error: %s", exc.orig)
        return error_response(400, _("A value was not accepted; check what you sent"))

    @app.errorhandler(OperationalError)
    def _operational(exc):
        _rollback_quietly()
        log.warning("database unavailable: %s", exc.orig)
        response, status = error_response(503, _("The database is busy or unavailable; please try again"))
        response = app.make_response((response, status))
        response.headers["Retry-After"] = "30"
        return response

    def _refused_input(exc: Exception):
        # Backstop only: bad JSON is refused where it is parsed (app/json_input.py). These
        # three are what deep nesting, lone surrogates and huge numbers raise if some input
        # gets past that; whatever raised it, the transaction is rolled back, nothing was
        # written, and it is logged in full (at ERROR) so a bug of ours still gets seen.
        db.session.rollback()
        log.error("input refused late (%s) on %s %s", type(exc).__name__, request.method, request.path,
                  exc_info=exc)
        return error_response(400, _("A value was not accepted; check what you sent"))

    for kind in (RecursionError, UnicodeEncodeError, OverflowError):
        app.register_error_handler(kind, _refused_input)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        _rollback_quietly()
        message = str(_HTTP_MESSAGES[exc.code]) if exc.code in _HTTP_MESSAGES else exc.name
        if exc.code == 400 and exc.description and "CSRF" in str(exc.description):
            message = str(FORM_EXPIRED)
        # A 429 from the login throttle gets its Retry-After from Flask-Limiter's headers
        # (RATELIMIT_HEADERS_ENABLED), added to this response after the handler.
        return error_response(exc.code or 500, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        _rollback_quietly()
        log.exception("unhandled error")
        return error_response(500, _("Something went wrong on our side; it has been logged"))
