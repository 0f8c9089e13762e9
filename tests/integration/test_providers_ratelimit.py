"""The shared limiter on real Redis: GCRA admission, multi-limit atomicity, four separate
processes sharing one limit, the concurrency cap, and the limiter in front of a real client."""

from __future__ import annotations

import os
import threading
import time

import pytest

from bench.bench_limiter import max_in_window, run_processes
from services.providers.crustdata import CrustdataClient
from services.providers.errors import RateLimited, RetriesExhausted
from services.providers.ratelimit import RateLimiter, Rule, Semaphore, acquire
from services.providers.salesql import SalesqlClient
from tests.integration.sandbox_fixture import (
    SandboxControl,
    make_context,
    usage_rows,
)

pytestmark = pytest.mark.integration


def test_gcra_admits_at_the_configured_spacing(redis_conn) -> None:
    assert acquire("t:gcra", limit=10, period_s=1.0) == 0.0
    wait = acquire("t:gcra", limit=10, period_s=1.0)
    assert 0.05 < wait <= 0.1
    time.sleep(wait)
    assert acquire("t:gcra", limit=10, period_s=1.0) == 0.0


def test_burst_allows_that_many_at_once(redis_conn) -> None:
    results = [acquire("t:burst", limit=60, period_s=60.0, burst=5) for _ in range(6)]
    assert results[:5] == [0.0] * 5 and results[5] > 0.5


def test_refusal_by_one_rule_charges_no_other(redis_conn, same_utc_day) -> None:
    limiter = RateLimiter()
    day = Rule("t:day", limit=2, period_s=86400, kind="window")
    minute = Rule("t:min", limit=6000, period_s=60.0, burst=10)
    assert limiter.acquire([minute, day]).allowed
    assert limiter.acquire([minute, day]).allowed
    refused = limiter.acquire([minute, day])
    assert not refused.allowed and refused.wait_s > 0
    # the refused call charged no rule: the minute rule still admits its remaining burst
    assert sum(limiter.acquire([minute]).allowed for _ in range(8)) == 8


def test_four_processes_share_one_limit(redis_conn, sandbox_url: str) -> None:
    rate, run_s = 25, 3.0  # 25 per second → 75 admissions possible in 3 s
    times = run_processes(
        os.environ["REDIS_URL"],
        "t:shared",
        rate,
        1.0,
        run_s,
        n=4,
        http_url=f"{sandbox_url}/_sandbox/health",  # each admission makes a real HTTP call
    )
    # Never above the limit in any 1-second (half-open) window, measured on Redis's clock ...
    assert max_in_window(times, 1_000_000) <= rate
    # ... and together at least 90% of it.
    assert len(times) >= 0.9 * rate * run_s, (len(times), rate * run_s)


def test_semaphore_caps_holders_and_crashed_slots_expire(redis_conn) -> None:
    sem = Semaphore("t:sem", cap=2, ttl_s=0.5)
    a, b = sem.try_acquire(), sem.try_acquire()
    assert a and b and sem.try_acquire() is None
    sem.release(a)
    c = sem.try_acquire()
    assert c is not None
    # b and c "crash" (never released): their slots expire after the TTL
    time.sleep(0.6)
    assert sem.try_acquire() is not None


def test_concurrency_cap_in_front_of_real_calls(
    fast_providers: SandboxControl,
    db,
    redis_conn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALESQL_CONCURRENCY", "2")
    fast_providers.configure("salesql", latency_ms=300)
    ctx = make_context(db)
    client = SalesqlClient()
    threads = [
        threading.Thread(
            target=client.enrich_person, args=(ctx, f"https://www.linkedin.com/in/p-{i}")
        )
        for i in range(6)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 6 calls of 300 ms, 2 at a time → at least 3 rounds
    assert time.monotonic() - started >= 0.85
    assert fast_providers.requests("salesql") == 6


def test_local_limit_refuses_before_sending_and_reports_the_wait(
    fast_providers: SandboxControl,
    db,
    redis_conn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRUSTDATA_RATE_PER_MIN", "1")
    ctx = make_context(db)
    client = CrustdataClient()
    client.enrich_batch(ctx, ["https://www.linkedin.com/in/a-b"])
    started = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        client.enrich_batch(ctx, ["https://www.linkedin.com/in/c-d"])
    assert time.monotonic() - started < 2
    last = info.value.last_error
    assert isinstance(last, RateLimited) and last.local
    assert info.value.retry_after is not None and 50 < info.value.retry_after <= 60
    assert fast_providers.requests("crustdata") == 1
    assert len(usage_rows(db, "crustdata")) == 1  # nothing was sent, nothing metered
