"""The pipeline every provider call goes through: budget, shared rate limit, concurrency cap,
HTTP with timeouts, typed classification, one metered `api_usage` row per attempt, and retries.

Provider modules only describe *what* to send and *how to read* the answer (a function returning
`Metered[T]` or raising a typed error); the order of the checks lives here once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import redis

from services.core import metrics
from services.providers.config import Provider, ProviderConfig, load_config
from services.providers.errors import ProviderError, RateLimited
from services.providers.metering import Budget, CallContext, Reservation, UsageRow, record_usage
from services.providers.ratelimit import RateLimiter, Rule, Semaphore
from services.providers.retry import RetryPolicy, call_with_retries

log = logging.getLogger("services.providers")

T = TypeVar("T")


@dataclass
class Metered(Generic[T]):
    """A successful answer plus what it cost, as read from the provider's response."""

    value: T
    units: float = 0.0
    cost_usd: float = 0.0
    http_status: int | None = 200
    status: str = "ok"
    note: str | None = None  # e.g. "3 of 25 profiles failed" for a partial batch


@dataclass(frozen=True)
class Operation:
    name: str
    subject: str | None = None
    estimate: float = 0.0  # in the provider's budget metric (units or USD)
    tokens: int = 1  # cost against "tokens" rules (OpenAI TPM)


class ProviderClient:
    """Shared plumbing of the provider clients. Thread-safe; holds no per-user state."""

    provider: Provider

    def __init__(
        self, config: ProviderConfig | None = None, *, redis_client: redis.Redis | None = None
    ) -> None:
        self.config = config or load_config(self.provider)
        self._limiter = RateLimiter(redis_client)
        self._semaphore = Semaphore(
            self.provider, self.config.concurrency, self.config.concurrency_ttl_s, redis_client
        )
        self._budget = Budget(
            self.provider, self.config.daily_budget, self.config.budget_metric, redis_client
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    @property
    def base_url(self) -> str:
        return self.config.require_base_url()

    def rules(self, ctx: CallContext, op: Operation) -> list[Rule]:
        out = []
        for spec in self.config.rules:
            key = f"{self.provider}:{spec.name}"
            if spec.scope == "user":
                key += f":u{ctx.user_id if ctx.user_id is not None else 'anon'}"
            cost = op.tokens if spec.counts == "tokens" else 1
            out.append(Rule(key, spec.limit, spec.period_s, spec.burst, cost, spec.kind))
        return out

    def retry_policy(self) -> RetryPolicy:
        c = self.config
        return RetryPolicy(c.max_attempts, c.max_retry_s, c.backoff_base_s, c.backoff_max_s)

    def execute(self, ctx: CallContext, op: Operation, fn: Callable[[], Metered[T]]) -> T:
        """Run `fn` under budget, limits and retries; every attempt that reaches the provider is
        metered. Raises a permanent ProviderError, or RetriesExhausted, never returns a default."""
        self.config.require_base_url()
        return call_with_retries(
            lambda attempt: self._attempt(ctx, op, fn, attempt), self.retry_policy()
        )

    def _reserve(self, ctx: CallContext, op: Operation, attempt: int) -> Reservation:
        try:
            return self._budget.reserve(op.estimate)
        except redis.RedisError:
            raise RateLimited(
                self.provider, "budget counter unavailable (Redis)", retry_after=5.0, local=True
            ) from None
        except ProviderError as exc:  # BudgetExceeded: recorded so admins see refused work
            self._record(ctx, op, attempt, exc.usage_status, error=exc.reason)
            raise

    def _attempt(
        self, ctx: CallContext, op: Operation, fn: Callable[[], Metered[T]], attempt: int
    ) -> T:
        reservation = self._reserve(ctx, op, attempt)
        started = time.monotonic()
        if attempt > 1:
            metrics.PROVIDER_RETRIES.labels(self.provider).inc()
        try:
            self._limiter.wait(self.provider, self.rules(ctx, op), self.config.limiter_wait_s)
            metrics.LIMITER_WAIT.labels(self.provider).observe(time.monotonic() - started)
            with self._semaphore.slot(self.provider, self.config.limiter_wait_s):
                started = time.monotonic()
                result = fn()
        except ProviderError as exc:
            self._settle_failure(ctx, op, attempt, exc, reservation, _ms_since(started))
            raise
        except BaseException:
            self._budget.settle(reservation, 0.0)
            raise
        self._settle_success(ctx, op, attempt, result, reservation, _ms_since(started))
        return result.value

    def _settle_failure(
        self,
        ctx: CallContext,
        op: Operation,
        attempt: int,
        exc: ProviderError,
        reservation: Reservation,
        latency: int,
    ) -> None:
        """Charge what the failed attempt cost and meter it, unless nothing was sent."""
        self._budget.settle(reservation, self._actual(exc.units, exc.cost_usd))
        if not (isinstance(exc, RateLimited) and exc.local):  # local refusals sent nothing
            self._record(
                ctx,
                op,
                attempt,
                exc.usage_status,
                units=exc.units,
                cost_usd=exc.cost_usd,
                http_status=exc.http_status,
                latency_ms=latency,
                error=exc.reason,
            )
        log.info(
            "provider call failed provider=%s op=%s attempt=%d status=%s latency_ms=%d",
            self.provider,
            op.name,
            attempt,
            exc.usage_status,
            latency,
        )

    def _settle_success(
        self,
        ctx: CallContext,
        op: Operation,
        attempt: int,
        result: Metered[T],
        reservation: Reservation,
        latency: int,
    ) -> None:
        """Charge what the answer says it cost, and meter it."""
        self._budget.settle(reservation, self._actual(result.units, result.cost_usd))
        self._record(
            ctx,
            op,
            attempt,
            result.status,
            units=result.units,
            cost_usd=result.cost_usd,
            http_status=result.http_status,
            latency_ms=latency,
            error=result.note,
        )
        log.info(
            "provider call ok provider=%s op=%s attempt=%d status=%s latency_ms=%d",
            self.provider,
            op.name,
            attempt,
            result.status,
            latency,
        )

    def _actual(self, units: float, cost_usd: float) -> float:
        return cost_usd if self.config.budget_metric == "cost_usd" else units

    def _record(
        self,
        ctx: CallContext,
        op: Operation,
        attempt: int,
        status: str,
        *,
        units: float = 0.0,
        cost_usd: float = 0.0,
        http_status: int | None = None,
        latency_ms: int | None = None,
        error: str | None = None,
    ) -> None:
        metrics.PROVIDER_CALLS.labels(self.provider, op.name, status).inc()
        if http_status == 429:
            metrics.PROVIDER_429.labels(self.provider).inc()
        record_usage(
            ctx,
            UsageRow(
                provider=self.provider,
                operation=op.name,
                status=status,
                units=units,
                cost_usd=cost_usd,
                http_status=http_status,
                latency_ms=latency_ms,
                attempt=attempt,
                subject=op.subject,
                error=error,
            ),
        )


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
