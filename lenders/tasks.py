"""Background work of the bank workspace: delivering webhook events.

The delivery task is defined with the outbox it belongs to (``lenders/outbox.py``); it is imported
here so that the Celery worker's autodiscovery of ``<app>.tasks`` registers it."""

from .outbox import webhook_deliver

__all__ = ["webhook_deliver"]
