"""Technician workspace on the phone (/tech/...)."""
from flask import Blueprint

bp = Blueprint("technician", __name__, url_prefix="/tech")

from app.blueprints.technician import routes  # noqa: E402,F401
