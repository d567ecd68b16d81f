"""Role checks: every staff view declares who may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from evalsurvey.models import Role

STAFF_READERS = (Role.ADMIN, Role.INSPECTOR, Role.VIEWER, Role.UNIT_CONTACT)


def roles_required(*roles: str) -> Callable:
    """Signed-in staff with one of ``roles``; others get 403, visitors the login page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
