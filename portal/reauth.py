"""Re-authentication ("sudo mode"): a few acts need a password confirmed in the last minutes.

Approving a credit line, approving a subsidy claim and rotating a webhook secret call
``reauth_redirect`` (pages) or ``reauth_check_api`` (API). A page sends the user to
``/accounts/confirm/`` and back to where they were; the API answers 403 with
``{"detail": ..., "code": "reauth_required"}`` until the client confirms the password through
``POST /api/v1/auth/confirm/``. A password login counts as a confirmation.

Where the confirmation lives: in the session for browser and session-authenticated API clients;
for a token-authenticated API client (no cookie comes back) in the cache under a hash of its token,
so a confirmation made with one token does not unlock another.
"""

import hashlib
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token

SESSION_KEY = "kejin_reauth"


class ReauthRequired(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = (
        "此操作需要先确认密码：请调用 POST /api/v1/auth/confirm/ 提交当前密码后重试（10 分钟内有效）。"
    )
    default_code = "reauth_required"

    def __init__(self):
        super().__init__(detail={"detail": self.default_detail, "code": self.default_code})


def _max_age() -> int:
    return settings.REAUTH_MAX_AGE_MINUTES * 60


def _token_cache_key(token: Token) -> str:
    return "kejin:reauth:token:" + hashlib.sha256(token.key.encode()).hexdigest()


def reauth_mark(request, *, token: Token | None = None) -> None:
    """Record that ``request.user`` has just confirmed the password."""
    now = time.time()
    if token is not None:
        cache.set(_token_cache_key(token), {"uid": request.user.pk, "at": now}, timeout=_max_age())
        return
    request.session[SESSION_KEY] = {"uid": request.user.pk, "at": now}


def reauth_is_fresh(request, *, token: Token | None = None) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if token is not None:
        stamp = cache.get(_token_cache_key(token))
    else:
        stamp = request.session.get(SESSION_KEY)
    if not isinstance(stamp, dict) or stamp.get("uid") != user.pk:
        return False
    return 0 <= time.time() - float(stamp.get("at", 0)) <= _max_age()


def reauth_password_check(request, password: str) -> bool:
    """Check ``password`` for the logged-in user through the authentication backends, so that
    wrong confirmations count towards the django-axes lockout like wrong logins do."""
    user = authenticate(request, username=request.user.get_username(), password=password)
    return user is not None and user.pk == request.user.pk


def safe_next(request, candidate: str | None, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def reauth_redirect(request, *, back: str):
    """``None`` when the password is fresh; else a redirect to the confirmation page that comes back
    to ``back`` (the page the act was started from, since the act itself is a POST)."""
    if reauth_is_fresh(request):
        return None
    messages.warning(request, _("此操作需要先确认您的密码。确认后请再次提交。"))
    back = safe_next(request, request.headers.get("Referer"), back)
    return redirect(reverse("portal:reauth") + "?" + urlencode({"next": back}))


def reauth_check_api(request) -> None:
    """Raise ``ReauthRequired`` (403, code ``reauth_required``) unless the API client confirmed the
    password recently. A bank's machine client (OAuth2 client credentials, lenders/oauth.py) is not a
    person and has no password: it passes (its acts are audited as the client's service user)."""
    if getattr(getattr(request, "auth", None), "kejin_api_client", None) is not None:
        return
    token = request.auth if isinstance(request.auth, Token) else None
    if not reauth_is_fresh(request, token=token):
        raise ReauthRequired()


def mark_on_password_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: a login made with a password counts as a confirmation (a
    ``force_login`` or a second-factor step after an earlier password step does not post one)."""
    if request is not None and request.method == "POST" and request.POST.get("password"):
        request.session[SESSION_KEY] = {"uid": user.pk, "at": time.time()}
