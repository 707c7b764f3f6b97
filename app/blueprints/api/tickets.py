"""Tickets: list, create, detail, timeline, PATCH, the technician's actions and photos."""

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _

from app.blueprints.api import api_user, bp, json_body, paged
from app.blueprints.api import serializers as s
from app.models import TicketSource, TokenKind
from app.services import pauses, photos, ticket_queries, tickets
from app.web import private_image
from app.services.errors import UnsupportedMedia


@bp.get("/tickets")
def list_tickets():
    """Tickets the caller may read, newest first, filtered and keyset-paginated."""
    user = api_user()
    return paged(lambda limit, cursor: ticket_queries.ticket_page(
        user, ticket_queries.parse_filters(request.args), limit, cursor), lambda t: s.ticket(t, user))


@bp.post("/tickets")
def create_ticket():
    """A new ticket, numbered and auto-assigned."""
    user = api_user()
    # Another system's account (a service token: the CRM, the bot) makes API tickets; a
    # person's own token makes what their role makes on the pages (tickets.source_for).
    source = TicketSource.API if g.api_token is not None and g.api_token.kind == TokenKind.SERVICE else None
    ticket = tickets.create_ticket(user, json_body(), source=source)
    return jsonify(s.ticket(ticket, user)), 201


@bp.get("/tickets/<ticket_id>")
def get_ticket(ticket_id):
    user = api_user()
    return jsonify(s.ticket(tickets.load_readable_ticket(user, ticket_id), user))


@bp.get("/tickets/<ticket_id>/events")
def ticket_events(ticket_id):
    """The ticket's timeline, oldest first."""
    user = api_user()
    ticket = tickets.load_readable_ticket(user, ticket_id)
    return paged(lambda limit, cursor: ticket_queries.event_page(user, ticket, limit, cursor), s.event)


@bp.patch("/tickets/<ticket_id>")
def patch_ticket(ticket_id):
    """status / assignedTechnicianId / priority / notes, with an optional `version`."""
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
    return jsonify(s.ticket(tickets.decline(ticket, data.get("reason"), user), user))


@bp.post("/tickets/<ticket_id>/arrive")
def arrive(ticket_id):
    """The assigned technician is on site (optionally with their coordinates)."""
    user = api_user()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    lat, lon = tickets.parse_arrival(json_body() if request.content_length else {})
    result = tickets.arrive(ticket, user, lat, lon, current_app.config["ARRIVAL_RADIUS_M"])
    body = s.ticket(result["ticket"], user)
    body["arrivalDistanceMeters"] = result["distance"]
    body["farFromBranch"] = result["farAway"]
    return jsonify(body)


@bp.post("/tickets/<ticket_id>/pause")
def pause_ticket(ticket_id):
    """Pause the resolution clock: `{reason, note?, version?}` (API.md, "Pausing the resolution clock")."""
    user = api_user()
    data = json_body()
    ticket = pauses.pause(ticket_id, user, data.get("reason"), data.get("note"), data.get("version"))
    return jsonify(s.ticket(ticket, user))


@bp.post("/tickets/<ticket_id>/resume")
def resume_ticket(ticket_id):
    """Resume the resolution clock: the due time moves later by the paused working time."""
    user = api_user()
    data = json_body() if request.content_length else {}
    ticket = pauses.resume(ticket_id, user, data.get("version"))
    return jsonify(s.ticket(ticket, user))


@bp.post("/tickets/<ticket_id>/photos")
def upload_photo(ticket_id):
    """multipart `file` + `type` (before|after|work) + `caption?`."""
    user = api_user()
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMedia(_("Send the photo as multipart/form-data"), {"file": _("Choose a photo.")})
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    upload = request.files.get("file")
    data = upload.read(current_app.config["PHOTO_MAX_BYTES"] + 1) if upload is not None else None
    photo = photos.add_photo(ticket, user, data, request.form.get("type", ""), request.form.get("caption"),
                             upload.filename if upload is not None else None)
    return jsonify(s.photo(photo)), 201


@bp.delete("/tickets/<ticket_id>/photos/<photo_id>")
def delete_photo(ticket_id, photo_id):
    user = api_user()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    photos.remove_photo(ticket, photo_id, user)
    return "", 204


@bp.get("/photos/<photo_id>")
def photo_file(photo_id):
    """The image itself (`?size=thumb` for the thumbnail), for anyone who may read its ticket."""
    return private_image(*photos.photo_file(api_user(), photo_id, request.args.get("size")))
