"""The screening job: score a project's candidates against one prompt version with OpenAI.

Selection (`selection.claim`) makes the job's `pending` rows: set-based and idempotent, never
taking a row another live job owns. Then the pending rows are processed with a small, bounded
thread pool (SCREENING_CONCURRENCY, default 4) so calls overlap their latency; how fast the
calls go is decided by the shared Redis limiter of the OpenAI client (requests and tokens per
minute across every process), which also shares the budget between concurrent jobs: each job
has the same bounded number of callers waiting on one shared limiter, so N jobs get about 1/N
of the rate each and none starves.

Each answer is committed on its own with the job's progress and running cost (`verdicts`). A
call that fails after its retries becomes a `failed` row with the error text and no score. When
our own limiter (not the provider) refuses for longer than its wait, nothing was sent: the rows
stay pending and the job is re-queued. An account-level failure (budget, quota, key) stops the
job and marks what is left failed with that reason, so a later retry picks them up.

A worker killed mid-job loses only the calls in flight: the rerun finds the done rows done and
resumes with the pending ones (late acknowledgement + the job's run lock).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from services import jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.settings import tuning
from services.insights import funnel_rollup
from services.jobs import Job, JobError, Requeue
from services.jobs.kinds import job_kind
from services.providers.errors import (
    BudgetExceeded,
    NotConfigured,
    ProviderAuthError,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    RetriesExhausted,
)
from services.providers.metering import CallContext
from services.screening import prompt as pr
from services.screening.selection import claim
from services.screening.verdicts import (
    Outcome,
    Tally,
    Work,
    commit_outcome,
    fail_rest,
    job_tally,
    progress_message,
)

log = logging.getLogger(__name__)
SCOPES = ("passed", "all", "selection", "failed")
MAX_SELECTION = 50_000
PENDING_BATCH = 200
BUMP_EVERY_S = 2.0
MAX_CONCURRENCY = 16
# Account-wide refusals: every further call would fail the same way, so the job stops.
STOPPING = (BudgetExceeded, QuotaExhausted, ProviderAuthError, NotConfigured)


def concurrency() -> int:
    """Calls in flight per job: small and bounded (never one thread per profile or user)."""
    return max(1, min(MAX_CONCURRENCY, tuning().screening_concurrency))


def _job_params(
    project_id: int, version_id: int | None, scope: str, profile_ids: list[int] | None
) -> dict[str, Any]:
    """The job's params, once the request is known to be one a job can run."""
    if scope not in SCOPES:
        raise JobError(f"Unknown screening scope {scope!r}")
    version = pr.get_version(version_id) if version_id else pr.latest_version(project_id)
    if version is None or version.project_id != project_id:
        raise JobError("Save the screening criteria first: there is no prompt version yet")
    ids = sorted({int(i) for i in profile_ids or []})
    if scope == "selection" and not ids:
        raise JobError("Select at least one profile to screen")
    if len(ids) > MAX_SELECTION:
        raise JobError(f"At most {MAX_SELECTION:,} profiles per screening job")
    params: dict[str, Any] = {
        "project_id": project_id,
        "prompt_version_id": version.id,
        "scope": scope,
    }
    if scope == "selection":
        params["profile_ids"] = ids
    return params


def _refuse_busy_or_unfiltered(conn: psycopg.Connection, project_id: int, scope: str) -> None:
    # One screening job per project at a time: two would race for the same rows.
    conn.execute("SELECT 1 FROM projects WHERE id = %s FOR UPDATE", (project_id,))
    busy = conn.execute(
        "SELECT id FROM jobs WHERE project_id = %s AND kind = 'screening'"
        " AND status IN ('queued', 'running') LIMIT 1",
        (project_id,),
    ).fetchone()
    if busy is not None:
        raise JobError(f"Screening job #{busy[0]} is still running for this project")
    if (
        scope == "passed"
        and not conn.execute(
            "SELECT 1 FROM filter_results WHERE project_id = %s AND passed LIMIT 1",
            (project_id,),
        ).fetchone()
    ):
        raise JobError(
            "No profile has passed the filters yet: apply the filters first, or screen all members"
        )


def start_screening(
    user_id: int,
    project_id: int,
    version_id: int | None = None,
    scope: str = "passed",
    profile_ids: list[int] | None = None,
) -> int:
    """Queue a screening job; returns its id (JobError with a message when it cannot run)."""
    params = _job_params(project_id, version_id, scope, profile_ids)
    with unit_of_work() as conn:
        _refuse_busy_or_unfiltered(conn, project_id, scope)
        job_id = jobs.insert_job(conn, "screening", params, user_id, project_id)
        jobs.enqueue_after_commit(job_id)
    return job_id


def retry_failed(user_id: int, project_id: int, version_id: int | None = None) -> int:
    """A job that screens this version's failed rows again."""
    return start_screening(user_id, project_id, version_id, scope="failed")


# --- processing --------------------------------------------------------------------------------

PENDING_SQL = """
SELECT s.id AS screening_id, p.id, p.headline, p.current_title, p.current_company, p.location,
       p.seniority, p.years_experience, p.skills, p.schools
FROM screenings s JOIN profiles p ON p.id = s.profile_id
WHERE s.job_id = %(job)s AND s.status = 'pending' AND s.id > %(after)s
ORDER BY s.id LIMIT %(limit)s
"""


def _pending(job_id: int) -> Iterator[Work]:
    after = 0
    while True:
        with unit_of_work() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(PENDING_SQL, {"job": job_id, "after": after, "limit": PENDING_BATCH})
            rows = cur.fetchall()
        if not rows:
            return
        for row in rows:
            after = int(row["screening_id"])
            yield Work(after, int(row["id"]), pr.candidate_json(row))


def _call(client: Any, ctx: CallContext, version: pr.PromptVersion, work: Work) -> Outcome:
    try:
        answer = client.structured(
            ctx,
            messages=pr.messages(version.prompt_text, work.sent),
            response_model=pr.ScreeningAnswer,
            model=version.model,
            subject=f"screening:{work.profile_id}:v{version.version}",
        )
    except ProviderError as exc:
        return Outcome(work, error=exc)
    return Outcome(work, answer=answer)


def _local_refusal(exc: ProviderError) -> float | None:
    """Seconds to wait when our own limiter refused (nothing was sent), else None."""
    last = exc.last_error if isinstance(exc, RetriesExhausted) else exc
    if isinstance(last, RateLimited) and last.local:
        return max(1.0, float(last.retry_after or 5.0))
    return None


@dataclass
class _Halt:
    """Why the pool takes no new work: an account-wide refusal, our own limiter, a cancel."""

    stop: ProviderError | None = None
    requeue_after: float | None = None
    cancelled: bool = False

    @property
    def halted(self) -> bool:
        return bool(self.stop or self.requeue_after or self.cancelled)


def _settle(
    job_id: int, version: pr.PromptVersion, outcome: Outcome, tally: Tally, halt: _Halt
) -> None:
    """Commit one finished call, or note why no further call should start."""
    if outcome.error is not None:
        wait_s = _local_refusal(outcome.error)
        if wait_s is not None:  # nothing was sent: keep it pending, come back later
            halt.requeue_after = max(halt.requeue_after or 0.0, wait_s)
            return
        if isinstance(outcome.error, STOPPING) and halt.stop is None:
            halt.stop = outcome.error
    commit_outcome(job_id, version, outcome, tally)


def _screen_pending(
    job: Job, version: pr.PromptVersion, client: Any, ctx: CallContext, tally: Tally
) -> _Halt:
    halt = _Halt()
    last_bump = time.monotonic()
    pending = _pending(job.id)
    workers = concurrency()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"screen-{job.id}") as pool:
        in_flight: set[Future[Outcome]] = set()
        while True:
            # Keep the pool full unless told to stop; calls already in flight are always saved.
            while not halt.halted and len(in_flight) < workers:
                work = next(pending, None)
                if work is None:
                    break
                in_flight.add(pool.submit(_call, client, ctx, version, work))
            if not in_flight:
                break
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                _settle(job.id, version, future.result(), tally, halt)
            if time.monotonic() - last_bump > BUMP_EVERY_S:
                bump_data_version("insights")
                funnel_rollup.request_refresh()
                last_bump = time.monotonic()
                halt.cancelled = halt.cancelled or jobs.is_cancelled(job.id)
    return halt


def _claim_and_count(job: Job, project_id: int, version: pr.PromptVersion) -> Tally:
    with unit_of_work() as conn:
        claim(conn, job, project_id, version.id)
        total, tally = job_tally(conn, job.id)
        jobs.set_total(conn, job.id, total)
        jobs.set_progress(
            conn, job.id, tally.done, tally.failed, message=progress_message(version, tally)
        )
    return tally


@job_kind("screening")
def run_screening(job: Job) -> None:
    """The `screening` job (params: project_id, prompt_version_id, scope[, profile_ids])."""
    from services.providers.openai_client import OpenAIClient

    project_id = int(job.params["project_id"])
    version = pr.get_version(int(job.params["prompt_version_id"]))
    if version is None:
        raise JobError("The prompt version of this job no longer exists")
    tally = _claim_and_count(job, project_id, version)
    client = OpenAIClient()
    client.sdk()  # built now, not after the first admission (it would reach OpenAI late)
    ctx = CallContext(user_id=job.created_by, project_id=project_id, job_id=job.id)
    halt = _screen_pending(job, version, client, ctx, tally)
    bump_data_version("insights", "projects")
    funnel_rollup.request_refresh()
    if halt.stop is not None:
        fail_rest(job.id, halt.stop)
        raise JobError(f"Screening stopped: {halt.stop.reason}")
    if halt.requeue_after is not None:
        raise Requeue(halt.requeue_after, "waiting for the shared OpenAI rate limit")
