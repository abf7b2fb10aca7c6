from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.throttling import ScopedThrottle
from portal.reauth import reauth_mark, reauth_password_check


class ObtainTokenView(ObtainAuthToken):
    """用户名和密码换取接口令牌：POST {"username", "password"} → {"token"}。每个地址每分钟最多 10 次。"""

    throttle_classes = [ScopedThrottle]
    throttle_scope = "api-token"

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class ConfirmPasswordView(APIView):
    """确认当前密码（敏感操作前的二次验证）：POST {"password"} → 204；10 分钟内可批准授信、批准补贴申请。
    令牌用户的确认只对该令牌有效，会话用户的确认只对该会话有效。"""

    throttle_scope = "api-token"

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
