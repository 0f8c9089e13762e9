"""Metering: one `api_usage` row per provider attempt, and a daily budget per provider.

The budget is enforced *before* a call, atomically, with a Redis counter per provider and UTC day
(integer micro-units, so dollars add up exactly). A call reserves its estimated cost; the
reservation is corrected to the actual cost afterwards. The counter is seeded from the day's
`api_usage` sum when missing, so the database stays the record and Redis only the fast gate.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import psycopg
import redis

from services.core.db import unit_of_work
from services.core.redis_client import get_redis
from services.providers.errors import BudgetExceeded, redact

log = logging.getLogger(__name__)

MICRO = 1_000_000

# KEYS[1]: the day's counter. ARGV: amount, limit (micro-units).
# Returns {-1, 0} when the counter must first be seeded, {0, used} when refused, {1, used_after}.
_RESERVE_LUA = """
local cur = redis.call('GET', KEYS[1])
if not cur then return {-1, 0} end
cur = tonumber(cur)
local amount = tonumber(ARGV[1])
if cur + amount > tonumber(ARGV[2]) then return {0, cur} end
return {1, redis.call('INCRBY', KEYS[1], amount)}
"""
# Corrections apply only to an existing counter; a vanished one is re-seeded from the database.
_ADJUST_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return 0
"""


@dataclass(frozen=True)
class CallContext:
    """Who a provider call is for; every call is metered against these ids (any may be None)."""

    user_id: int | None = None
    project_id: int | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class UsageRow:
    provider: str
    operation: str
    status: str
    units: float = 0.0
    cost_usd: float = 0.0
    http_status: int | None = None
    latency_ms: int | None = None
    attempt: int = 1
    subject: str | None = None
    error: str | None = None


def record_usage(ctx: CallContext, row: UsageRow) -> None:
    """Insert one api_usage row in its own transaction.

    A metering failure is logged and not raised: the provider call already happened (and may have
    cost money), and failing it now would make the caller repeat and pay again.
    """
    try:
        with unit_of_work() as conn:
            conn.execute(
                """
                INSERT INTO api_usage (user_id, project_id, job_id, provider, operation, units,
                    cost_usd, status, http_status, latency_ms, attempt, subject, error)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                (
                    ctx.user_id,
                    ctx.project_id,
                    ctx.job_id,
                    row.provider,
                    row.operation,
                    row.units,
                    round(row.cost_usd, 6),
                    row.status,
                    row.http_status,
                    row.latency_ms,
                    row.attempt,
                    (row.subject or None) and row.subject[:500],
                    row.error and redact(row.error),
                ),
            )
    except psycopg.Error as exc:
        log.error(
            "api_usage row not written for %s.%s: %s",
            row.provider,
            row.operation,
            type(exc).__name__,
        )


def _utc_midnight(now: dt.datetime | None = None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


_SPENT_SQL = {
    "units": "SELECT coalesce(sum(units), 0) FROM api_usage WHERE provider = %s AND ts >= %s",
    "cost_usd": "SELECT coalesce(sum(cost_usd), 0) FROM api_usage WHERE provider = %s AND ts >= %s",
}


def spent_today(provider: str, metric: str) -> float:
    """The day's (UTC) metered units or dollars for a provider, from api_usage."""
    with unit_of_work() as conn:
        row = conn.execute(_SPENT_SQL[metric], (provider, _utc_midnight())).fetchone()
    return float(row[0]) if row else 0.0


@dataclass(frozen=True)
class Reservation:
    key: str
    micro: int


class Budget:
    """Daily budget of one provider, in units (credits, launches) or dollars."""

    def __init__(
        self, provider: str, limit: float, metric: str, client: redis.Redis | None = None
    ) -> None:
        self.provider = provider
        self.limit = limit
        self.metric = metric
        self._client = client

    @property
    def client(self) -> redis.Redis:
        return self._client if self._client is not None else get_redis()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def key(self) -> str:
        return f"sx:budget:{self.provider}:{_utc_midnight().date().isoformat()}"

    def _seed(self, key: str) -> None:
        used = round(spent_today(self.provider, self.metric) * MICRO)
        self.client.set(key, used, nx=True, ex=2 * 86400)

    def reserve(self, amount: float) -> Reservation:
        """Charge the estimate now, or raise BudgetExceeded before anything is sent."""
        if not self.enabled:
            return Reservation("", 0)
        key, micro = self.key(), max(0, round(amount * MICRO))
        limit = round(self.limit * MICRO)
        for _ in range(2):
            status, used = self.client.eval(_RESERVE_LUA, 1, key, micro, limit)  # type: ignore[misc]
            if status == -1:
                self._seed(key)
                continue
            if status == 0:
                unit = "USD" if self.metric == "cost_usd" else "units"
                raise BudgetExceeded(
                    self.provider,
                    f"daily budget of {self.limit:g} {unit} reached "
                    f"({int(used) / MICRO:g} used, this call needs about {amount:g}); "
                    "it resets at 00:00 UTC or when an admin raises it",
                )
            return Reservation(key, micro)
        raise BudgetExceeded(self.provider, "daily budget counter could not be initialised")

    def settle(self, reservation: Reservation, actual: float) -> None:
        """Replace the estimate by what the call really cost (0 when it failed uncharged)."""
        if not reservation.key:
            return
        delta = round(actual * MICRO) - reservation.micro
        if delta:
            try:
                self.client.eval(_ADJUST_LUA, 1, reservation.key, delta)
            except redis.RedisError:
                log.warning("budget correction for %s lost; re-seeded tomorrow", self.provider)
