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
#: The province's desk or a region's desk: the view's reads go through ``restrict``, which scopes
#: a region desk to its region's firms (another region's object → 404).
government_required = role_required(Role.STAFF, Role.REGION)
#: The subsidy desks: the science desk (staff) and the finance desk; which step each may take is
#: decided by ``subsidies.duties``.
subsidy_desk_required = role_required(Role.STAFF, Role.FINANCE)


def landing_url_name(user) -> str:
    """The workspace each role lands on after login."""
    return {
        Role.FIRM: "enterprises:workspace",
        Role.OFFICER: "lenders:workspace",
        Role.MANAGER: "lenders:workspace",
        Role.STAFF: "portal:staff_workspace",
        Role.REGION: "portal:staff_workspace",
        Role.FINANCE: "subsidies:claims",
    }.get(user.role, "admin:index" if user.is_staff else "portal:home")


# ------------------------------------------------------------------------------------------------
# The access model: one rule per model decides which rows a user may read ("view") or act on
# ("act"). Each app registers the rules of its own models (``@access_rule(Model)`` in its
# selectors); pages, API views, exports, webhooks and services all ask ``restrict``.
# ------------------------------------------------------------------------------------------------

VIEW = "view"
ACT = "act"
ACTIONS = (VIEW, ACT)

_RULES: dict = {}


def access_rule(model):
    """Register ``rule(queryset, user, action) -> queryset`` as the one scope of ``model``."""

    def decorator(rule):
        _RULES[model] = rule
        return rule

    return decorator


def restrict(queryset_or_model, user, action: str = VIEW):
    """The rows of ``queryset_or_model`` that ``user`` may ``action`` ("view" or "act"), by the rule
    registered for its model; none for an anonymous user, an unknown action or a model with no
    rule (deny by default, like NetBox's ``RestrictedQuerySet.restrict``)."""
    qs = (
        queryset_or_model if hasattr(queryset_or_model, "model") else queryset_or_model._default_manager.all()
    )
    rule = _RULES.get(qs.model)
    if rule is None or action not in ACTIONS or user is None or not user.is_authenticated:
        return qs.none()
    return rule(qs, user, action)


def can(user, obj, action: str = VIEW) -> bool:
    """Whether ``user`` may ``action`` the one row ``obj`` (services check acts with it)."""
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()
