"""Session security middleware: idle timeout for bank and staff users, mandatory second factor for
staff when ``OTP_REQUIRED_FOR_STAFF`` is on."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.reauth import mark_on_password_login
from portal.text import CONTROL_CHARS, strip_control

LAST_SEEN_KEY = "kejin_last_seen"
# Writing the session on every request costs a write; a minute's precision is enough for 30 minutes.
TOUCH_EVERY_SECONDS = 60

user_logged_in.connect(mark_on_password_login, dispatch_uid="kejin_reauth_mark_on_password_login")


def _mark_seen_on_login(sender, request, user, **kwargs):
    """Start the idle clock at login, in the session write that login makes anyway — so the first
    page after login does not write the session again."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN_KEY] = time.time()


user_logged_in.connect(_mark_seen_on_login, dispatch_uid="kejin_idle_mark_seen_on_login")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class IdleTimeoutMiddleware:
    """Logs out a bank or staff user after ``IDLE_TIMEOUT_MINUTES`` without a request; the login
    page then says why. Firm users keep Django's ordinary session lifetime."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.role in settings.IDLE_TIMEOUT_ROLES:
            now = time.time()
            last = request.session.get(LAST_SEEN_KEY)
            if last is not None and now - float(last) > settings.IDLE_TIMEOUT_MINUTES * 60:
                logout(request)
                message = _("您已 %(minutes)d 分钟未操作，为保护账户安全已自动退出，请重新登录。") % {
                    "minutes": settings.IDLE_TIMEOUT_MINUTES
                }
                if _is_api(request):
                    return JsonResponse({"detail": message, "code": "session_expired"}, status=401)
                messages.warning(request, message)
                target = reverse("login")
                if request.method == "GET":
                    target = redirect_to_login(request.get_full_path())["Location"]
                response = redirect(target)
                if getattr(request, "htmx", False):
                    response["HX-Redirect"] = target
                return response
            if last is None or now - float(last) >= TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class OTPRequiredMiddleware:
    """With ``OTP_REQUIRED_FOR_STAFF`` on, a staff user who has not passed a second factor in this
    session is sent to set one up (or to enter the code) before any other page; the session API
    answers 403 with code ``otp_required``."""

    ALLOWED_NAMES = ("portal:otp_setup", "portal:otp_verify", "logout", "login")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.OTP_REQUIRED_FOR_STAFF
            and user is not None
            and user.is_authenticated
            and user.role in settings.OTP_DESK_ROLES
            and not user.is_verified()
            and not request.path.startswith(settings.STATIC_URL)
            and request.path not in {reverse(name) for name in self.ALLOWED_NAMES}
        ):
            message = _("专班账号必须启用两步验证（动态验证码）后才能继续使用。")
            if _is_api(request):
                return JsonResponse({"detail": message, "code": "otp_required"}, status=403)
            messages.warning(request, message)
            return redirect("portal:otp_setup")
        return self.get_response(request)


class CleanInputMiddleware:
    """Control characters dropped from every query and form parameter (portal/text.py) before any
    form or filter sees them. JSON bodies are cleaned by the API's parser instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):

        def cleaned(params):
            if not any(
                CONTROL_CHARS.search(k) or any(CONTROL_CHARS.search(v) for v in vs)
                for k, vs in params.lists()
            ):
                return None
            copy = params.copy()
            for key in list(copy.keys()):
                values = [strip_control(v) for v in copy.getlist(key)]
                del copy[key]
                copy.setlist(strip_control(key), values)
            copy._mutable = False
            return copy

        if (get := cleaned(request.GET)) is not None:
            request.GET = get
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method == "POST" and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            if (post := cleaned(request.POST)) is not None:
                request.POST = post
        return self.get_response(request)
