"""Block boundaries remembered in Redis, so that deep pages continue by keyset, not OFFSET.

When rows [start, end) of a view have been served, the sort-key tuple of row end-1 is stored in a
sorted set (score = end) under a key made of the view (filters, search, sort) and the current
`data_version("profiles")`: a write that bumps the version makes every boundary unreachable.
Entries expire (TTL refreshed on use) and the set is capped. Redis trouble only costs speed: the
page layer then falls back to the deferred join.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from services.core.cache import cache_key
from services.core.redis_client import get_redis
from services.grid.query import GridQuery
from services.grid.sorting import SortKey, decode_values, encode_values

log = logging.getLogger(__name__)
BOUNDARY_TTL_S = 900
MAX_BOUNDARIES_PER_VIEW = 12_000  # a jump map (jumpmap.py) stores up to 10,000
MAX_KEYSET_SKIP = 1000  # a boundary up to this many rows before start still beats OFFSET
KEY_PREFIX = "sx:grid:bound:"


def boundary_key(query: GridQuery, version: int) -> str:
    return KEY_PREFIX + cache_key("v1", version, query.view_identity())


def remember(key: str, end_row: int, values: list[Any], keys: list[SortKey]) -> None:
    """Store the sort key of row end_row-1; failures are logged and ignored."""
    member = json.dumps([end_row, encode_values(values, keys)], separators=(",", ":"))
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.zadd(key, {member: end_row})
        pipe.zremrangebyrank(key, 0, -(MAX_BOUNDARIES_PER_VIEW + 1))
        pipe.expire(key, BOUNDARY_TTL_S)
        pipe.execute()
    except redis.RedisError:
        log.warning("could not remember a grid block boundary")


def remember_many(key: str, entries: list[tuple[int, list[Any]]], keys: list[SortKey]) -> None:
    """Store many (end_row, sort key of row end_row-1) at once; failures are logged and ignored."""
    members = {
        json.dumps([end_row, encode_values(values, keys)], separators=(",", ":")): end_row
        for end_row, values in entries
    }
    try:
        pipe = get_redis().pipeline(transaction=False)
        for start in range(0, len(entries), 1000):
            pipe.zadd(key, dict(list(members.items())[start : start + 1000]))
        pipe.zremrangebyrank(key, 0, -(MAX_BOUNDARIES_PER_VIEW + 1))
        pipe.expire(key, BOUNDARY_TTL_S)
        pipe.execute()
    except redis.RedisError:
        log.warning("could not store a grid jump map")


def nearest(
    key: str, start_row: int, max_skip: int, keys: list[SortKey]
) -> tuple[int, list[Any]] | None:
    """The closest remembered boundary b with start_row - max_skip <= b <= start_row."""
    try:
        found = get_redis().zrevrangebyscore(key, start_row, start_row - max_skip, start=0, num=1)
    except redis.RedisError:
        return None
    if not found:
        return None
    try:
        row_number, raw = json.loads(str(found[0]))
        return int(row_number), decode_values(raw, keys)
    except (ValueError, TypeError):
        log.warning("ignoring a malformed grid boundary under %s", key)
        return None
