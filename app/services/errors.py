"""Domain errors. Pages and the API map them to responses."""
from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class InvalidTransition(Conflict):
    status = 409


class TooLarge(DomainError):
    status = 413


class UnsupportedMedia(DomainError):
    status = 415


class WrongPassword(ValidationError):
    """The current password given to change it was wrong (400, and the edge counts it
    against the login throttle like a failed sign-in)."""

    status = 400
