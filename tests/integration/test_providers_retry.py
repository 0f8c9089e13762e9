"""Retries over real HTTP: stated waits are honoured, permanent errors are not retried, exhausted
retries raise the typed failure, and broken answers become typed errors."""

from __future__ import annotations

import time

import pytest

from services.providers.crustdata import CrustdataClient
from services.providers.errors import (
    MalformedResponse,
    ProviderAuthError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RetriesExhausted,
)
from services.providers.openai_client import OpenAIClient
from services.providers.salesql import SalesqlClient
from services.providers.sheets import SheetsClient
from tests.integration.sandbox_fixture import (
    SandboxControl,
    make_context,
    usage_rows,
)
from tests.integration.test_providers_clients import CandidateScore

pytestmark = pytest.mark.integration
URL = "https://www.linkedin.com/in/jane-doe"


@pytest.fixture()
def env(fast_providers: SandboxControl, db, redis_conn):
    return fast_providers, db, make_context(db)


def test_429_with_retry_after_is_retried_after_at_least_that_delay(env) -> None:
    ctl, db, ctx = env
    # SalesQL documents no Retry-After; this sandbox run sends one to test that it is honoured.
    ctl.configure("salesql", fail_next=["429"], retry_after_s=1.0, send_retry_after=True)
    started = time.monotonic()
    person = SalesqlClient().enrich_person(ctx, URL)
    elapsed = time.monotonic() - started
    assert person is not None
    assert elapsed >= 1.0
    assert [r["status"] for r in usage_rows(db, "salesql")] == ["rate_limited", "ok"]
    assert [r["attempt"] for r in usage_rows(db, "salesql")] == [1, 2]


def test_openai_reset_header_is_honoured_without_retry_after(env) -> None:
    ctl, _db, ctx = env
    # No Retry-After: the wait comes from x-ratelimit-reset-requests ("1.500s").
    ctl.configure("openai", fail_next=["429"], retry_after_s=1.5, send_retry_after=False)
    started = time.monotonic()
    OpenAIClient().structured(
        ctx, messages=[{"role": "user", "content": "python"}], response_model=CandidateScore
    )
    assert time.monotonic() - started >= 1.5
    assert ctl.requests("openai") == 2


def test_stated_wait_beyond_total_budget_fails_fast_with_the_wait(env) -> None:
    ctl, _db, ctx = env
    ctl.configure("sheets", fail_next=["429"], retry_after_s=30)
    started = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        SheetsClient().get_values(ctx, "s1", "A1:B2")
    assert time.monotonic() - started < 3  # did not sleep 30 s in the worker
    assert isinstance(info.value.last_error, RateLimited)
    assert info.value.retry_after is not None and info.value.retry_after >= 29


@pytest.mark.parametrize("fault", ["401", "402"])
def test_permanent_errors_are_not_retried(env, fault: str) -> None:
    ctl, db, ctx = env
    ctl.configure("crustdata", fail_next=[fault, fault, fault])
    with pytest.raises(ProviderAuthError if fault == "401" else Exception) as info:
        CrustdataClient().enrich_batch(ctx, [URL])
    assert not getattr(info.value, "retryable", True)
    assert ctl.requests("crustdata") == 1
    assert len(usage_rows(db, "crustdata")) == 1


def test_exhausted_retries_raise_typed_failure_with_last_error(env) -> None:
    ctl, db, ctx = env
    ctl.configure("crustdata", fail_next=["500", "503", "500", "500"])
    with pytest.raises(RetriesExhausted) as info:
        CrustdataClient().enrich_batch(ctx, [URL])
    assert info.value.attempts == 3
    assert isinstance(info.value.last_error, ProviderUnavailable)
    assert ctl.requests("crustdata") == 3
    assert [r["status"] for r in usage_rows(db, "crustdata")] == ["unavailable"] * 3


def test_timeout_is_retried_then_succeeds(env) -> None:
    ctl, db, ctx = env
    ctl.configure("salesql", fail_next=["timeout"], hang_s=1.5)
    assert SalesqlClient().enrich_person(ctx, URL) is not None
    assert [r["status"] for r in usage_rows(db, "salesql")] == ["timeout", "ok"]


def test_timeouts_exhausted(env) -> None:
    ctl, _db, ctx = env
    ctl.configure("sheets", timeout_ratio=1.0, hang_s=1.2)
    with pytest.raises(RetriesExhausted) as info:
        SheetsClient().get_values(ctx, "s1", "A1:B2")
    assert isinstance(info.value.last_error, ProviderTimeout)


def test_outage_then_recovery(env) -> None:
    ctl, _db, ctx = env
    # The outage answers 503 with Retry-After (SalesQL documents none; this run sends one).
    ctl.configure("salesql", outage_until=time.time() + 1.0, send_retry_after=True)
    started = time.monotonic()
    assert SalesqlClient().enrich_person(ctx, URL) is not None
    assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize("provider", ["crustdata", "salesql", "openai", "sheets"])
def test_malformed_answer_is_a_typed_error_not_a_crash(env, provider: str) -> None:
    ctl, db, ctx = env
    ctl.configure(provider, fail_next=["malformed"])
    calls = {
        "crustdata": lambda: CrustdataClient().enrich_batch(ctx, [URL]),
        "salesql": lambda: SalesqlClient().enrich_person(ctx, URL),
        "openai": lambda: OpenAIClient().structured(
            ctx, messages=[{"role": "user", "content": "x"}], response_model=CandidateScore
        ),
        "sheets": lambda: SheetsClient().get_values(ctx, "s1", "A1:B2"),
    }
    with pytest.raises(MalformedResponse):
        calls[provider]()
    assert ctl.requests(provider) == 1
    assert [r["status"] for r in usage_rows(db, provider)] == ["malformed"]
