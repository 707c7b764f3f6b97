"""Equipment outside the JSON API: the unit's QR code (`qrUrl`). The pages helper adds the
equipment pages here."""
from flask import Blueprint

bp = Blueprint("equipment", __name__)

from app.blueprints.equipment import pages, routes  # noqa: E402,F401
