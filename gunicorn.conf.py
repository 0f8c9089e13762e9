"""gunicorn settings for the SourcingX web tier, from the environment.

gthread workers: Dash fires several callback POSTs per page at once and each waits on Postgres,
so a few threads per worker keep the CPU busy. The app is preloaded (shared pages,
copy-on-write); pools are opened lazily in each worker after the fork, never in the master.
"""

import gc
import os
import sys

# gunicorn runs this file before it changes into the project; make the project importable.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from services.core.settings import web_server

_web = web_server()
bind = _web.bind
workers = _web.workers
threads = _web.threads
worker_class = "gthread"
preload_app = True
max_requests = _web.max_requests
max_requests_jitter = _web.max_requests_jitter
timeout = _web.timeout_s
graceful_timeout = 20
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = _web.access_log
errorlog = "-"
loglevel = _web.log_level
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
