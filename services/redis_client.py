"""Redis access: one client per process, created lazily after fork."""

from __future__ import annotations

import os
import threading

import redis

from services.settings import get_settings

_lock = threading.Lock()
_client: redis.Redis | None = None
_client_pid: int | None = None

SOCKET_TIMEOUT_S = 2.0


def redis_url() -> str:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not resolved; call services.runtime first")
    return url


def get_redis() -> redis.Redis:
    """This process's Redis client (decoded strings). Short timeouts: Redis is a cache, never a wait."""
    global _client, _client_pid
    pid = os.getpid()
    if _client is not None and _client_pid == pid:
        return _client
    with _lock:
        if _client is None or _client_pid != pid:
            _client = redis.Redis.from_url(
                redis_url(),
                decode_responses=True,
                socket_timeout=SOCKET_TIMEOUT_S,
                socket_connect_timeout=SOCKET_TIMEOUT_S,
                health_check_interval=30,
            )
            _client_pid = pid
    return _client


def reset_redis() -> None:
    global _client, _client_pid
    with _lock:
        _client, _client_pid = None, None
