"""Pages for people without an account: reporting a fault by a unit's QR code (/r/<token>)."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from app.blueprints.public import routes  # noqa: E402,F401
