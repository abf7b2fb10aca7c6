from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.authentication import token_issue
from portal.api.throttling import ScopedThrottle
from portal.otp_views import confirmed_device
from portal.reauth import reauth_mark, reauth_password_check


class OTPRequired(exceptions.APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "otp_required"

    def __init__(self, message):
        super().__init__(detail={"detail": message, "code": self.default_code})


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"), max_length=150)
    password = serializers.CharField(label=_("密码"), max_length=128, trim_whitespace=False)
    otp = serializers.RegexField(r"^\s*\d{6}\s*$", label=_("动态验证码"), required=False)


class ObtainTokenView(APIView):
    """用户名和密码换取接口令牌：POST {"username", "password", "otp"} → {"token", "expires_at"}。
    已启用两步验证的账号须同时提交 6 位动态验证码（otp），否则 401（code: otp_required）；
    令牌自签发起 API_TOKEN_DAYS 天内有效，改密、重设密码或停用账号后立即失效。每个地址每分钟最多 10 次。"""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [ScopedThrottle]
    throttle_scope = "api-token"

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer(
            "TokenResponse", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
        ),
    )
    def post(self, request, *args, **kwargs):

        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise serializers.ValidationError({"non_field_errors": [_("用户名或密码不正确。")]})
        device = confirmed_device(user)
        if device is not None:
            code = (data.validated_data.get("otp") or "").strip()
            if not code:
                raise OTPRequired(_("此账号已启用两步验证：请同时提交验证器应用中的 6 位验证码（otp）。"))
            if not device.verify_token(code):
                raise OTPRequired(_("动态验证码不正确或已过期。"))
        elif settings.OTP_REQUIRED_FOR_STAFF and user.role == "staff":
            raise OTPRequired(_("省级专班账号必须先在网页上启用两步验证，才能申请接口令牌。"))
        token, expires_at = token_issue(user=user)
        return Response({"token": token.key, "expires_at": expires_at})


class ConfirmPasswordView(APIView):
    """确认当前密码（敏感操作前的二次验证）：POST {"password"} → 204；10 分钟内可批准授信、批准补贴申请。
    令牌用户的确认只对该令牌有效，会话用户的确认只对该会话有效。每个账号每分钟最多 5 次。"""

    throttle_scope = "api-confirm"

    def get_throttles(self):
        return [*super().get_throttles(), ScopedThrottle()]

    @extend_schema(
        request=inline_serializer("PasswordConfirmRequest", {"password": serializers.CharField()}),
        responses={204: None},
        summary="确认密码（敏感操作前）",
    )
    def post(self, request):
        password = request.data.get("password") if hasattr(request.data, "get") else None
        if not isinstance(password, str) or not password:
            raise serializers.ValidationError({"password": ["请填写当前密码。"]})
        if not reauth_password_check(request._request, password):
            raise serializers.ValidationError({"password": ["密码不正确。"]})
        reauth_mark(request, token=request.auth if isinstance(request.auth, Token) else None)
        return Response(status=status.HTTP_204_NO_CONTENT)
