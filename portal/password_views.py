"""Password reset by e-mail, throttled and constant-time.

The page answers the same ("请查收邮件") whether or not the address belongs to anyone, and does the
same work for both: it only enqueues :func:`portal.tasks.password_reset_send`, which looks the
address up and sends the mail in the worker. At most ``password-reset-address`` requests per
address and ``password-reset-client`` per client address (portal/clientip.py) are acted on; a
throttled address is silently not mailed (the answer stays the same), a throttled client gets 429.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from portal.clientip import client_ip
from portal.tasks import password_reset_send

logger = logging.getLogger(__name__)


def _allowed(scope: str, ident: str) -> bool:
    """One fixed-window counter per (scope, ident) in the cache; a cache outage lets it through."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(scope)
    if not rate or getattr(settings, "API_THROTTLE_DISABLED", False):
        return True
    limit, seconds = SimpleRateThrottle.parse_rate(None, rate)
    key = f"kejin:throttle:{scope}:" + hashlib.sha256(ident.encode()).hexdigest()
    try:
        cache.add(key, 0, seconds)
        count = cache.incr(key)
    except Exception:
        logger.warning("password reset throttle: cache unavailable")
        return True
    return count <= limit


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):

        if not _allowed("password-reset-client", client_ip(self.request)):
            return render(
                self.request,
                "registration/password_reset_form.html",
                {"form": form, "throttled": True},
                status=429,
            )
        email = form.cleaned_data["email"].strip().lower()
        if _allowed("password-reset-address", email):
            try:
                password_reset_send.delay(email, self.request.get_host(), self.request.is_secure())
            except Exception:
                logger.warning("password reset mail not queued: broker unreachable")
        return redirect(reverse("password_reset_done"))
