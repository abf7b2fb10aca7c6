"""API token authentication with the token → user lookup cached.

Banks' systems poll the lead inbox with the same token many times a minute, and the lookup (one
query joining the token and its user) is most of what a cached list costs. The pair is kept in the
cache for ``settings.API_TOKEN_CACHE_SECONDS`` (0 turns it off) under a hash of the key, never the
key itself, and dropped as soon as the token is deleted or its user is saved — deactivated, given
another role or branch, or simply logged in — so a revoked token or a locked-out user stops working
at once (the signals below), and in any case within the lifetime.

A personal token lives ``settings.API_TOKEN_DAYS`` days from when it was issued (its ``created``)
and is deleted — so refused at once, cache included — when its user's password is changed or reset
or the user is deactivated.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from portal.models import User


def _cache_key(key: str) -> str:
    return "apitoken:" + hashlib.sha256(key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's TokenAuthentication, with the lookup cached."""

    def authenticate_credentials(self, key):
        seconds = settings.API_TOKEN_CACHE_SECONDS
        if not seconds:
            return super().authenticate_credentials(key)
        cache_key = _cache_key(key)
        found = cache.get(cache_key)
        if found is not None:
            return self._unexpired(*found)
        user, token = super().authenticate_credentials(key)  # refuses unknown keys and inactive users
        cache.set(cache_key, (user, token), seconds)
        return self._unexpired(user, token)

    def _unexpired(self, user, token):
        if token_expires_at(token) <= timezone.now():
            type(token).objects.filter(pk=token.pk).delete()
            forget_tokens(token.key)
            raise exceptions.AuthenticationFailed(
                {"detail": "接口令牌已过期，请重新申请。", "code": "token_expired"}
            )
        return user, token


def token_expires_at(token) -> datetime:
    return token.created + timedelta(days=settings.API_TOKEN_DAYS)


@transaction.atomic
def token_issue(*, user):
    """The user's personal token and when it expires: the current one while it is valid, else a new
    key (an expired one is replaced)."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expires_at(token) <= timezone.now():
        token.delete()
        token = None
    if token is None:
        token = Token.objects.create(user=user)
    return token, token_expires_at(token)


def tokens_revoke(*, user_id: int) -> int:
    """Delete every personal token of the user (the post_delete signal drops the cached lookups)."""
    from rest_framework.authtoken.models import Token

    deleted = 0
    for token in Token.objects.filter(user_id=user_id):
        token.delete()
        deleted += 1
    return deleted


def forget_tokens(*keys: str) -> None:
    """Drop cached lookups of these token keys (after the current transaction commits too, so that a
    request racing the change cannot put the old pair back)."""
    names = [_cache_key(k) for k in keys]
    if names:
        cache.delete_many(names)
        transaction.on_commit(lambda: cache.delete_many(names))


def _connect() -> None:
    from rest_framework.authtoken.models import Token


    def token_deleted(sender, instance, **kwargs):
        forget_tokens(instance.key)

    def user_saved(sender, instance, **kwargs):
        # ``_password`` is set by set_password() until the save that stores it: a changed or reset
        # password, like a deactivation, ends every token at once.
        if kwargs.get("signal") is post_save and (
            getattr(instance, "_password", None) is not None or not instance.is_active
        ):
            tokens_revoke(user_id=instance.pk)
        forget_tokens(*Token.objects.filter(user_id=instance.pk).values_list("key", flat=True))

    post_delete.connect(token_deleted, sender=Token, weak=False, dispatch_uid="apitoken-token-deleted")
    post_save.connect(user_saved, sender=User, weak=False, dispatch_uid="apitoken-user-saved")
    post_delete.connect(user_saved, sender=User, weak=False, dispatch_uid="apitoken-user-deleted")
