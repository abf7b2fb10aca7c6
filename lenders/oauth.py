"""Banks' systems as OAuth2 clients (django-oauth-toolkit, client credentials).

``POST /o/token/`` with ``grant_type=client_credentials`` (client id and secret by HTTP Basic or in
the body) issues a Bearer token for a live ``ApiClient`` (not revoked, not expired), with the
client's scopes. ``ClientCredentialsAuthentication`` turns the token into the client's service user
— a manager of the institution — so ``portal.access.restrict`` scopes it like one; a revoked or
expired client's token → 401. ``ClientScope`` limits it to the views that declare a
``client_scope`` ("leads", "applications", "products", "webhooks", "recommendations"): ``<scope>:read`` on GET/HEAD,
``<scope>:write`` on POST/PATCH/PUT/DELETE (a view may ask more for reads: ``client_scope_read``,
as the webhook settings ask ``webhooks:write``); any other API view refuses a machine client (403).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import API_CLIENT_SCOPES, ApiClient

LAST_USED_EVERY = timedelta(minutes=1)  # ``last_used_at`` written at most once a minute per client


def _client_of(application) -> ApiClient | None:
    if application is None:
        return None
    try:
        return application.kejin_client
    except ApiClient.DoesNotExist:
        return None


class ClientScopes(BaseScopes):
    """The scopes a token may carry: the client's own (all of them by default)."""

    def get_all_scopes(self):
        return {k: str(v) for k, v in API_CLIENT_SCOPES.items()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = _client_of(application)
        return list(client.scopes) if client is not None else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


class Validator(OAuth2Validator):
    """Only a live client (not revoked, not expired) gets a token."""

    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        client = _client_of(request.client)
        return client is not None and client.is_live() and client.user.is_active


class InvalidClientToken(exceptions.APIException):
    """401 whatever the first authentication class is (DRF would turn AuthenticationFailed into 403
    behind SessionAuthentication)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_token"

    def __init__(self):
        super().__init__(detail={"detail": "接入令牌无效、已过期或客户端已被吊销。", "code": "invalid_token"})


def machine_client(request) -> ApiClient | None:
    """The ``ApiClient`` a DRF request is authenticated as, or None for a person."""
    token = getattr(request, "auth", None)
    return getattr(token, "kejin_api_client", None)


class ClientCredentialsAuthentication(OAuth2Authentication):
    """``Authorization: Bearer <token>`` of a machine client → (its service user, the token)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer "):
            return None
        # The Django request: DOT reads only the URI, headers and form fields, and must not make DRF
        # parse the body before the view (nor fail for want of parsers in the idempotency middleware).
        found = super().authenticate(getattr(request, "_request", request))
        client = _client_of(found[1].application) if found else None
        if client is None or not client.is_live() or not client.user.is_active:
            raise InvalidClientToken()
        token = found[1]
        token.kejin_api_client = client
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_EVERY:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        view = request.parser_context.get("view") if getattr(request, "parser_context", None) else None
        if view is not None and not getattr(view, "client_scope", None):
            raise exceptions.PermissionDenied(
                {"detail": "此接口不对机构接入客户端开放。", "code": "client_not_allowed"}
            )
        return client.user, token


class ClientScope(BasePermission):
    """People pass; a machine client needs ``<view.client_scope>:read`` (safe methods) or ``:write``."""

    message = "接入客户端缺少此操作所需的权限范围。"

    def has_permission(self, request, view) -> bool:
        client = machine_client(request)
        if client is None:
            return True
        scope = getattr(view, "client_scope", None)
        if not scope:
            return False
        if request.method in SAFE_METHODS:
            needed = getattr(view, "client_scope_read", None) or f"{scope}:read"
        else:
            needed = f"{scope}:write"
        granted = set(client.scopes) & set((request.auth.scope or "").split())
        return needed in granted


class ClientCredentialsScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes a bank system's Bearer token (OAuth2 client credentials)."""

    target_class = "lenders.oauth.ClientCredentialsAuthentication"
    name = "bankClientCredentials"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/o/token/",
                    "scopes": {k: str(v) for k, v in API_CLIENT_SCOPES.items()},
                }
            },
        }
