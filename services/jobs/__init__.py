"""Jobs: the `jobs` row is the truth about long work; Celery only delivers the job id.

The web tier creates a row and enqueues its id after commit; task workers claim it, report
progress in committed chunks, and finish it. Any web worker can show any job's state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from services import audit
from services.core.db import after_commit, unit_of_work
from services.core.errors import UserError
from services.core.logs import REQUEST_ID

log = logging.getLogger(__name__)
FINISHED = ("done", "failed", "cancelled")


class JobError(UserError):
    """A job request that cannot be carried out (message is safe to show)."""


class Requeue(Exception):
    """Raised by a handler that must wait (e.g. for a busy agent): run the job again later
    instead of holding a worker process while it waits."""

    def __init__(self, delay_s: float, message: str) -> None:
        super().__init__(message)
        self.delay_s = delay_s
        self.message = message


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    project_id: int | None
    created_by: int | None
    status: str
    params: dict[str, Any]
    total: int
    done: int
    failed: int
    message: str | None
    error: str | None
    attempts: int
    request_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def skipped(self) -> int:
        """Work a finished job left alone on purpose (e.g. an import's duplicate rows): its
        total minus what it did and what failed. Skips are not failures."""
        if self.status != "done":
            return 0
        return max(self.total - self.done - self.failed, 0)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * (self.done + self.failed) / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


JOB_COLUMNS = (
    "id, kind, project_id, created_by, status, params, total, done, failed, message, error,"
    " attempts, request_id, created_at, started_at, finished_at"
)


def insert_job(
    conn: psycopg.Connection,
    kind: str,
    params: dict[str, Any],
    user_id: int | None,
    project_id: int | None = None,
    request_id: str | None = None,
) -> int:
    row = conn.execute(
        "INSERT INTO jobs (kind, params, created_by, project_id, request_id)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (kind, Jsonb(params), user_id, project_id, request_id or REQUEST_ID.get()),
    ).fetchone()
    assert row is not None
    audit.record(conn, user_id, "job.create", "job", row[0], {"kind": kind})
    return int(row[0])


def enqueue(job_id: int, delay_s: float = 0.0) -> None:
    """Hand the job id to Celery. Called after the row is committed, never inside the txn."""
    from celery_app import celery, follow_settings_broker

    follow_settings_broker()
    celery.send_task("sourcingx.run_job", args=[job_id], countdown=delay_s or None)


def wait_again(job_id: int, delay_s: float, message: str) -> None:
    """Put a running job back in the queue with a message saying what it waits for."""
    with unit_of_work() as conn:
        conn.execute(
            "UPDATE jobs SET status = 'queued', message = %s, updated_at = now()"
            " WHERE id = %s AND status = 'running'",
            (message, job_id),
        )
    enqueue(job_id, delay_s)


def start_job(
    kind: str, params: dict[str, Any], user_id: int | None, project_id: int | None = None
) -> int:
    with unit_of_work() as conn:
        job_id = insert_job(conn, kind, params, user_id, project_id)
        enqueue_after_commit(job_id)
    return job_id


def enqueue_after_commit(job_id: int) -> None:
    """Enqueue the job once the unit of work that inserted its row has committed."""
    after_commit(lambda: enqueue_or_defer(job_id))


def enqueue_or_defer(job_id: int) -> bool:
    """Enqueue now; if the broker is unreachable the committed row stays queued and the workers'
    reaper enqueues it once the broker is back, so a Redis restart loses no job."""
    try:
        enqueue(job_id)
    except Exception:  # kombu/redis raise several connection error types
        log.warning("broker unavailable; job %s stays queued for the reaper", job_id)
        return False
    return True


def get_job(job_id: int) -> Job | None:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Job)) as cur:
        cur.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = %s", (job_id,))
        return cur.fetchone()


def list_jobs(project_id: int | None = None, limit: int = 20) -> list[Job]:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Job)) as cur:
        if project_id is None:
            cur.execute(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT %s", (limit,))
        else:
            cur.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE project_id = %s ORDER BY id DESC LIMIT %s",
                (project_id, limit),
            )
        return cur.fetchall()


def claim(job_id: int) -> Job | None:
    """Mark a job running (again, after a crash) unless it already finished or was cancelled."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Job)) as cur:
        cur.execute(
            "UPDATE jobs SET status = 'running', started_at = coalesce(started_at, now()),"
            " attempts = attempts + 1, updated_at = now()"
            f" WHERE id = %s AND status IN ('queued', 'running') RETURNING {JOB_COLUMNS}",
            (job_id,),
        )
        return cur.fetchone()


def set_total(conn: psycopg.Connection, job_id: int, total: int) -> None:
    conn.execute("UPDATE jobs SET total = %s, updated_at = now() WHERE id = %s", (total, job_id))


def merge_params(conn: psycopg.Connection, job_id: int, key: str, value: Any) -> None:
    """Set one key of the job's params (a job's own state across re-deliveries, e.g. the
    batch it is following), in the caller's transaction."""
    conn.execute(
        "UPDATE jobs SET params = params || jsonb_build_object(%s::text, %s::jsonb),"
        " updated_at = now() WHERE id = %s",
        (key, Jsonb(value), job_id),
    )


def set_progress(
    conn: psycopg.Connection, job_id: int, done: int, failed: int = 0, message: str | None = None
) -> None:
    """Absolute progress, written in the same transaction as the chunk it describes.

    `failed` counts real failures only; what a finished job neither did nor failed is what it
    skipped (Job.skipped)."""
    conn.execute(
        "UPDATE jobs SET done = %s, failed = %s, message = coalesce(%s, message), updated_at = now()"
        " WHERE id = %s",
        (done, failed, message, job_id),
    )


def touch(job_id: int) -> None:
    """Heartbeat of a running job: proves a worker still works on it."""
    with unit_of_work() as conn:
        conn.execute(
            "UPDATE jobs SET updated_at = now() WHERE id = %s AND status = 'running'", (job_id,)
        )


def stale_jobs(stale_after_s: int) -> list[int]:
    """Jobs nobody is visibly working on: running without a heartbeat (their worker is gone) or
    queued for long without a message (their enqueue may have been lost). Enqueueing such a job
    again is harmless: the run lock and claim() let only one delivery do the work."""
    with unit_of_work() as conn:
        rows = conn.execute(
            "SELECT id FROM jobs WHERE status IN ('running', 'queued')"
            " AND updated_at < now() - make_interval(secs => %s) ORDER BY id",
            (stale_after_s,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def touch_queued(job_id: int) -> None:
    """Mark a re-enqueued job as freshly queued, so the next reaper round leaves it alone."""
    with unit_of_work() as conn:
        conn.execute(
            "UPDATE jobs SET updated_at = now() WHERE id = %s AND status = 'queued'", (job_id,)
        )


def is_cancelled(job_id: int) -> bool:
    with unit_of_work() as conn:
        row = conn.execute("SELECT status FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return row is None or row[0] == "cancelled"


def finish(job_id: int, status: str, error: str | None = None, message: str | None = None) -> None:
    with unit_of_work() as conn:
        conn.execute(
            "UPDATE jobs SET status = %s, error = %s, message = coalesce(%s, message),"
            " finished_at = now(), updated_at = now()"
            " WHERE id = %s AND status NOT IN ('cancelled', 'done')",
            (status, error, message, job_id),
        )


def cancel(job_id: int, user_id: int | None) -> bool:
    """Ask a job to stop; the worker sees it between chunks. Returns False if already finished."""
    with unit_of_work() as conn:
        cur = conn.execute(
            "UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now()"
            " WHERE id = %s AND status IN ('queued', 'running')",
            (job_id,),
        )
        if cur.rowcount:
            audit.record(conn, user_id, "job.cancel", "job", job_id)
        return cur.rowcount == 1


def retry(job_id: int, user_id: int | None) -> bool:
    """Re-queue a failed or cancelled job; idempotent chunks skip what was already done."""
    with unit_of_work() as conn:
        cur = conn.execute(
            "UPDATE jobs SET status = 'queued', error = NULL, finished_at = NULL, updated_at = now()"
            " WHERE id = %s AND status IN ('failed', 'cancelled')",
            (job_id,),
        )
        if cur.rowcount:
            audit.record(conn, user_id, "job.retry", "job", job_id)
            enqueue_after_commit(job_id)
    return cur.rowcount == 1
