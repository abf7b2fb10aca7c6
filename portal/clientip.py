"""The client's address, one rule for every counter (django-axes lockouts, DRF throttles, the
password-reset throttle): ``X-Forwarded-For`` counts only behind ``settings.TRUSTED_PROXY_COUNT``
reverse proxies that append to it, and then only the entry the outermost trusted proxy wrote —
whatever a client puts in front of it is ignored. With no trusted proxy (the default) the header
is ignored entirely and ``REMOTE_ADDR`` is the address."""

from django.conf import settings


def client_ip(request) -> str:
    meta = getattr(request, "META", {}) or {}
    remote = meta.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    hops = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(hops) < proxies:
        return remote
    return hops[-proxies]
