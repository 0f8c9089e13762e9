"""Enqueue a Celery task at most once per key: a Redis flag (SET NX with a TTL) guards it.

The grid's jump maps and exact counts and the funnel refresh are asked for from web requests and
job loops, where a broker outage must cost nothing but the task: the send does not retry (it
fails at once instead of holding the request), nothing raises, and a refused send frees the flag
so that the next ask tries again. The TTL is also the task's `expires`: a request that waited in
a backlog longer than its flag is worth nothing any more.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from services.core.redis_client import get_redis

log = logging.getLogger(__name__)


def send_task_once(flag: str, ttl_s: int, task_name: str, args: list[Any] | None = None) -> bool:
    """Send `task_name` unless `flag` is already set; True when this call enqueued it."""
    try:
        if not get_redis().set(flag, "1", nx=True, ex=ttl_s):
            return False
    except redis.RedisError:
        return False
    try:
        from celery_app import celery

        celery.send_task(task_name, args=args or [], expires=ttl_s, retry=False)
    except Exception:  # kombu and redis raise several connection error types
        log.warning("could not enqueue %s", task_name)
        release(flag)
        return False
    return True


def release(flag: str) -> None:
    """Free a flag (a task that starts, or a send that failed); it expires on its own anyway."""
    try:
        get_redis().delete(flag)
    except redis.RedisError:
        pass
