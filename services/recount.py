"""The trivial real job: recount every project's profiles, a chunk of projects at a time.

It proves the job path end to end (web enqueues, worker runs, page shows progress) and keeps
`projects.profile_count` honest after bulk changes. Idempotent: a rerun recomputes the same counts.
"""

from __future__ import annotations

from services import jobs
from services.core.db import unit_of_work
from services.jobs import Job
from services.jobs.kinds import job_kind

CHUNK = 10


@job_kind("recount_profiles")
def run(job: Job) -> None:
    with unit_of_work() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM projects ORDER BY id").fetchall()]
        jobs.set_total(conn, job.id, len(ids))
    for offset in range(0, len(ids), CHUNK):
        if jobs.is_cancelled(job.id):
            return
        chunk = ids[offset : offset + CHUNK]
        with unit_of_work() as conn:
            conn.execute(
                "UPDATE projects p SET profile_count = c.n, updated_at = now()"
                " FROM (SELECT pr.id, count(pp.profile_id) AS n FROM projects pr"
                "       LEFT JOIN project_profiles pp ON pp.project_id = pr.id"
                "       WHERE pr.id = ANY(%s) GROUP BY pr.id) c"
                " WHERE p.id = c.id",
                (chunk,),
            )
            jobs.set_progress(conn, job.id, offset + len(chunk), message="recounting projects")
