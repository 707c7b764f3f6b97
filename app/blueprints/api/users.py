"""Users: admins create and manage; everyone reads and edits their own contact settings."""
from flask import jsonify

from app.blueprints.api import api_user, bp, encode_cursor, json_body, page_params
from app.blueprints.api import serializers as s
from app.services import access, users


@bp.post("/users")
def create_user():
    access.require_admin(api_user())
    return jsonify(s.user(users.create_user(json_body()))), 201


@bp.get("/users")
def list_users():
    """All users by email (admins only), paginated."""
    limit, cursor = page_params()
    rows, next_cursor = users.user_page(api_user(), limit, cursor)
    return jsonify({"items": [s.user(u) for u in rows],
                    "nextCursor": encode_cursor(next_cursor) if next_cursor else None})


@bp.get("/users/me")
def me():
    return jsonify(s.user(api_user()))


@bp.patch("/users/me")
def update_me():
    """The caller's own contact settings."""
    return jsonify(s.user(users.update_contact(api_user(), json_body())))


@bp.get("/users/<user_id>")
def get_user(user_id):
    access.require_admin(api_user())
    return jsonify(s.user(users.get_user(user_id)))


@bp.patch("/users/<user_id>")
def update_user(user_id):
    admin = api_user()
    access.require_admin(admin)
    return jsonify(s.user(users.update_contact(users.get_user(user_id), json_body(), by_admin=True, actor=admin)))
