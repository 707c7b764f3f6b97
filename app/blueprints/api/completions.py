"""Completing the work and approving it."""

from flask import jsonify

from app.blueprints.api import api_user, bp, json_body
from app.blueprints.api import serializers as s
from app.services import completions, tech_workspace, tickets
from app.web import private_image


@bp.post("/tickets/<ticket_id>/complete")
def complete_ticket(ticket_id):
    """The assigned technician submits the work; costs are computed on the server."""
    user = api_user()
    data = json_body()
    ticket = tickets.load_readable_ticket(user, ticket_id, for_update=True)
    completion = completions.complete(ticket, user, data, tech_workspace.default_labor_rate(ticket))
    return jsonify(s.completion(completion)), 201


@bp.post("/completions/<completion_id>/approve")
def decide_completion(completion_id):
    """`{action: approve, signedBy, signature}` or `{action: reject, reason}`."""
    user = api_user()
    data = json_body()
    completion = completions.get_readable_completion(user, completion_id)
    return jsonify(s.completion(completions.decide(completion, user, data)))


@bp.get("/completions/<completion_id>/signature")
def signature_file(completion_id):
    """The signature PNG, for anyone who may read the ticket."""
    return private_image(completions.signature_png(api_user(), completion_id), "image/png")
