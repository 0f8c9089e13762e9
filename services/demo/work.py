"""Job rows of the demo history: real jobs run in-process, and the rows of jobs whose work
needed a provider.

Work that touches only our database (a CSV import, applying filter lists) runs its real job
handler here, exactly as a Celery worker would (`jobs.insert_job` → `jobs.claim` → handler →
`jobs.finish`), without enqueueing. For work that calls a provider the history writes the job
row the worker would have left behind. Either way the row then gets the history's times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg

from services import jobs
from services.demo.clock import HistoryDb
from services.jobs import Job

QUEUED_S = 4.0  # between a job's creation and a worker picking it up


SET_TIMES_SQL = """
WITH audit AS (
    UPDATE audit_log SET ts = %(c)s
    WHERE action = 'job.create' AND object_type = 'job' AND object_id = %(id)s::text
)
UPDATE jobs SET created_at = %(c)s, started_at = %(s)s, finished_at = %(f)s,
    updated_at = %(f)s, status = coalesce(%(status)s, status), total = coalesce(%(total)s, total),
    done = coalesce(%(done)s, done), failed = coalesce(%(failed)s, failed),
    message = coalesce(%(message)s, message), attempts = greatest(attempts, 1)
WHERE id = %(id)s
"""


def set_times(
    conn: psycopg.Connection,
    job_id: int,
    started: datetime,
    finished: datetime,
    **outcome: object,
) -> None:
    """The job's (and its audit row's) history times; `outcome` may also set status, total,
    done, failed and message."""
    values = {k: outcome.get(k) for k in ("status", "total", "done", "failed", "message")}
    created = started - timedelta(seconds=QUEUED_S)
    conn.execute(SET_TIMES_SQL, {"c": created, "s": started, "f": finished, "id": job_id, **values})


def provider_job(
    conn: psycopg.Connection,
    kind: str,
    params: dict[str, Any],
    user_id: int,
    project_id: int,
    started: datetime,
    finished: datetime,
    *,
    total: int,
    done: int,
    failed: int = 0,
    message: str | None = None,
) -> int:
    """The finished row of a job whose calls the history could not make (inserted by the real
    `jobs.insert_job`, with its audit row, then completed as the worker would)."""
    job_id = jobs.insert_job(conn, kind, params, user_id, project_id)
    set_times(conn, job_id, started, finished, status="done", total=total, done=done,
              failed=failed, message=message)  # fmt: skip
    return job_id


def run_job(
    db: HistoryDb,
    kind: str,
    params: dict[str, Any],
    user_id: int,
    project_id: int,
    handler: Callable[[Job], None],
    started: datetime,
    seconds: float,
    *tables: str,
) -> int:
    """Run a real job handler in-process; what it stamped in `tables` moves to `started`."""
    with db.at(started, *tables):
        with db.tx() as conn:
            job_id = jobs.insert_job(conn, kind, params, user_id, project_id)
        job = jobs.claim(job_id)
        assert job is not None
        handler(job)
        jobs.finish(job_id, "done")
    with db.tx() as conn:
        set_times(conn, job_id, started, started + timedelta(seconds=seconds))
    return job_id
