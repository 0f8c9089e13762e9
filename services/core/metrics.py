"""Prometheus metrics shared by web workers and task workers.

With PROMETHEUS_MULTIPROC_DIR set (the runner and the container entrypoint set it, and wipe it at
start), every process writes its samples there and /metrics aggregates all of them; without it
(tests, one-off commands) the metrics live in this process's default registry.
Metric objects are process infrastructure, not user data: labels are route or callback names,
providers and statuses, never ids or personal data.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from services.core.settings import tuning

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600)

REQUESTS = Histogram(
    "sx_http_request_seconds",
    "HTTP request latency by route and status class",
    ["route", "status"],
    buckets=LATENCY_BUCKETS,
)
CALLBACKS = Histogram(
    "sx_callback_seconds",
    "Dash callback latency by callback",
    ["callback", "status"],
    buckets=LATENCY_BUCKETS,
)
ERRORS = Counter("sx_http_errors_total", "Responses with status >= 500, by route", ["route"])
JOBS = Histogram(
    "sx_job_seconds", "Job run time by kind and outcome", ["kind", "outcome"], buckets=JOB_BUCKETS
)
PROVIDER_CALLS = Counter(
    "sx_provider_calls_total",
    "Provider call attempts by outcome",
    ["provider", "operation", "status"],
)
PROVIDER_429 = Counter("sx_provider_rate_limited_total", "429 answers from providers", ["provider"])
PROVIDER_RETRIES = Counter(
    "sx_provider_retries_total", "Provider attempts after the first", ["provider"]
)
LIMITER_WAIT = Histogram(
    "sx_limiter_wait_seconds",
    "Time spent waiting for the shared limiter",
    ["provider"],
    buckets=(0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30),
)
CACHE = Counter("sx_cache_requests_total", "Shared cache lookups by result", ["result"])
QUEUE_DEPTH = Gauge(
    "sx_job_queue_depth",
    "Messages waiting in the job queue (at scrape time)",
    multiprocess_mode="max",
)


def multiprocess_dir() -> str | None:
    return tuning().prometheus_multiproc_dir


def render() -> tuple[bytes, str]:
    """The exposition text of every process (multiprocess) or of this one."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def prepare_multiprocess_dir(path: str) -> None:
    """Wipe and create the directory before any process writes to it (stale files lie)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
