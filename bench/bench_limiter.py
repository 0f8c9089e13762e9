"""Benchmark of the shared rate limiter (services/providers/ratelimit.py) on a real Redis.

1. Overhead: median µs of one `RateLimiter.acquire` (a single EVAL of the GCRA script) when the
   limit is never reached, i.e. the cost added to every provider call.
2. Throughput: 4 separate processes (spawn) share one limit and call the limiter in a loop; the
   admissions (on Redis's clock) are counted as a fraction of the limit, and the busiest sliding
   window is checked never to exceed it.

Usage: REDIS_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/bench_limiter.py [--rate 50]
Prints human-readable lines, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from services.providers.ratelimit import RateLimiter, Rule


def limiter_worker(
    redis_url: str,
    key: str,
    rate: int,
    period_s: float,
    run_s: float,
    ready: Any,
    go: Any,
    start_at: Any,
    out: Any,
    http_url: str | None = None,
) -> None:
    """One process: signal ready, wait for the common start, then take the limit until time is up
    (optionally making a real HTTP call per admission). Puts its admission times (µs) on `out`."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    limiter = RateLimiter(client)
    rules = [Rule(key, limit=rate, period_s=period_s)]
    session = None
    if http_url:
        import httpx

        session = httpx.Client(timeout=5)
    client.ping()
    ready.put(os.getpid())
    go.wait()
    start = start_at.value
    time.sleep(max(0.0, start - time.time()))
    admitted: list[int] = []
    while time.time() < start + run_s:
        decision = limiter.acquire(rules)
        if not decision.allowed:
            time.sleep(min(decision.wait_s, max(0.0, start + run_s - time.time())))
            continue
        if time.time() >= start + run_s:
            break
        admitted.append(decision.redis_time_us)
        if session is not None:
            session.get(http_url)
    out.put(admitted)


def run_processes(
    redis_url: str,
    key: str,
    rate: int,
    period_s: float,
    run_s: float,
    n: int = 4,
    http_url: str | None = None,
) -> list[int]:
    """Start `n` spawned processes on one limit; return all admission times (µs, Redis clock)."""
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    start_at = ctx.Value("d", 0.0)
    procs = [
        ctx.Process(
            target=limiter_worker,
            args=(redis_url, key, rate, period_s, run_s, ready, go, start_at, out, http_url),
        )
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=60)
    start_at.value = time.time() + 0.3
    go.set()
    results = [out.get(timeout=run_s + 60) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    return [t for r in results for t in r]


def max_in_window(times_us: list[int], window_us: int) -> int:
    """The most admissions in any half-open window [t, t + window)."""
    times = sorted(times_us)
    return max((bisect_left(times, t + window_us) - i for i, t in enumerate(times)), default=0)


def overhead_us(client: redis.Redis, calls: int) -> float:
    limiter = RateLimiter(client)
    rules = [Rule("bench:overhead", limit=10**9, period_s=1.0, burst=10**6)]
    limiter.acquire(rules)  # load the script, warm the connection
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        limiter.acquire(rules)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=50, help="limit per second for the 4 processes")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/11")
    client = redis.Redis.from_url(url, decode_responses=True)
    medians = [overhead_us(client, args.calls) for _ in range(args.repeats)]
    print(f"limiter overhead: median {statistics.median(medians):.0f} µs per call ({medians})")
    fractions, worst = [], 0
    for i in range(args.repeats):
        key = f"bench:shared:{os.getpid()}:{i}"
        times = run_processes(url, key, args.rate, 1.0, args.seconds)
        fraction = len(times) / (args.rate * args.seconds)
        peak = max_in_window(times, 1_000_000)
        fractions.append(round(fraction, 4))
        worst = max(worst, peak)
        print(
            f"4 processes, limit {args.rate}/s: {len(times)} admitted = {fraction:.1%}, busiest 1 s window {peak}"
        )
        client.delete("sx:rl:" + key)
    result = {
        "overhead_median_us": round(statistics.median(medians), 1),
        "overhead_medians_us": [round(m, 1) for m in medians],
        "limit_per_s": args.rate,
        "seconds": args.seconds,
        "throughput_fraction_median": statistics.median(fractions),
        "throughput_fractions": fractions,
        "busiest_window_max": worst,
        "never_above_limit": worst <= args.rate,
        "nproc": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
