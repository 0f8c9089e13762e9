"""The Celery application: Redis broker, JSON only, late acks, prefetch 1.

Tasks take job ids, are idempotent, and commit progress into the `jobs` row as they go; a task
killed mid-way is redelivered (acks_late + reject_on_worker_lost) and resumes from what is
committed. The visibility timeout is above the longest task's time limit so Redis never
redelivers a task that is still running.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

TASK_TIME_LIMIT_S = 3 * 3600
VISIBILITY_TIMEOUT_S = TASK_TIME_LIMIT_S + 1800


def broker_url(redis_url: str) -> str:
    """Kombu spells unix sockets `redis+socket://`; redis-py spells them `unix://`."""
    if redis_url.startswith("unix://"):
        path, _, query = redis_url[len("unix://") :].partition("?")
        return f"redis+socket://{path}" + (
            f"?{query.replace('db=', 'virtual_host=')}" if query else ""
        )
    return redis_url


def _redis_url() -> str:
    from services.core.runtime import resolve_service_urls
    from services.core.settings import environment, get_settings

    url = environment().get("REDIS_URL")
    if url:
        return url

    database_url, redis_url = resolve_service_urls(get_settings())
    os.environ.setdefault("DATABASE_URL", database_url)
    os.environ["REDIS_URL"] = redis_url
    get_settings.cache_clear()
    return redis_url


def make_celery() -> Celery:
    url = broker_url(_redis_url())
    app = Celery("sourcingx", broker=url, include=["tasks.jobs", "tasks.grid", "tasks.funnel"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=TASK_TIME_LIMIT_S,
        task_soft_time_limit=TASK_TIME_LIMIT_S - 60,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Pool processes log JSON to the real stderr (services.logs); redirected to Celery's
        # logger proxy, their own handler would write back into it and every line be dropped.
        worker_redirect_stdouts=False,
        task_default_queue="sourcingx",
    )
    return app


celery = make_celery()


def follow_settings_broker() -> None:
    """Point the producer at the Redis the settings name now (they change only in tests and
    tools that re-resolve settings); the pooled broker connections are dropped when it moves."""
    from services.core.settings import get_settings

    current = get_settings().redis_url
    if current and celery.conf.broker_url != broker_url(current):
        celery.close()
        celery.conf.broker_url = broker_url(current)
        celery._after_fork()  # drops the connection and producer pools bound to the old URL


@worker_process_init.connect
def _fresh_clients_after_fork(**_: object) -> None:
    # Pools are per process; a forked worker child must not reuse its parent's sockets.
    from services.core.cache import reset_cache
    from services.core.db import close_pool
    from services.core.redis_client import reset_redis

    close_pool()
    reset_redis()
    reset_cache()


@worker_process_init.connect
def _json_logs(**_: object) -> None:
    from services.core.logs import configure_logging

    configure_logging()
