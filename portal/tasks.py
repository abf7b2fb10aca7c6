"""Portal background tasks."""

from celery import shared_task

from .idempotency import idempotency_cleanup as cleanup
from .models import Region


@shared_task(name="portal.ping")
def ping(token: str) -> dict:
    """Round trip through the broker and the database: proves a worker is alive and wired up."""
    return {"token": token, "regions": Region.objects.count()}


@shared_task(name="portal.password_reset_send")
def password_reset_send(email: str, domain: str, use_https: bool) -> None:
    """Look up the active users of this address and mail each a reset link — in the worker, so the
    web request does the same work whether or not the address exists (portal/password_views.py)."""
    from django.contrib.auth.forms import PasswordResetForm

    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=domain, use_https=use_https)


@shared_task(name="portal.idempotency_cleanup")
def idempotency_cleanup() -> int:
    """Nightly: Idempotency-Key rows older than 24 hours are deleted (portal/idempotency.py)."""

    return cleanup()
