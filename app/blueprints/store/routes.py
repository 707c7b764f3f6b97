"""Routes."""
from app.blueprints.store import bp  # noqa: F401
