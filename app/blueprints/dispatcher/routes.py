"""Routes."""
from app.blueprints.dispatcher import bp  # noqa: F401
