"""POST/DELETE /api/auth/token."""
from flask import current_app, g, jsonify

from app.blueprints.api import bp, json_body
from app.blueprints.api.serializers import user as user_json
from app.extensions import limiter
from app.ratelimit import login_account_key, login_failed
from app.services import users


@bp.post("/auth/token")
@limiter.limit(lambda: current_app.config["LOGIN_FAILS_PER_ADDRESS"], deduct_when=login_failed)
@limiter.limit(lambda: current_app.config["LOGIN_FAILS_PER_ACCOUNT"], key_func=login_account_key,
               deduct_when=login_failed)
def create_token():
    """Exchange email and password for a bearer token."""
    data = json_body()
    user = users.authenticate(data.get("email"), data.get("password"))
    token = users.issue_token(user)
    u = user_json(user)
    return jsonify({"token": token, "user": {k: u[k] for k in ("id", "email", "name", "role")}})


@bp.delete("/auth/token")
def revoke_token():
    """Revoke the calling token."""
    users.revoke_token(g.api_token)
    return "", 204
