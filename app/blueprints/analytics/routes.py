"""Routes."""
from app.blueprints.analytics import bp  # noqa: F401
