"""Ticket photos and completion signatures as images, for the pages (the API serves the
same files under /api with a bearer token). Who may read them is the services' rule:
`photos.photo_file` and `completions.signature_png`."""
from flask import Blueprint

bp = Blueprint("files", __name__)

from app.blueprints.files import routes  # noqa: E402,F401
