"""Users: admins create and manage; everyone reads and edits their own contact settings
and changes their own password. Tokens: docs/tokens.md."""
from flask import jsonify

from app.blueprints.api import api_user, bp, json_body, paged
from app.blueprints.api import serializers as s
from app.ratelimit import login_limits, password_guess_failed, signed_in_account_key
from app.services import access, users
from app.services.errors import WrongPassword


@bp.post("/users")
def create_user():
    access.require_admin(api_user())
    return jsonify(s.user(users.create_user(json_body()))), 201


@bp.get("/users")
def list_users():
    """All users by email (admins only), paginated."""
    user = api_user()
    return paged(lambda limit, cursor: users.user_page(user, limit, cursor), s.user)


@bp.get("/users/me")
def me():
    return jsonify(s.user(api_user()))


@bp.patch("/users/me")
def update_me():
    """The caller's own contact settings (a Telegram chat can be cleared here, not set)."""
    return jsonify(s.user(users.update_contact(api_user(), json_body())))


@bp.post("/users/me/password")
@login_limits(key_func=signed_in_account_key)  # a wrong current password counts as a failed sign-in
def change_my_password():
    """`{currentPassword, newPassword}` -> a new token; every earlier session and login token ends."""
    data = json_body()
    try:
        token = users.change_own_password(api_user(), data, new_token=True)
    except WrongPassword:
        password_guess_failed()
        raise
    return jsonify({"token": token})


@bp.get("/users/<user_id>")
def get_user(user_id):
    access.require_admin(api_user())
    return jsonify(s.user(users.get_user(user_id)))


@bp.patch("/users/<user_id>")
def update_user(user_id):
    admin = api_user()
    access.require_admin(admin)
    return jsonify(s.user(users.update_contact(users.get_user(user_id), json_body(), by_admin=True, actor=admin)))


@bp.post("/users/<user_id>/password")
def set_user_password(user_id):
    """An admin sets `{newPassword}`; the user's sessions and login tokens end."""
    admin = api_user()
    access.require_admin(admin)
    users.set_password(users.get_user(user_id), json_body(), actor=admin)
    return "", 204


@bp.delete("/users/<user_id>/tokens")
def revoke_user_tokens(user_id):
    """Every token of the user ends, service tokens included."""
    access.require_admin(api_user())
    users.revoke_all_tokens(users.get_user(user_id))
    return "", 204


@bp.post("/users/<user_id>/service-tokens")
def create_service_token(user_id):
    """`{name}` -> 201 `{id, name, token, createdAt}`; the token is shown only here."""
    access.require_admin(api_user())
    token, raw = users.create_service_token(users.get_user(user_id), json_body())
    return jsonify({**s.service_token(token, with_state=False), "token": raw}), 201


@bp.get("/users/<user_id>/service-tokens")
def list_service_tokens(user_id):
    """The user's service tokens, newest first, without the tokens (a bare array: a handful per user)."""
    access.require_admin(api_user())
    return jsonify([s.service_token(t) for t in users.service_tokens(users.get_user(user_id))])


@bp.delete("/users/<user_id>/service-tokens/<token_id>")
def revoke_service_token(user_id, token_id):
    access.require_admin(api_user())
    users.revoke_service_token(users.get_user(user_id), token_id)
    return "", 204
