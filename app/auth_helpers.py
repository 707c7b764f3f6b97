"""Page-side access helpers: decorators for roles (403 for a role that may not use a page)."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models import Role


def roles_required(*roles: Role):
    """Signed out -> /login; signed in with another role -> 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


staff_required = roles_required(Role.ADMIN, Role.DISPATCHER)
technician_required = roles_required(Role.TECHNICIAN)
store_manager_required = roles_required(Role.STORE_MANAGER)
