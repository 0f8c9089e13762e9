"""The one Celery entry point: run the job whose id we are given, by its kind.

Unexpected errors mark the job failed with the error's type and message; the message is
acknowledged (a poison job must not loop forever). A worker that dies mid-job does not ack,
so the job is redelivered and resumes from its committed progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery_app import celery
from services import jobs
from services.jobs import Job

log = logging.getLogger(__name__)


def _handlers() -> dict[str, Callable[[Job], None]]:
    # Imported lazily so the worker process pays for a module only when a job of its kind runs.
    from services import recount

    handlers: dict[str, Callable[[Job], None]] = {"recount_profiles": recount.run}
    try:
        from services import pipeline_jobs  # type: ignore[attr-defined]

        handlers.update(pipeline_jobs.HANDLERS)
    except ImportError:
        pass  # pipeline jobs arrive with the sourcing pipeline issue
    return handlers


@celery.task(name="sourcingx.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> str:
    job = jobs.claim(job_id)
    if job is None:
        return "skipped"  # finished, cancelled or unknown: nothing to do
    handler = _handlers().get(job.kind)
    if handler is None:
        jobs.finish(job_id, "failed", error=f"unknown job kind {job.kind!r}")
        return "failed"
    try:
        handler(job)
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        jobs.finish(job_id, "failed", error=f"{type(exc).__name__}: {exc}"[:500])
        return "failed"
    if jobs.is_cancelled(job_id):
        return "cancelled"
    jobs.finish(job_id, "done")
    return "done"
