"""``/healthz/``: the database, the cache and the Celery broker, each checked with a short timeout.
200 ``{"status": "ok", "checks": {...}}`` when all answer; 503 naming what is down otherwise, so a
load balancer or an operator sees a Redis outage although the pages still work without it."""

from __future__ import annotations

import logging

from django.core.cache import cache, caches
from django.db import connection

from portal.celery import app

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    """Ask the cache server itself (the portal's cache answers misses while Redis is down)."""
    client = getattr(caches["default"], "_cache", None)
    if client is not None and hasattr(client, "get_client"):
        client.get_client(write=True).ping()
        return
    cache.set("kejin:healthz", "1", 5)
    if cache.get("kejin:healthz") != "1":
        raise OSError("cache did not keep a value")


def check_broker() -> None:

    url = app.conf.broker_url or ""
    if app.conf.task_always_eager or url.startswith("memory://"):
        return
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT_SECONDS)


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def health_report() -> dict[str, str]:
    """``{"database": "ok" | "down", ...}``; failures are logged with their reason."""
    report = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("healthz: %s down (%s: %s)", name, type(exc).__name__, exc)
            report[name] = "down"
        else:
            report[name] = "ok"
    return report
