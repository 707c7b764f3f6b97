"""Every signed-in user: notifications page, bell, profile (Telegram link, SMS settings)."""
from flask import Blueprint

bp = Blueprint("account", __name__)

from app.blueprints.account import routes  # noqa: E402,F401
