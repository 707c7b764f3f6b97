"""POST/DELETE /api/auth/token."""
from flask import g, jsonify

from app.blueprints.api import bp, json_body
from app.blueprints.api.serializers import user as user_json
from app.ratelimit import login_limits
from app.services import users


@bp.post("/auth/token")
@login_limits()
def create_token():
    """Exchange email and password for a bearer token."""
    email, password = users.parse_credentials(json_body())
    user = users.authenticate(email, password)
    token = users.issue_token(user)
    u = user_json(user)
    return jsonify({"token": token, "user": {k: u[k] for k in ("id", "email", "name", "role")}})


@bp.delete("/auth/token")
def revoke_token():
    """Revoke the calling token."""
    users.revoke_token(g.api_token)
    return "", 204
