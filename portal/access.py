"""Who may open what: the few small access functions every view and API view goes through."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .models import Role


def role_required(*roles: str):
    """View decorator: the user must be logged in and hold one of ``roles``; otherwise 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied("role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


firm_required = role_required(Role.FIRM)
bank_required = role_required(Role.OFFICER, Role.MANAGER)
manager_required = role_required(Role.MANAGER)
staff_required = role_required(Role.STAFF)


def landing_url_name(user) -> str:
    """The workspace each role lands on after login."""
    return {
        Role.FIRM: "enterprises:workspace",
        Role.OFFICER: "lenders:workspace",
        Role.MANAGER: "lenders:workspace",
        Role.STAFF: "portal:staff_workspace",
    }.get(user.role, "admin:index" if user.is_staff else "portal:home")
