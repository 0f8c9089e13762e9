"""Typed provider errors: *retry later* versus *do not retry*.

Every failure of an outside call ends as one of these classes, so a caller (a Celery task, a
callback) can decide from the type alone whether to re-queue with a countdown or to record a
permanent failure. `usage_status` is the value written to `api_usage.status` for the attempt.
Messages are passed through `redact()` so a provider echoing a key back never leaks it.
"""

from __future__ import annotations

import re

# Registered secrets (API keys, tokens) that must never appear in a message, a log line or a repr.
_SECRETS: set[str] = set()
_MIN_SECRET_LEN = 6
_MAX_MESSAGE = 500


def register_secret(value: str | None) -> None:
    """Remember a key so `redact()` can blank it out of any text that might be shown or logged."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Replace every registered secret (and bearer-looking tokens) with a placeholder."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "<redacted>")
    text = re.sub(r"(?i)(bearer|token)\s+[A-Za-z0-9._\-]{8,}", r"\1 <redacted>", text)
    return text[:_MAX_MESSAGE]


class ProviderError(Exception):
    """Base of every provider failure."""

    usage_status = "error"
    retryable = False

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        http_status: int | None = None,
    ) -> None:
        self.provider = provider
        self.message = redact(message)
        self.http_status = http_status
        # What the failed attempt still cost (e.g. OpenAI tokens spent before a refusal).
        self.units = 0.0
        self.cost_usd = 0.0
        super().__init__(f"{provider}: {self.message}")

    @property
    def reason(self) -> str:
        """A short, user-presentable reason, recorded in `api_usage.error` and job errors."""
        return f"{type(self).__name__}: {self.message}"


class RetryLater(ProviderError):
    """A transient failure: the same call may succeed later (429, 5xx, timeouts)."""

    usage_status = "retry_later"
    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, http_status=http_status)
        # Seconds the provider (or our own limiter) asked us to wait; None when not stated.
        self.retry_after = retry_after


class RateLimited(RetryLater):
    """The provider answered 429, or our shared limiter would make us wait too long."""

    usage_status = "rate_limited"

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(provider, message, http_status=http_status, retry_after=retry_after)
        # True when our own limiter refused before any request left this process.
        self.local = local


class ProviderUnavailable(RetryLater):
    """5xx, connection refused/reset, or a provider outage."""

    usage_status = "unavailable"


class ProviderTimeout(RetryLater):
    """Connect or read timeout: the provider may or may not have done the work."""

    usage_status = "timeout"


class PermanentError(ProviderError):
    """Retrying the same call cannot help; record the failure and tell the user why."""

    usage_status = "failed"


class ProviderAuthError(PermanentError):
    """401/403: the key is wrong, revoked or lacks the scope."""

    usage_status = "auth_error"


class BadRequest(PermanentError):
    """400/404/409/422 and similar: our request is wrong or refers to something absent."""

    usage_status = "bad_request"


class QuotaExhausted(PermanentError):
    """The account is out of quota or credits (OpenAI `insufficient_quota`, HTTP 402)."""

    usage_status = "quota_exhausted"


OutOfCredits = QuotaExhausted


class DailyLimitReached(PermanentError):
    """The provider's per-day call limit is spent (SalesQL answers a bare 429 for it): nothing
    more can succeed before `resumes_at` (00:00 UTC), so a job stops instead of retrying."""

    usage_status = "daily_limit"

    def __init__(
        self, provider: str, message: str, *, resumes_at: str, http_status: int | None = None
    ) -> None:
        super().__init__(provider, message, http_status=http_status)
        self.resumes_at = resumes_at  # ISO time, e.g. "2026-12-03T00:00:00+00:00"


class NotRetryable(PermanentError):
    """The provider said this failure must not be retried (OpenAI `x-should-retry: false`)."""

    usage_status = "not_retryable"


class BudgetExceeded(PermanentError):
    """Our own daily budget for the provider would be exceeded by this call; nothing was sent."""

    usage_status = "budget_exceeded"


class MalformedResponse(PermanentError):
    """The provider answered, but not in the documented shape (bad JSON, missing fields)."""

    usage_status = "malformed"


class ModelRefusal(PermanentError):
    """The model refused or stopped early (refusal, content filter, length) for this input."""

    usage_status = "refused"


class AgentBusy(PermanentError):
    """PhantomBuster refused a launch: the agent already runs `maxInstanceCount` containers."""

    usage_status = "agent_busy"


class NotConfigured(PermanentError):
    """Neither a key nor a sandbox URL is configured for the provider."""

    usage_status = "not_configured"


class RetriesExhausted(ProviderError):
    """Attempts or total time ran out on transient errors; carries the last one."""

    usage_status = "retries_exhausted"

    def __init__(self, last_error: RetryLater, attempts: int) -> None:
        self.last_error = last_error
        self.attempts = attempts
        super().__init__(
            last_error.provider,
            f"gave up after {attempts} attempt(s): {last_error.reason}",
            http_status=last_error.http_status,
        )

    @property
    def retry_after(self) -> float | None:
        """When the last error said how long to wait, a caller can re-queue with that countdown."""
        return self.last_error.retry_after
