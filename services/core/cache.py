"""Shared read cache in Redis (flask-caching's RedisCache backend) keyed by data versions.

Web workers and task workers use the same backend object, created once per process after fork.
A write bumps the version of the data it touched (`bump_data_version("profiles")`), which makes
every cached entry built on the old version unreachable, so nothing needs to be deleted by hand.
A Redis outage degrades to computing the value (the cache is never the system of record).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from flask_caching.backends.rediscache import RedisCache

from services.core import metrics
from services.core.per_process import PerProcess
from services.core.redis_client import get_redis, redis_url

log = logging.getLogger(__name__)
T = TypeVar("T")
KEY_PREFIX = "sx:cache:"
VERSION_KEY = "sx:data_version:{}"
DEFAULT_TIMEOUT_S = 600


def _make_backend() -> RedisCache:
    client = redis.Redis.from_url(redis_url(), socket_timeout=2.0, socket_connect_timeout=2.0)
    return RedisCache(host=client, key_prefix=KEY_PREFIX, default_timeout=DEFAULT_TIMEOUT_S)


_backend: PerProcess[RedisCache] = PerProcess(_make_backend)


def get_cache() -> RedisCache:
    """This process's flask-caching Redis backend (bytes client: values are pickled)."""
    return _backend.get()


def data_version(scope: str) -> int:
    """Current version of a data scope ('profiles', 'insights', ...); 0 if Redis is unreachable."""
    try:
        return int(get_redis().get(VERSION_KEY.format(scope)) or 0)
    except redis.RedisError:
        return -1  # a version no entry was written under: forces a recompute


def bump_data_version(*scopes: str) -> None:
    """Make every cached read of these scopes stale. Called after the write commits."""
    try:
        pipe = get_redis().pipeline()
        for scope in scopes:
            pipe.incr(VERSION_KEY.format(scope))
        pipe.execute()
    except redis.RedisError:
        log.warning(
            "could not bump data version of %s; cached reads may be stale until TTL", scopes
        )


def cache_key(namespace: str, *parts: Any) -> str:
    """A stable key from JSON-canonical parts (dicts sorted), so equal filters share one entry."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return f"{namespace}:{hashlib.sha256(blob.encode()).hexdigest()[:32]}"


def cached(key: str, compute: Callable[[], T], timeout: int = DEFAULT_TIMEOUT_S) -> T:
    """Return the cached value for key, computing and storing it on a miss or a Redis failure."""
    backend = get_cache()
    try:
        hit = backend.get(key)
    except redis.RedisError:
        metrics.CACHE.labels("error").inc()
        return compute()
    if hit is not None:
        metrics.CACHE.labels("hit").inc()
        return hit  # type: ignore[no-any-return]
    metrics.CACHE.labels("miss").inc()
    value = compute()
    try:
        backend.set(key, value, timeout=timeout)
    except redis.RedisError:
        log.warning("cache write failed for %s", key)
    return value


def peek(key: str) -> Any:
    """The cached value for key, or None on a miss or a Redis failure (never computes)."""
    try:
        hit = get_cache().get(key)
    except redis.RedisError:
        metrics.CACHE.labels("error").inc()
        return None
    metrics.CACHE.labels("hit" if hit is not None else "miss").inc()
    return hit


def reset_cache() -> None:
    """Forget this process's backend (after a fork, or when the Redis URL changed)."""
    _backend.reset()
