"""API throttles (DRF, counted in the cache — Redis in production). Rates come from
``settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and ``API_THROTTLE_DISABLED=1`` turns them
all off; both are read per request, so a test can change them with the ``settings`` fixture."""

from django.conf import settings
from rest_framework import throttling

from portal.clientip import client_ip


class _SettingsRate:
    def get_ident(self, request):
        return client_ip(request)  # X-Forwarded-For only behind the trusted proxies

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def allow_request(self, request, view):
        if getattr(settings, "API_THROTTLE_DISABLED", False):
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class AnonThrottle(_SettingsRate, throttling.AnonRateThrottle):
    pass


class UserThrottle(_SettingsRate, throttling.UserRateThrottle):
    pass


class ScopedThrottle(_SettingsRate, throttling.ScopedRateThrottle):
    """Per-view scope (``throttle_scope``), keyed by user or address."""

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        return super().allow_request(request, view)
