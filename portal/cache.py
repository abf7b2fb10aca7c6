"""The cache backend: Django's Redis cache that degrades instead of failing.

Everything the portal keeps in the cache can be recomputed — cached API lists, token lookups,
throttle counters, password confirmations of token clients — so a Redis outage must not turn into
500s on login, pages and the API. Every operation that fails with a connection error is logged
(once per outage window) and answers as a cache miss: ``get`` returns the default, ``set``/``add``
return False, ``incr`` returns the delta (a counter that starts again), deletes do nothing. After
a failure the backend does not touch Redis for ``DOWN_SECONDS`` so that a page making twenty cache
calls pays for one failed connection, not twenty. Short socket timeouts (settings) bound that one.
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

DOWN_SECONDS = 5.0


def _errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisError, RedisConnectionError, RedisTimeoutError, OSError)


def _degrading(fallback):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            if self._down_until > time.monotonic():
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except _errors() as exc:
                if self._down_until == 0.0 or self._down_until < time.monotonic() - DOWN_SECONDS:
                    logger.warning("cache unavailable (%s: %s): answering as a miss", type(exc).__name__, exc)
                self._down_until = time.monotonic() + DOWN_SECONDS
                return fallback(*args, **kwargs)

        return call

    return wrap


def _default(key, default=None, *args, **kwargs):
    return default


def _false(*args, **kwargs):
    return False


def _none(*args, **kwargs):
    return None


def _empty(*args, **kwargs):
    return {}


def _incr(key, delta=1, *args, **kwargs):
    return delta


def _keys_back(data, *args, **kwargs):
    return list(data)


def _get_or_set(key, default, *args, **kwargs):
    return default() if callable(default) else default


class ResilientRedisCache(RedisCache):
    """Django's RedisCache whose failures are logged and answered as misses (module docstring)."""

    _down_until = 0.0

    get = _degrading(_default)(RedisCache.get)
    set = _degrading(_false)(RedisCache.set)
    add = _degrading(_false)(RedisCache.add)
    touch = _degrading(_false)(RedisCache.touch)
    delete = _degrading(_false)(RedisCache.delete)
    has_key = _degrading(_false)(RedisCache.has_key)
    incr = _degrading(_incr)(RedisCache.incr)
    get_many = _degrading(_empty)(RedisCache.get_many)
    set_many = _degrading(_keys_back)(RedisCache.set_many)
    delete_many = _degrading(_none)(RedisCache.delete_many)
    get_or_set = _degrading(_get_or_set)(RedisCache.get_or_set)
    clear = _degrading(_false)(RedisCache.clear)
