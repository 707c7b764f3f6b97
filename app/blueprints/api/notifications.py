"""API: the caller's in-app notifications. The contract (API.md, "Notifications"):
"`GET /api/notifications?unread=true` → the caller's in-app notifications `{items: [{id,
ticketId, kind, title, body, createdAt, readAt}], nextCursor}`; `POST
/api/notifications/{id}/read`; `POST /api/notifications/read-all`."""
from __future__ import annotations

from flask import jsonify, request

from app.blueprints.api import api_user, bp, encode_cursor, page_params
from app.services import notifications
from app.services.timefmt import iso_utc

_TRUE = {"1", "true", "yes", "on"}


def notification_json(n) -> dict:
    return {
        "id": n.id, "ticketId": n.ticket_id, "kind": n.kind, "title": n.title, "body": n.body,
        "createdAt": iso_utc(n.created_at), "readAt": iso_utc(n.read_at),
    }


@bp.get("/notifications")
def list_notifications():
    """The caller's in-app notifications, newest first; `?unread=true` for unread only."""
    limit, cursor = page_params()
    unread = request.args.get("unread", "").strip().lower() in _TRUE
    rows, next_cursor = notifications.list_in_app(api_user(), unread_only=unread, limit=limit, cursor=cursor)
    return jsonify({"items": [notification_json(n) for n in rows],
                    "nextCursor": encode_cursor(next_cursor) if next_cursor else None})


@bp.post("/notifications/<notification_id>/read")
def read_notification(notification_id):
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    return jsonify(notification_json(notifications.mark_read(api_user(), notification_id)))


@bp.post("/notifications/read-all")
def read_all_notifications():
    """Mark all of the caller's notifications read."""
    return jsonify({"updated": notifications.mark_all_read(api_user())})
