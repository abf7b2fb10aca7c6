"""Cached API lists: the product catalogue and the match lists (a bank's lead inbox) are read far
more often than they change — banks' systems poll the inbox, the public browses the catalogue.

A list view with :class:`CachedListMixin` keeps its rendered JSON in the cache for
``settings.API_LIST_CACHE_SECONDS`` under a key made of:

* the topic (``"products.product"`` or ``"matching.match"``) and the topic's current **version**;
* who is asking — the user's id, role, firm and branch, or ``anon``: a cached page
  is only ever served to the very scope it was built for, never to another firm or bank;
* the absolute URL (filters, ordering, page and the host the pagination links point at).

Freshness: every change to a topic's rows moves its version (:func:`lists_changed`, after the
transaction commits), so the next request rebuilds the page. It is called from the model signals
that each app registers with :func:`stale_on_change` (saves and deletes, the admin included),
from ``transition_record`` (every state change of a match goes through it) and by the matching
run after its bulk writes. Figures shown beside the rows that belong to other tables (a firm's
name, a branch's name) and the ``is_overdue`` flag, which turns with the clock, may lag by at most
the cache lifetime (15 s by default). A loan's save moves the match lists too: it ends its firm's
首贷户 status (the ``first_loan`` flag and filter).
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse

_VERSION_KEY = "apilist:version:{}"
_ENTRY_KEY = "apilist:entry:{}:{}"


def lists_changed(*topics: str) -> None:
    """After the current transaction commits (at once outside one), make the cached lists of these
    topics stale."""

    def bump():
        cache.set_many({_VERSION_KEY.format(t): uuid.uuid4().hex for t in topics}, timeout=None)

    transaction.on_commit(bump)


def _scope(user) -> str:
    if user is None or not user.is_authenticated:
        return "anon"
    # A bank user's institution is its branch's: the branch id pins both scopes.
    return f"u{user.pk}:{user.role}:{user.enterprise_id or ''}:{user.branch_id or ''}"


class CachedListMixin:
    """For a DRF list view: serve ``GET`` lists rendered as JSON from the cache (see the module
    docstring). Set ``cache_topic``; other renderers (the browsable API) are never cached."""

    cache_topic: str = ""

    def list(self, request, *args, **kwargs):
        seconds = settings.API_LIST_CACHE_SECONDS
        renderer = getattr(request, "accepted_renderer", None)
        if not seconds or not self.cache_topic or getattr(renderer, "format", None) != "json":
            return super().list(request, *args, **kwargs)
        version_key = _VERSION_KEY.format(self.cache_topic)
        where = hashlib.sha256(f"{_scope(request.user)}|{request.build_absolute_uri()}".encode()).hexdigest()
        entry_key = _ENTRY_KEY.format(self.cache_topic, where)
        found = cache.get_many([version_key, entry_key])
        version = found.get(version_key, "")
        entry = found.get(entry_key)
        if entry is not None and entry[0] == version:
            return self._json(entry[1], renderer, hit=True)
        response = super().list(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        body = renderer.render(response.data, request.accepted_media_type, self.get_renderer_context())
        cache.set(entry_key, (version, body), seconds)
        return self._json(body, renderer, hit=False)

    @staticmethod
    def _json(body: bytes, renderer, *, hit: bool) -> HttpResponse:
        response = HttpResponse(body, content_type=renderer.media_type)
        response["X-List-Cache"] = "hit" if hit else "miss"
        response["Vary"] = "Accept, Authorization, Cookie"
        return response


def stale_on_change(topic: str, *models: str) -> None:
    """Saves and deletes of these models (``"app_label.Model"``, the admin's included) make the
    cached lists of ``topic`` stale. Each app that owns a cached list registers its topic from its
    ``AppConfig.ready``, naming the models whose rows the list shows; this module knows no app."""

    def receiver(sender, **kwargs):
        lists_changed(topic)

    for label in models:
        post_save.connect(receiver, sender=label, weak=False, dispatch_uid=f"apilist-save-{topic}-{label}")
        post_delete.connect(
            receiver, sender=label, weak=False, dispatch_uid=f"apilist-delete-{topic}-{label}"
        )
