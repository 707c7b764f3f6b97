"""Completing the work and approving it."""
from decimal import Decimal

from flask import current_app, jsonify, send_file

from app.blueprints.api import api_user, bp, json_body
from app.blueprints.api import serializers as s
from app.services import access, completions, tickets
from app.services.errors import NotFound


@bp.post("/tickets/<ticket_id>/complete")
def complete_ticket(ticket_id):
    user = api_user()
    data = json_body()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    completion = completions.complete(ticket, user, data, Decimal(current_app.config["DEFAULT_LABOR_RATE"])
                                      if "laborCostPerHour" not in data else None)
    return jsonify(s.completion(completion)), 201


@bp.post("/completions/<completion_id>/approve")
def decide_completion(completion_id):
    user = api_user()
    data = json_body()
    completion = completions.get_completion(completion_id)
    access.require_read_ticket(user, completion.ticket)
    return jsonify(s.completion(completions.decide(completion, user, data)))


@bp.get("/completions/<completion_id>/signature")
def signature_file(completion_id):
    import io

    from app.services.storage import get_storage

    user = api_user()
    completion = completions.get_completion(completion_id)
    access.require_read_ticket(user, completion.ticket)
    if not completion.signature_key:
        raise NotFound("No signature")
    return send_file(io.BytesIO(get_storage().get(completion.signature_key)), mimetype="image/png")
