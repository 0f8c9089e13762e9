"""Error types, redaction, retry policy and configuration (no network, no Redis)."""

from __future__ import annotations

import time

import pytest

from services.core.settings import load_settings
from services.providers.config import SANDBOX_KEY, load_config
from services.providers.errors import (
    BudgetExceeded,
    NotConfigured,
    PermanentError,
    ProviderAuthError,
    ProviderTimeout,
    RateLimited,
    RetriesExhausted,
    RetryLater,
    redact,
    register_secret,
)
from services.providers.retry import RetryPolicy, call_with_retries, next_wait

BASE = {"SECRET_KEY": "k" * 40}


def test_error_families() -> None:
    assert issubclass(RateLimited, RetryLater) and issubclass(ProviderTimeout, RetryLater)
    assert issubclass(ProviderAuthError, PermanentError) and issubclass(
        BudgetExceeded, PermanentError
    )
    assert RateLimited("x", "m").retryable and not ProviderAuthError("x", "m").retryable
    last = RateLimited("crustdata", "429", retry_after=7)
    exhausted = RetriesExhausted(last, 4)
    assert exhausted.retry_after == 7 and exhausted.attempts == 4 and "429" in exhausted.reason


def test_redaction_of_registered_and_bearer_secrets() -> None:
    register_secret("sk-live-abcdef123456")
    text = redact("bad key sk-live-abcdef123456; header Bearer zzzzzzzzzzzz1234")
    assert "sk-live-abcdef123456" not in text and "zzzzzzzzzzzz1234" not in text
    assert "sk-live-abcdef123456" not in str(
        ProviderAuthError("openai", "echo sk-live-abcdef123456")
    )


def test_base_url_resolution_and_repr() -> None:
    sandbox = load_settings({**BASE, "SANDBOX_URL": "http://127.0.0.1:8765/"})
    cfg = load_config("crustdata", sandbox, env={})
    assert cfg.base_url == "http://127.0.0.1:8765/crustdata" and cfg.sandbox
    assert cfg.api_key == SANDBOX_KEY
    real = load_settings({**BASE, "CRUSTDATA_API_KEY": "cd-real-key-123456789"})
    cfg = load_config("crustdata", real, env={})
    assert cfg.base_url == "https://api.crustdata.com" and not cfg.sandbox
    assert "cd-real-key-123456789" not in repr(cfg)
    nothing = load_config("openai", load_settings(BASE), env={})
    with pytest.raises(NotConfigured):
        nothing.require_base_url()


def test_limits_from_env_with_documented_defaults() -> None:
    settings = load_settings({**BASE, "SANDBOX_URL": "http://x"})
    salesql = load_config("salesql", settings, env={})
    assert [(r.name, r.limit, r.period_s, r.kind) for r in salesql.rules] == [
        ("rpm", 180, 60.0, "gcra"),
        ("rpd", 5000, 86400.0, "window"),
    ]
    assert load_config("crustdata", settings, env={}).rules[0].limit == 15
    sheets = load_config("sheets", settings, env={})
    assert sheets.rules[0].scope == "user" and sheets.rules[0].limit == 60
    openai = load_config("openai", settings, env={"OPENAI_TOKENS_PER_MIN": "60000"})
    assert openai.rules[1].counts == "tokens" and openai.rules[1].burst == 10000
    assert openai.budget_metric == "cost_usd"
    tuned = load_config("crustdata", settings, env={"CRUSTDATA_RATE_PER_MIN": "30"})
    assert tuned.rules[0].limit == 30
    with pytest.raises(ValueError):
        load_config("crustdata", settings, env={"CRUSTDATA_RATE_PER_MIN": "lots"})


def test_backoff_and_stated_waits() -> None:
    policy = RetryPolicy(backoff_base_s=1, backoff_max_s=8, stated_jitter_s=0.25)
    assert 0.5 <= next_wait(policy, 1, None) <= 1
    assert 4 <= next_wait(policy, 5, None) <= 8
    assert 3 <= next_wait(policy, 1, RateLimited("x", "m", retry_after=3)) <= 3.25


def test_call_with_retries_paths() -> None:
    policy = RetryPolicy(max_attempts=3, max_total_s=5, backoff_base_s=0.01, backoff_max_s=0.02)
    seen: list[int] = []

    def flaky(attempt: int) -> str:
        seen.append(attempt)
        if attempt < 3:
            raise ProviderTimeout("p", "slow")
        return "ok"

    assert call_with_retries(flaky, policy) == "ok" and seen == [1, 2, 3]

    def permanent(attempt: int) -> str:
        seen.append(attempt)
        raise ProviderAuthError("p", "bad key")

    seen.clear()
    with pytest.raises(ProviderAuthError):
        call_with_retries(permanent, policy)
    assert seen == [1]

    def always(attempt: int) -> str:
        raise RateLimited("p", "429", retry_after=0.05)

    with pytest.raises(RetriesExhausted) as info:
        call_with_retries(always, policy)
    assert info.value.attempts == 3

    def long_wait(attempt: int) -> str:
        raise RateLimited("p", "429", retry_after=60)

    started = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        call_with_retries(long_wait, policy)
    assert time.monotonic() - started < 1 and info.value.attempts == 1
