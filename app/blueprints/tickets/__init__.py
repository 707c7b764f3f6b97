"""The one ticket page (/tickets/<id>) every role that may read the ticket opens."""
from flask import Blueprint

bp = Blueprint("tickets", __name__)

from app.blueprints.tickets import routes  # noqa: E402,F401
