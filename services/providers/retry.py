"""Retries with exponential backoff and jitter (tenacity), honouring the provider's stated wait.

Only `RetryLater` errors are retried. The wait before the next attempt is the provider's
`Retry-After` / `retry-after-ms` / `x-ratelimit-reset-*` (parsed into `RetryLater.retry_after`)
when it gave one, else full-jitter exponential backoff. Attempts and total time are both capped,
and a wait that would overrun the total is not started: the caller gets `RetriesExhausted` at
once, with the stated wait, so a task can re-queue itself instead of sleeping in a worker.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)

from services.providers.errors import RetriesExhausted, RetryLater

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_total_s: float = 120.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    # Added on top of a stated Retry-After so that many waiting clients do not return in lockstep.
    stated_jitter_s: float = 0.25


def next_wait(policy: RetryPolicy, attempt: int, error: BaseException | None) -> float:
    """Seconds before attempt `attempt + 1`."""
    stated = getattr(error, "retry_after", None)
    if isinstance(stated, (int, float)) and stated >= 0:
        # Never earlier than the provider asked; a small jitter only ever makes it later.
        return float(stated) + random.uniform(0, policy.stated_jitter_s)  # noqa: S311 - jitter
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * (2 ** (attempt - 1)))
    # "Equal jitter": never zero, never synchronised between clients.
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret


def call_with_retries(fn: Callable[[int], T], policy: RetryPolicy) -> T:
    """Run `fn(attempt_number)` until it returns, raises a permanent error, or retries run out."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return next_wait(policy, state.attempt_number, error)

    retrying = Retrying(
        retry=retry_if_exception_type(RetryLater),
        wait=wait,
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_total_s),
        reraise=False,
    )
    try:
        for attempt in retrying:
            with attempt:
                return fn(attempt.retry_state.attempt_number)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        assert isinstance(last, RetryLater)  # only RetryLater is retried
        raise RetriesExhausted(last, exc.last_attempt.attempt_number) from last
    raise AssertionError("unreachable: tenacity neither returned nor raised")
