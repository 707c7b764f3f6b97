"""The JSON API (shared/spec/API.md). "Every other endpoint requires `Authorization: Bearer
<token>`; API auth never uses the session cookie." Errors are `{"error": "<human message>",
"fields": {...}?}`, "never a 500 for bad input; never an HTML error page under `/api`"."""
from __future__ import annotations

import base64
import json

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _

from app import json_input
from app.services.errors import NotFound, Unauthorized, ValidationError

bp = Blueprint("api", __name__)

# Endpoints that authenticate their own way (or not at all).
PUBLIC_ENDPOINTS = {"api.create_token", "api.cron_escalate", "api.telegram_webhook"}


@bp.before_request
def _authenticate():
    g.api_user = None
    g.api_token = None
    if "\x00" in request.path:  # no id contains NUL (and PostgreSQL could not compare it)
        raise NotFound(_("Not found"))
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    from app.services.users import token_use_due, user_for_token

    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized(_("A bearer token is required"))
    found = user_for_token(raw.strip())
    if found is None:
        raise Unauthorized(_("Invalid, expired or revoked token"))
    g.api_user, g.api_token = found
    if token_use_due(g.api_token):
        from app.transaction import on_commit

        on_commit(_stamp_token_use(g.api_token.id))
    return None


def _stamp_token_use(token_id: str):
    """A service token's lastUsedAt, written in its own small transaction after the
    request's (on SQLite a read-only request must not turn into a writer mid-way)."""

    app = current_app._get_current_object()

    def stamp():
        from sqlalchemy.exc import SQLAlchemyError

        from app.extensions import db
        from app.services.users import note_token_use

        # A session of its own (a new app context): the request's has just committed.
        with app.app_context():
            try:
                note_token_use(token_id)
                db.session.commit()
            except SQLAlchemyError:  # a busy database costs us a timestamp, never the answer
                db.session.rollback()
                app.logger.warning("could not record the use of token %s", token_id, exc_info=True)
            finally:
                db.session.remove()

    return stamp


def api_user():
    return g.api_user


def json_body() -> dict:
    """The request's JSON object, or a 400/415 that says what is wrong."""
    if not request.is_json:
        from app.services.errors import UnsupportedMedia

        raise UnsupportedMedia(_("Send JSON with Content-Type: application/json"))
    data = request.get_json()  # refused JSON (too deep, a lone surrogate, a huge number) is a 400 that says why
    if not isinstance(data, dict):
        raise ValidationError(_("The body must be a JSON object"))
    return data


def page_params() -> tuple[int, dict | None]:
    cfg = current_app.config
    raw_limit = request.args.get("limit", "")
    try:
        limit = int(raw_limit) if raw_limit else cfg["API_PAGE_DEFAULT"]
    except ValueError:
        raise ValidationError(_("limit must be a whole number"), {"limit": _("Must be a whole number.")})
    if limit < 1 or limit > cfg["API_PAGE_MAX"]:
        raise ValidationError(_("limit must be between 1 and %(max)s", max=cfg["API_PAGE_MAX"]),
                              {"limit": _("Between 1 and %(max)s.", max=cfg["API_PAGE_MAX"])})
    cursor = request.args.get("cursor")
    return limit, decode_cursor(cursor) if cursor else None


def paged(fetch, serialize):
    """One page of a keyset-paginated list (API.md, "Pagination"): `fetch(limit, cursor)`
    returns the rows and the next cursor's values (None on the last page); the answer is
    `{items, nextCursor}`. `limit` and `cursor` are read (and refused) first."""
    limit, cursor = page_params()
    rows, next_cursor = fetch(limit, cursor)
    return jsonify({"items": [serialize(row) for row in rows],
                    "nextCursor": encode_cursor(next_cursor) if next_cursor else None})


def encode_cursor(values: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json_input.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(value, dict):
            raise ValueError
        return value
    except ValueError:  # also bad base64, UTF-8 and JSON, and what json_input refuses
        raise ValidationError(_("Invalid cursor"), {"cursor": _("Invalid cursor.")})


from app.blueprints.api import (  # noqa: E402,F401
    analytics,
    auth,
    calendars,
    completions,
    cron,
    equipment,
    notifications,
    reference,
    technicians,
    telegram,
    tickets,
    users,
)
