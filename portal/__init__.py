"""The ground floor of KeJin: the project package (settings, URLs, the Celery app) and what every
app stands on.

The Celery app is created when Django starts (``PortalConfig.ready``) — and ``celery -A portal``
finds it in ``portal.celery`` — rather than on importing this package, so that the plain-data
modules here (``portal.vocabulary``) import without Django, as the pure matching engine needs.
"""


def __getattr__(name: str):
    if name == "celery_app":
        from .celery import app

        return app
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
