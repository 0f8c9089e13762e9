"""What every insights chart shares: its cache key, a single-flight cache read, and running one
aggregate query into typed rows.

Cache entries are keyed by chart, filter and the "insights" and "profiles" data versions, so a
write that bumps either makes them unreachable. A miss takes a short Redis lock on the key: when
fifty leads open the page at once, one request runs the query and the others wait for its result
instead of each sending the same aggregate to Postgres.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis
from psycopg import sql
from psycopg.rows import class_row

from services.core.cache import DEFAULT_TIMEOUT_S, cache_key, data_version, get_cache
from services.core.db import unit_of_work
from services.core.redis_client import get_redis
from services.insights.filters import InsightsFilter

log = logging.getLogger(__name__)
T = TypeVar("T")
LOCK_PREFIX = "sx:lock:"
LOCK_TTL_MS = 30_000  # longer than any chart query may run (statement_timeout is 15 s)
WAIT_S = 20.0
POLL_S = 0.01
# Compare-and-delete: only the holder releases the lock (a late holder whose lock expired and
# was taken by another request must not delete that one).
_RELEASE_LUA = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


def chart_key(chart: str, f: InsightsFilter) -> str:
    return cache_key(
        f"insights:{chart}", f.to_params(), data_version("insights"), data_version("profiles")
    )


def single_flight(key: str, compute: Callable[[], T], timeout: int = DEFAULT_TIMEOUT_S) -> T:
    """The cached value for key; on a miss only one caller across all processes computes it."""
    backend = get_cache()
    try:
        hit = backend.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        client = get_redis()
        token = secrets.token_hex(8)
        owner = bool(client.set(LOCK_PREFIX + key, token, nx=True, px=LOCK_TTL_MS))
        # Checked again under the lock: the previous holder may have stored the value and let
        # go between our first read and our taking the lock.
        hit = backend.get(key) if owner else None
    except redis.RedisError:
        return compute()  # the cache is never the system of record
    if hit is not None:
        _release(client, key, token)
        return hit  # type: ignore[no-any-return]
    if not owner:
        waited = _wait_for(key, client, backend)
        if waited is not None:
            return waited  # type: ignore[no-any-return]
    try:
        value = compute()
        try:
            backend.set(key, value, timeout=timeout)
        except redis.RedisError:
            log.warning("cache write failed for %s", key)
        return value
    finally:
        if owner:
            _release(client, key, token)


def _release(client: redis.Redis, key: str, token: str) -> None:
    try:
        client.eval(_RELEASE_LUA, 1, LOCK_PREFIX + key, token)
    except redis.RedisError:
        pass  # the lock expires on its own


def _wait_for(key: str, client: redis.Redis, backend: Any) -> Any:
    """Poll for the lock holder's result; None when it gave up or failed (then compute here)."""
    deadline = time.monotonic() + WAIT_S
    try:
        while time.monotonic() < deadline:
            time.sleep(POLL_S)
            hit = backend.get(key)
            if hit is not None:
                return hit
            if not client.exists(LOCK_PREFIX + key):
                return backend.get(key)
    except redis.RedisError:
        return None
    return None


def cached_chart(
    chart: str, f: InsightsFilter, compute: Callable[[], T], timeout: int = DEFAULT_TIMEOUT_S
) -> T:
    return single_flight(chart_key(chart, f), compute, timeout)


def fetch_rows(query: sql.SQL | sql.Composed, params: Mapping[str, Any], cls: type[T]) -> list[T]:
    """Run one aggregate query and return its (few) rows as dataclasses."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(cls)) as cur:
        # Aggregates over a few hundred thousand rows: hashing them in memory instead of in
        # batches on disk (the 4 MB default spilled the funnel's joins to temp files).
        cur.execute("SET LOCAL work_mem = '32MB'")
        cur.execute(query, params, prepare=False)  # planned for its values (grid/pages.py)
        return cur.fetchall()
