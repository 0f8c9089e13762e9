"""Rate limits and concurrency caps shared by every process on every host, held in Redis.

GCRA (the algorithm behind redis-cell) in a Lua script: one key per limit holds the "theoretical
arrival time"; a call is admitted when it would not push that time more than `burst` intervals
ahead of now. Several limits of one call (SalesQL per minute *and* per day, OpenAI requests *and*
tokens) are checked and charged in one script, so a refusal by one never consumes the other.
Redis's own clock (TIME) is used, so hosts with skewed clocks still agree. Celery's `rate_limit`
is per worker and cannot do this.

The concurrency cap is a sorted set of slot tokens scored by their expiry: a holder that crashes
stops renewing, and its slot is swept once the TTL passes.
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import redis

from services.core.redis_client import get_redis
from services.core.settings import tuning
from services.providers.errors import RateLimited

log = logging.getLogger(__name__)

KEY_PREFIX = "sx:rl:"

# KEYS[i]: one per rule. ARGV: 4 values per rule: kind ('g' | 'w'), a, b, cost.
#  gcra:   a = emission interval in µs, b = burst (calls allowed at once)
#  window: a = limit per window,        b = window length in µs (epoch-aligned: UTC days)
# Returns {1, 0, now_us} when admitted (all rules charged) or {0, wait_us, now_us}.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local values = {}
local keys = {}
for i = 1, #KEYS do
  local kind = ARGV[(i - 1) * 4 + 1]
  local a = tonumber(ARGV[(i - 1) * 4 + 2])
  local b = tonumber(ARGV[(i - 1) * 4 + 3])
  local cost = tonumber(ARGV[(i - 1) * 4 + 4])
  if kind == 'g' then
    keys[i] = KEYS[i]
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then tat = now end
    local new_tat = tat + cost * a
    local allow_at = new_tat - b * a
    if allow_at > now and allow_at - now > wait then wait = allow_at - now end
    values[i] = new_tat
  else
    local start = math.floor(now / b) * b
    keys[i] = KEYS[i] .. ':' .. string.format('%.0f', start)
    local used = tonumber(redis.call('GET', keys[i]) or '0')
    if used + cost > a then
      local w = start + b - now
      if w > wait then wait = w end
    end
    values[i] = b
  end
end
if wait > 0 then return {0, wait, now} end
for i = 1, #KEYS do
  local kind = ARGV[(i - 1) * 4 + 1]
  local cost = tonumber(ARGV[(i - 1) * 4 + 4])
  if kind == 'g' then
    local ttl_ms = math.ceil((values[i] - now) / 1000) + 1000
    redis.call('SET', keys[i], string.format('%.0f', values[i]), 'PX', ttl_ms)
  else
    redis.call('INCRBY', keys[i], cost)
    redis.call('PEXPIRE', keys[i], math.ceil(values[i] / 1000) + 60000)
  end
end
return {1, 0, now}
"""

# KEYS[1]: the slot set. ARGV: cap, ttl_ms, token. Returns 1 when a slot was taken.
_SEM_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Rule:
    """One limit applied to one call: `limit` per `period_s` on `key`, charging `cost`."""

    key: str
    limit: int
    period_s: float
    burst: int = 1
    cost: int = 1
    kind: Literal["gcra", "window"] = "gcra"

    def args(self) -> list[str]:
        if self.kind == "window":
            return ["w", str(self.limit), str(int(self.period_s * 1_000_000)), str(self.cost)]
        interval_us = self.period_s * 1_000_000 / max(1, self.limit)
        # A cost above the burst could never be admitted; charging the whole burst is the most
        # a single call can take, which keeps the long-run rate right.
        cost = min(self.cost, self.burst)
        return ["g", repr(interval_us), str(self.burst), str(cost)]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    wait_s: float
    redis_time_us: int  # Redis's clock at the decision: the admission time when allowed


def _fail_open() -> bool:
    return tuning().provider_limiter_fail_open


class RateLimiter:
    """Admission against one or more shared limits; safe to use from many threads and processes."""

    def __init__(self, client: redis.Redis | None = None) -> None:
        self._client = client
        self._script: redis.commands.core.Script | None = None

    @property
    def client(self) -> redis.Redis:
        return self._client if self._client is not None else get_redis()

    def acquire(self, rules: Sequence[Rule]) -> Decision:
        """Try once: admitted (all rules charged) or told how long to wait. Never sleeps."""
        if not rules:
            return Decision(True, 0.0, 0)
        keys = [KEY_PREFIX + r.key for r in rules]
        args = [a for r in rules for a in r.args()]
        allowed, wait_us, now_us = self.client.eval(_ACQUIRE_LUA, len(keys), *keys, *args)  # type: ignore[misc]
        return Decision(bool(allowed), int(wait_us) / 1_000_000, int(now_us))

    def used_in_window(self, rule: Rule) -> int:
        """Calls charged so far in a calendar-window rule's current window (0 if Redis is away)."""
        try:
            seconds, micros = self.client.time()  # Redis's clock, as the script uses
            period_us = int(rule.period_s * 1_000_000)
            start = (int(seconds) * 1_000_000 + int(micros)) // period_us * period_us
            value = self.client.get(f"{KEY_PREFIX}{rule.key}:{start}")
        except redis.RedisError:
            return 0
        return int(value or 0)

    def wait(self, provider: str, rules: Sequence[Rule], max_wait_s: float) -> Decision:
        """Block until admitted; RateLimited(local=True) when the wait would exceed `max_wait_s`.

        The exception carries the wait, so a task can re-queue itself with that countdown
        instead of holding a worker asleep.
        """
        deadline = time.monotonic() + max_wait_s
        while True:
            try:
                decision = self.acquire(rules)
            except redis.RedisError as exc:
                if _fail_open():
                    log.warning("rate limiter unavailable, failing open: %s", type(exc).__name__)
                    return Decision(True, 0.0, 0)
                raise RateLimited(
                    provider, "rate limiter unavailable (Redis)", retry_after=5.0, local=True
                ) from None
            if decision.allowed:
                return decision
            remaining = deadline - time.monotonic()
            if decision.wait_s > remaining:
                raise RateLimited(
                    provider,
                    f"shared rate limit reached; next slot in {decision.wait_s:.1f}s",
                    retry_after=decision.wait_s,
                    local=True,
                )
            # A little jitter so processes woken together do not all hit Redis at once.
            time.sleep(decision.wait_s + random.uniform(0, 0.002))  # noqa: S311 - jitter


def acquire(key: str, limit: int, period_s: float, cost: int = 1, burst: int = 1) -> float:
    """One-shot GCRA check on `key`: 0.0 when admitted (and charged), else seconds to wait."""
    decision = RateLimiter().acquire([Rule(key, limit, period_s, burst=burst, cost=cost)])
    return 0.0 if decision.allowed else decision.wait_s


class Semaphore:
    """At most `cap` concurrent holders across all processes; slots expire after `ttl_s`."""

    def __init__(self, key: str, cap: int, ttl_s: float, client: redis.Redis | None = None) -> None:
        self.key = KEY_PREFIX + "sem:" + key
        self.cap = cap
        self.ttl_ms = int(ttl_s * 1000)
        self._client = client

    @property
    def client(self) -> redis.Redis:
        return self._client if self._client is not None else get_redis()

    def try_acquire(self) -> str | None:
        token = secrets.token_hex(8)
        ok = self.client.eval(_SEM_ACQUIRE_LUA, 1, self.key, self.cap, self.ttl_ms, token)
        return token if ok else None

    def release(self, token: str) -> None:
        self.client.zrem(self.key, token)

    def holders(self) -> int:
        now_ms = int(time.time() * 1000)
        return int(self.client.zcount(self.key, now_ms, "+inf"))

    @contextmanager
    def slot(self, provider: str, max_wait_s: float) -> Iterator[str]:
        """Hold one slot for the block; RateLimited(local=True) if none frees up in time."""
        deadline = time.monotonic() + max_wait_s
        delay = 0.005
        while True:
            try:
                token = self.try_acquire()
            except redis.RedisError:
                if _fail_open():
                    yield ""
                    return
                raise RateLimited(
                    provider, "concurrency limiter unavailable (Redis)", retry_after=5.0, local=True
                ) from None
            if token is not None:
                break
            if time.monotonic() >= deadline:
                raise RateLimited(
                    provider,
                    f"{self.cap} calls already in flight",
                    retry_after=1.0,
                    local=True,
                )
            time.sleep(delay + random.uniform(0, delay))  # noqa: S311 - jitter
            delay = min(delay * 2, 0.1)
        try:
            yield token
        finally:
            with contextlib.suppress(redis.RedisError):  # the slot's TTL frees it anyway
                self.release(token)
