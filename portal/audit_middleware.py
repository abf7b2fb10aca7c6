"""Keeps the current request in a context variable for the audit log, and records refused access:
every 403 answered to a logged-in user, and every 404 answered to one on an object route (a route
with a ``pk``/``id`` keyword) — pages and API alike."""

from .audit import audit_record, current_request
from .models import AuditEvent

OBJECT_KWARGS = ("pk", "id")


def _object_kwarg(kwargs: dict) -> tuple[str, str] | None:
    for key, value in kwargs.items():
        if key in OBJECT_KWARGS or key.endswith("_pk") or key.endswith("_id"):
            return key, str(value)
    return None


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            if response.status_code in (403, 404):
                self._refused(request, response.status_code)
            return response
        finally:
            current_request.reset(token)

    def _refused(self, request, status: int) -> None:
        # DRF authenticates inside the view and sets the user on the underlying request too.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        match = getattr(request, "resolver_match", None)
        obj = _object_kwarg(match.kwargs) if match is not None else None
        if status == 404 and obj is None:
            return
        audit_record(
            action=AuditEvent.Action.ACCESS_REFUSED,
            user=user,
            object_type=(match.view_name if match is not None else "")[:100],
            object_id=obj[1] if obj else "",
            detail={
                "status": status,
                "method": request.method,
                "route": (match.route if match else "")[:300],
            },
            request=request,
        )
