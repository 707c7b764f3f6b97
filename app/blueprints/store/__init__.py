"""Store manager workspace (/store, approval, service report)."""
from flask import Blueprint

bp = Blueprint("store", __name__)

from app.blueprints.store import routes  # noqa: E402,F401
