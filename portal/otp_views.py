"""Login with an optional TOTP second factor (django-otp), its setup page, and the password
confirmation page of the re-authentication ("sudo mode") in portal/reauth.py."""

import base64
import time

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.reauth import reauth_mark, reauth_password_check, safe_next

PENDING_KEY = "kejin_otp_pending"
PENDING_MAX_AGE_SECONDS = 5 * 60


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("6 位动态验证码"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": gettext_lazy("请输入验证器应用显示的 6 位数字。")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


class LoginView(auth_views.LoginView):
    """Django's login; a bank or staff user with a confirmed TOTP device is not logged in yet but sent
    to the code step with the checked password remembered in the session for five minutes."""

    def form_valid(self, form):
        user = form.get_user()
        if user.role in settings.OTP_ROLES and confirmed_device(user) is not None:
            self.request.session[PENDING_KEY] = {
                "uid": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("portal:otp_verify")
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def otp_verify(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_MAX_AGE_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.warning(request, _("登录已超时，请重新输入用户名和密码。"))
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["uid"], is_active=True).first()
    device = confirmed_device(user) if user is not None else None
    if device is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            del request.session[PENDING_KEY]
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            reauth_mark(request)
            return redirect(safe_next(request, pending.get("next"), settings.LOGIN_REDIRECT_URL))
        form.add_error("code", _("验证码不正确或已过期，请重新输入（连续输错会暂时锁定）。"))
    return render(request, "registration/otp_verify.html", {"form": form}, status=400 if form.errors else 200)


def _qr_data_uri(uri: str) -> str:
    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Turn the TOTP second factor on (scan or type the key, confirm one code) or off (one code)."""
    user = request.user
    if user.role not in settings.OTP_ROLES:
        raise PermissionDenied(_("两步验证面向银行和省级专班账号。"))
    device = confirmed_device(user)
    form = CodeForm(request.POST or None)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            if settings.OTP_REQUIRED_FOR_STAFF and user.role in settings.OTP_DESK_ROLES:
                raise PermissionDenied(_("专班账号必须启用两步验证，不能停用。"))
            if device.verify_token(form.cleaned_data["code"]):
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, _("已停用两步验证。"))
                return redirect("portal:otp_setup")
            form.add_error("code", _("验证码不正确或已过期，请重新输入。"))
        return render(
            request,
            "registration/otp_setup.html",
            {"enabled": True, "form": form},
            status=400 if form.errors else 200,
        )
    pending, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": _("验证器应用")}
    )
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["code"]):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            otp_login(request, pending)
            messages.success(request, _("两步验证已启用：以后登录时需要输入验证器应用中的 6 位验证码。"))
            return redirect("portal:otp_setup")
        form.add_error("code", _("验证码不正确或已过期，请核对手机时间后重新输入。"))
    uri = pending.config_url
    context = {
        "enabled": False,
        "form": form,
        "otp_uri": uri,
        "otp_key": base64.b32encode(pending.bin_key).decode(),
        "otp_qr": _qr_data_uri(uri),
    }
    return render(request, "registration/otp_setup.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def reauth_confirm(request):
    """``/accounts/confirm/``: ask for the password again, then go back to ``next``."""
    back = safe_next(request, request.POST.get("next") or request.GET.get("next"), "/")
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if reauth_password_check(request, form.cleaned_data["password"]):
            reauth_mark(request)
            messages.success(request, _("密码已确认，10 分钟内可以继续办理需要确认的操作。"))
            return redirect(back)
        form.add_error("password", _("密码不正确。"))
    return render(
        request,
        "registration/reauth.html",
        {"form": form, "next": back, "minutes": settings.REAUTH_MAX_AGE_MINUTES},
        status=400 if form.errors else 200,
    )
