"""API: the caller's in-app notifications. The contract (API.md, "Notifications"):
"`GET /api/notifications?unread=true` → the caller's in-app notifications `{items: [{id,
ticketId, kind, title, body, createdAt, readAt}], nextCursor}`; `POST
/api/notifications/{id}/read`; `POST /api/notifications/read-all`.

Extended compatibly (docs/notifications.md): each item also carries `stale` (true for a
technician's "assigned to you" or escalation whose ticket was since given to someone
else: its actions no longer apply) and `ticketNumber`."""
from __future__ import annotations

from flask import jsonify, request

from app.blueprints.api import api_user, bp, paged
from app.services import notifications
from app.services.timefmt import iso_utc

_TRUE = {"1", "true", "yes", "on"}


def notification_json(n, user) -> dict:
    return {
        "id": n.id, "ticketId": n.ticket_id, "kind": n.kind, "title": n.title, "body": n.body,
        "createdAt": iso_utc(n.created_at), "readAt": iso_utc(n.read_at),
        "ticketNumber": n.ticket.ticket_number if n.ticket is not None else None,
        "stale": notifications.is_stale(user, n, n.ticket),
    }


@bp.get("/notifications")
def list_notifications():
    """The caller's in-app notifications, newest first; `?unread=true` for unread only."""
    me = api_user()
    unread = request.args.get("unread", "").strip().lower() in _TRUE
    return paged(lambda limit, cursor: notifications.list_in_app(me, unread_only=unread, limit=limit, cursor=cursor),
                 lambda n: notification_json(n, me))


@bp.post("/notifications/<notification_id>/read")
def read_notification(notification_id):
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    me = api_user()
    return jsonify(notification_json(notifications.mark_read(me, notification_id), me))


@bp.post("/notifications/read-all")
def read_all_notifications():
    """Mark all of the caller's notifications read."""
    return jsonify({"updated": notifications.mark_all_read(api_user())})
