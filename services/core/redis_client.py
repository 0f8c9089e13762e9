"""Redis access: one client per process, created lazily after fork."""

from __future__ import annotations

import redis

from services.core.per_process import PerProcess
from services.core.settings import get_settings

SOCKET_TIMEOUT_S = 2.0


def redis_url() -> str:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not resolved; call services.runtime first")
    return url


def _connect() -> redis.Redis:
    return redis.Redis.from_url(
        redis_url(),
        decode_responses=True,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=30,
    )


_client: PerProcess[redis.Redis] = PerProcess(_connect)


def get_redis() -> redis.Redis:
    """This process's Redis client (decoded strings). Short timeouts: Redis is a cache, never a wait."""
    return _client.get()


def reset_redis() -> None:
    _client.reset()
