"""Routes."""
from app.blueprints.technician import bp  # noqa: F401
