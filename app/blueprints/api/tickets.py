"""Tickets: list, create, detail, timeline, PATCH and the technician's actions."""
from flask import current_app, jsonify, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.blueprints.api import api_user, bp, encode_cursor, json_body, page_params
from app.blueprints.api import serializers as s
from app.extensions import db
from app.models import TicketEvent, TicketPhoto
from app.services import access, photos, ticket_queries, tickets
from app.services.errors import NotFound, ValidationError
from app.services.validation import Fields


@bp.get("/tickets")
def list_tickets():
    user = api_user()
    limit, cursor = page_params()
    filters = ticket_queries.parse_filters(request.args)
    rows, next_cursor = ticket_queries.ticket_page(user, filters, limit, cursor)
    return jsonify({"items": [s.ticket(t, user) for t in rows],
                    "nextCursor": encode_cursor(next_cursor) if next_cursor else None})


@bp.post("/tickets")
def create_ticket():
    user = api_user()
    if not (access.is_staff(user) or user.role.value == "store_manager"):
        access.require_staff(user)
    ticket = tickets.create_ticket(user, json_body())
    return jsonify(s.ticket(ticket, user)), 201


@bp.get("/tickets/<ticket_id>")
def get_ticket(ticket_id):
    user = api_user()
    return jsonify(s.ticket(tickets.load_readable_ticket(user, ticket_id), user))


@bp.get("/tickets/<ticket_id>/events")
def ticket_events(ticket_id):
    user = api_user()
    ticket = tickets.load_readable_ticket(user, ticket_id)
    limit, cursor = page_params()
    stmt = (select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
            .options(selectinload(TicketEvent.actor)).order_by(TicketEvent.at, TicketEvent.id))
    offset = 0
    if cursor:
        offset = cursor.get("offset", 0)
        if not isinstance(offset, int) or offset < 0:
            raise ValidationError("Invalid cursor", {"cursor": "Invalid cursor."})
    rows = list(db.session.execute(stmt.offset(offset).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"items": [s.event(e) for e in rows],
                    "nextCursor": encode_cursor({"offset": offset + limit}) if more else None})


@bp.patch("/tickets/<ticket_id>")
def patch_ticket(ticket_id):
    user = api_user()
    data = json_body()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    return jsonify(s.ticket(tickets.patch(ticket, data, user), user))


@bp.post("/tickets/<ticket_id>/accept")
def accept_ticket(ticket_id):
    user = api_user()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    return jsonify(s.ticket(tickets.accept(ticket, user), user))


@bp.post("/tickets/<ticket_id>/decline")
def decline_ticket(ticket_id):
    user = api_user()
    data = json_body()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError("reason must be text", {"reason": "Must be text."})
    return jsonify(s.ticket(tickets.decline(ticket, reason, user), user))


@bp.post("/tickets/<ticket_id>/arrive")
def arrive(ticket_id):
    user = api_user()
    data = json_body() if request.content_length else {}
    f = Fields(data)
    lat = f.floating("latitude", min_value=-90, max_value=90)
    lon = f.floating("longitude", min_value=-180, max_value=180)
    f.check()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    result = tickets.arrive(ticket, user, lat, lon, current_app.config["ARRIVAL_RADIUS_M"])
    body = s.ticket(result["ticket"], user)
    body["arrivalDistanceMeters"] = result["distance"]
    body["farFromBranch"] = result["farAway"]
    return jsonify(body)


@bp.post("/tickets/<ticket_id>/photos")
def upload_photo(ticket_id):
    user = api_user()
    ticket = tickets.load_readable_ticket(user, ticket_id)
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("Attach the photo as the multipart field 'file'", {"file": "Choose a photo."})
    caption = request.form.get("caption")
    photo = photos.add_photo(ticket, user, upload.read(current_app.config["PHOTO_MAX_BYTES"] + 1),
                             request.form.get("type", ""), caption, upload.filename)
    return jsonify(s.photo(photo)), 201


@bp.delete("/tickets/<ticket_id>/photos/<photo_id>")
def delete_photo(ticket_id, photo_id):
    user = api_user()
    ticket = tickets.load_readable_ticket(user, ticket_id)
    photos.remove_photo(ticket, photo_id, user)
    return "", 204


@bp.get("/photos/<photo_id>")
def photo_file(photo_id):
    """The image itself, for anyone who may read its ticket."""
    user = api_user()
    photo = db.session.get(TicketPhoto, photo_id) if len(photo_id) <= 64 else None
    if photo is None:
        raise NotFound("Photo not found")
    tickets.load_readable_ticket(user, photo.ticket_id)
    return photo_response(photo, request.args.get("size"))


def photo_response(photo: TicketPhoto, size: str | None):
    import io

    from app.services.storage import get_storage

    key = photo.thumb_key if size == "thumb" else photo.storage_key
    try:
        data = get_storage().get(key)
    except (FileNotFoundError, ValueError):
        raise NotFound("Photo file missing")
    resp = send_file(io.BytesIO(data), mimetype=photo.content_type, max_age=0)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
