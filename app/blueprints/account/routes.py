"""Routes."""
from app.blueprints.account import bp  # noqa: F401
