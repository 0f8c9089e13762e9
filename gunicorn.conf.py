"""gunicorn settings for the SourcingX web tier, from the environment.

gthread workers: Dash fires several callback POSTs per page at once and each waits on Postgres,
so a few threads per worker keep the CPU busy. The app is preloaded (shared pages,
copy-on-write); pools are opened lazily in each worker after the fork, never in the master.
"""

import gc
import os

bind = os.environ.get(
    "BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
preload_app = True
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("WEB_MAX_REQUESTS_JITTER", "500"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "sourcingx-web"


def pre_fork(server, worker):
    # Move everything the preloaded app created into the permanent generation: a worker's garbage
    # collections then never write to those objects' headers, so their pages stay shared with the
    # master (no copy-on-write step of ~10 MB per worker at its first full collection) and each
    # collection walks only the objects the worker made itself.
    gc.freeze()


def child_exit(server, worker):
    # A dead worker's live gauges must not be summed into /metrics any more.
    from services.core.metrics import mark_process_dead

    mark_process_dead(worker.pid)


def post_fork(server, worker):
    # Belt and braces: drop anything a preloaded import may have created in the master.
    from services.core.cache import reset_cache
    from services.core.db import close_pool
    from services.core.redis_client import reset_redis

    close_pool()
    reset_redis()
    reset_cache()
