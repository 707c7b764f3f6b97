"""Dispatcher workspace: live board, ticket pages, management pages."""
from flask import Blueprint

bp = Blueprint("dispatcher", __name__)

from app.blueprints.dispatcher import calendars, routes  # noqa: E402,F401
