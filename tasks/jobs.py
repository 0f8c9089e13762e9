"""The one Celery entry point: run the job whose id we are given, by its kind.

Unexpected errors mark the job failed with the error's type and message; the message is
acknowledged (a poison job must not loop forever). A killed pool process does not ack, so the
job is redelivered at once (reject_on_worker_lost); a whole worker that dies is covered by the
stale-job reaper each worker runs when it starts. A per-job run lock in Redis, renewed by a
heartbeat, keeps two deliveries of one job from running side by side.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from celery.signals import worker_ready

from celery_app import celery
from services import jobs
from services.core import metrics
from services.core.logs import JOB_ID, REQUEST_ID
from services.core.redis_client import get_redis
from services.core.settings import tuning
from services.jobs import Job, kinds

log = logging.getLogger(__name__)
LOCK_KEY = "sx:jobrun:{}"
RELEASE_LUA = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)
RENEW_LUA = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('EXPIRE', KEYS[1], ARGV[2]) end return 0"
)


def lock_ttl_s() -> int:
    return tuning().job_lock_ttl_s


def stale_after_s() -> int:
    return tuning().job_stale_after_s


@contextmanager
def _run_lock(job_id: int) -> Iterator[bool]:
    """Hold the job's run lock (True) while the block runs, renewing it and the job's heartbeat."""
    key, token, ttl = LOCK_KEY.format(job_id), secrets.token_hex(8), lock_ttl_s()
    client = get_redis()
    if not client.set(key, token, nx=True, ex=ttl):
        yield False
        return
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(ttl / 3):
            client.eval(RENEW_LUA, 1, key, token, ttl)
            jobs.touch(job_id)

    thread = threading.Thread(target=heartbeat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join(timeout=1)
        client.eval(RELEASE_LUA, 1, key, token)


@celery.task(name="sourcingx.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> str:
    with _run_lock(job_id) as held:
        if not held:
            # Another delivery is running it (or died holding the lock): look again once the
            # lock could have expired, rather than dropping the job.
            jobs.enqueue(job_id, lock_ttl_s() + 1)
            return "busy"
        return _run(job_id)


def _run(job_id: int) -> str:
    job = jobs.claim(job_id)
    if job is None:
        return "skipped"  # finished, cancelled or unknown: nothing to do
    JOB_ID.set(job_id)
    REQUEST_ID.set(job.request_id)
    started = time.monotonic()
    outcome = _run_claimed(job)
    metrics.JOBS.labels(job.kind, outcome).observe(time.monotonic() - started)
    log.info("job %s (%s) %s", job_id, job.kind, outcome)
    return outcome


def _run_claimed(job: Job) -> str:
    job_id = job.id
    handler = kinds.handler_for(job.kind)
    if handler is None:
        jobs.finish(job_id, "failed", error=f"unknown job kind {job.kind!r}")
        return "failed"
    try:
        handler(job)
    except jobs.Requeue as wait:
        jobs.wait_again(job_id, wait.delay_s, wait.message)
        return "requeued"
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        jobs.finish(job_id, "failed", error=f"{type(exc).__name__}: {exc}"[:500])
        return "failed"
    if jobs.is_cancelled(job_id):
        return "cancelled"
    jobs.finish(job_id, "done")
    return "done"


def reap_stale_jobs() -> int:
    """Re-enqueue jobs whose worker died without a trace or whose enqueue was lost."""
    reaped = 0
    for job_id in jobs.stale_jobs(stale_after_s()):
        log.warning("re-enqueueing stale job %s", job_id)
        jobs.touch_queued(job_id)
        jobs.enqueue(job_id)
        reaped += 1
    return reaped


@worker_ready.connect
def _start_reaper(**_: object) -> None:
    """Reap at start and then every JOB_REAP_INTERVAL_S in the worker's main process."""
    interval = tuning().job_reap_interval_s

    def loop() -> None:
        while True:
            try:
                reap_stale_jobs()
            except Exception:  # the database or broker may be briefly away; try again later
                log.exception("stale job reaper failed")
            time.sleep(interval)

    threading.Thread(target=loop, name="job-reaper", daemon=True).start()
