"""The transaction edge: one commit per request, at its end; rollback on any error.

Services only flush. A request that ends in 2xx/3xx commits here; anything else
rolls back, so a failed request leaves nothing half-written.
"""
from __future__ import annotations

import logging

from flask_babel import gettext as _
from flask import request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app import transaction
from app.extensions import db

log = logging.getLogger(__name__)


def register_edge(app):
    @app.after_request
    def _commit(response):
        from app.errors import error_response

        if not db.session.registry.has():
            return response  # this request never opened a session: nothing to end
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
            transaction.run_committed()
        except (StaleDataError, IntegrityError) as exc:
            db.session.rollback()
            log.info("commit conflict on %s: %s", request.path, exc)
            resp, status = error_response(409, _("This was changed by someone else at the same time; please retry"))
            return _as_response(app, resp, status)
        except DataError as exc:
            db.session.rollback()
            log.info("commit refused a value on %s: %s", request.path, exc)
            resp, status = error_response(400, _("A value was not accepted; check what you sent"))
            return _as_response(app, resp, status)
        except OperationalError as exc:
            db.session.rollback()
            log.warning("commit failed on %s: %s", request.path, exc)
            resp, status = error_response(503, _("The database is busy or unavailable; please try again"))
            return _as_response(app, resp, status)
        return response

    @app.teardown_request
    def _teardown(exc):
        if exc is not None and db.session.registry.has():
            db.session.rollback()


def _as_response(app, body, status):
    resp = app.make_response(body)
    resp.status_code = status
    return resp


