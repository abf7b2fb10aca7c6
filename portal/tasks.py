"""Portal background tasks."""

from celery import shared_task

from .models import Region


@shared_task(name="portal.ping")
def ping(token: str) -> dict:
    """Round trip through the broker and the database: proves a worker is alive and wired up."""
    return {"token": token, "regions": Region.objects.count()}
