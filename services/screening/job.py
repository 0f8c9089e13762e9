"""The screening job: score a project's candidates against one prompt version with OpenAI.

Selection (set-based, idempotent): the project's members that passed the filters (or all
members, or an explicit selection, or this version's failed screenings for a retry), minus those
already `done` for this prompt version with the same input hash. Each becomes a `pending` row
owned by the job (INSERT ... ON CONFLICT DO UPDATE that never takes a row another live job
owns, nor one this job already handled). Then the pending rows are processed with a small,
bounded thread pool (SCREENING_CONCURRENCY, default 4) so calls overlap their latency; how
fast the calls go is decided by the shared Redis limiter of the OpenAI client (requests and
tokens per minute across every process), which also shares the budget between concurrent jobs:
each job has the same bounded number of callers waiting on one shared limiter, so N jobs get
about 1/N of the rate each and none starves.

Each answer is committed on its own with the job's progress and running cost. A call that
fails after its retries becomes a `failed` row with the error text and no score. When our own
limiter (not the provider) refuses for longer than its wait, nothing was sent: the rows stay
pending and the job is re-queued. An account-level failure (budget, quota, key) stops the job
and marks what is left failed with that reason, so a later retry picks them up.

A worker killed mid-job loses only the calls in flight: the rerun finds the done rows done and
resumes with the pending ones (late acknowledgement + the job's run lock).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from services import jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
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

log = logging.getLogger(__name__)
SCOPES = ("passed", "all", "selection", "failed")
MAX_SELECTION = 50_000
SELECT_CHUNK = 1000
PENDING_BATCH = 200
BUMP_EVERY_S = 2.0
MAX_CONCURRENCY = 16
# Account-wide refusals: every further call would fail the same way, so the job stops.
STOPPING = (BudgetExceeded, QuotaExhausted, ProviderAuthError, NotConfigured)


def concurrency() -> int:
    """Calls in flight per job: small and bounded (never one thread per profile or user)."""
    raw = os.environ.get("SCREENING_CONCURRENCY", "4")
    try:
        value = int(raw)
    except ValueError:
        value = 4
    return max(1, min(MAX_CONCURRENCY, value))


def start_screening(
    user_id: int,
    project_id: int,
    version_id: int | None = None,
    scope: str = "passed",
    profile_ids: list[int] | None = None,
) -> int:
    """Queue a screening job; returns its id (JobError with a message when it cannot run)."""
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
    with unit_of_work() as conn:
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
                "No profile has passed the filters yet: apply the filters first, "
                "or screen all members"
            )
        job_id = jobs.insert_job(conn, "screening", params, user_id, project_id)
        jobs.enqueue_after_commit(job_id)
    return job_id


def retry_failed(user_id: int, project_id: int, version_id: int | None = None) -> int:
    """A job that screens this version's failed rows again."""
    return start_screening(user_id, project_id, version_id, scope="failed")


# --- selection ---------------------------------------------------------------------------------

CANDIDATES_SQL = {
    "passed": """
        SELECT p.id, p.headline, p.current_title, p.current_company, p.location, p.seniority,
               p.years_experience, p.skills, p.schools
        FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
        JOIN filter_results fr ON fr.project_id = pp.project_id AND fr.profile_id = pp.profile_id
        WHERE pp.project_id = %(project)s AND fr.passed AND p.id > %(after)s
        ORDER BY p.id LIMIT %(limit)s""",
    "all": """
        SELECT p.id, p.headline, p.current_title, p.current_company, p.location, p.seniority,
               p.years_experience, p.skills, p.schools
        FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
        WHERE pp.project_id = %(project)s AND p.id > %(after)s
        ORDER BY p.id LIMIT %(limit)s""",
    "selection": """
        SELECT p.id, p.headline, p.current_title, p.current_company, p.location, p.seniority,
               p.years_experience, p.skills, p.schools
        FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
        WHERE pp.project_id = %(project)s AND p.id = ANY(%(ids)s::bigint[]) AND p.id > %(after)s
        ORDER BY p.id LIMIT %(limit)s""",
}

# A row is (re)claimed for this job unless this job already handled it, another live job owns
# it, or it is done for the same data.
CLAIM_SQL = """
INSERT INTO screenings (project_id, profile_id, prompt_version_id, status, input_hash, job_id)
SELECT %(project)s, t.profile_id, %(version)s, 'pending', t.h, %(job)s
FROM unnest(%(ids)s::bigint[], %(hashes)s::text[]) AS t(profile_id, h)
ON CONFLICT (project_id, profile_id, prompt_version_id) DO UPDATE
SET status = 'pending', score = NULL, fit = NULL, checks = NULL, reasoning = NULL, error = NULL,
    input_hash = EXCLUDED.input_hash, job_id = EXCLUDED.job_id, updated_at = now()
WHERE screenings.job_id IS DISTINCT FROM EXCLUDED.job_id
  AND (screenings.status = 'failed'
       OR (screenings.status = 'done' AND screenings.input_hash IS DISTINCT FROM EXCLUDED.input_hash)
       OR (screenings.status = 'pending' AND NOT EXISTS (
            SELECT 1 FROM jobs j WHERE j.id = screenings.job_id
            AND j.status IN ('queued', 'running'))))
"""

CLAIM_FAILED_SQL = """
UPDATE screenings s SET status = 'pending', error = NULL, job_id = %(job)s, updated_at = now()
WHERE s.project_id = %(project)s AND s.prompt_version_id = %(version)s AND s.status = 'failed'
  AND s.job_id IS DISTINCT FROM %(job)s
"""


def _profile_dict(row: Any) -> dict[str, Any]:
    keys = ("id", *pr.SENT_FIELDS)
    return dict(zip(keys, row, strict=True))


def _claim(conn: psycopg.Connection, job: Job, project_id: int, version_id: int) -> None:
    scope = str(job.params.get("scope", "passed"))
    base = {"project": project_id, "version": version_id, "job": job.id}
    if scope == "failed":
        conn.execute(CLAIM_FAILED_SQL, base)
        return
    ids = [int(i) for i in job.params.get("profile_ids") or []]
    after = 0
    while True:
        rows = conn.execute(
            CANDIDATES_SQL[scope],
            {"project": project_id, "after": after, "limit": SELECT_CHUNK, "ids": ids},
        ).fetchall()
        if not rows:
            return
        after = int(rows[-1][0])
        hashes = [pr.input_hash(pr.candidate_json(_profile_dict(r))) for r in rows]
        conn.execute(CLAIM_SQL, {**base, "ids": [int(r[0]) for r in rows], "hashes": hashes})


# --- processing --------------------------------------------------------------------------------

PENDING_SQL = """
SELECT s.id AS screening_id, p.id, p.headline, p.current_title, p.current_company, p.location,
       p.seniority, p.years_experience, p.skills, p.schools
FROM screenings s JOIN profiles p ON p.id = s.profile_id
WHERE s.job_id = %(job)s AND s.status = 'pending' AND s.id > %(after)s
ORDER BY s.id LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Work:
    screening_id: int
    profile_id: int
    sent: str  # the exact candidate JSON sent; its sha256 is stored as input_hash


@dataclass
class Outcome:
    work: Work
    answer: Any = None  # StructuredAnswer[ScreeningAnswer]
    error: ProviderError | None = None


@dataclass
class Tally:
    done: int = 0
    failed: int = 0
    cost: float = 0.0


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


def _save(conn: psycopg.Connection, job_id: int, outcome: Outcome) -> str:
    """Commit one verdict or failure; returns 'done', 'failed' or 'skipped'."""
    work = outcome.work
    if outcome.answer is not None:
        answer = outcome.answer
        parsed: pr.ScreeningAnswer = answer.parsed
        cur = conn.execute(
            "UPDATE screenings SET status = 'done', score = %s, fit = %s, checks = %s,"
            " reasoning = %s, model = %s, input_hash = %s, tokens_in = %s, tokens_out = %s,"
            " cost_usd = %s, error = NULL, attempts = attempts + 1, updated_at = now()"
            " WHERE id = %s AND job_id = %s AND status = 'pending'",
            (
                parsed.score,
                parsed.fit,
                Jsonb([c.model_dump() for c in parsed.checks]),
                parsed.reasoning[:4000],
                answer.model,
                pr.input_hash(work.sent),
                answer.usage.prompt_tokens,
                answer.usage.completion_tokens,
                round(answer.cost_usd, 6),
                work.screening_id,
                job_id,
            ),
        )
        return "done" if cur.rowcount else "skipped"
    assert outcome.error is not None
    error = outcome.error
    attempts = error.attempts if isinstance(error, RetriesExhausted) else 1
    cur = conn.execute(
        "UPDATE screenings SET status = 'failed', score = NULL, fit = NULL, error = %s,"
        " input_hash = %s, cost_usd = %s, attempts = attempts + %s, updated_at = now()"
        " WHERE id = %s AND job_id = %s AND status = 'pending'",
        (
            error.reason[:1000],
            pr.input_hash(work.sent),
            round(error.cost_usd, 6),
            attempts,
            work.screening_id,
            job_id,
        ),
    )
    return "failed" if cur.rowcount else "skipped"


def _tally(conn: psycopg.Connection, job_id: int) -> tuple[int, Tally]:
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'done'),"
        " count(*) FILTER (WHERE status = 'failed'), coalesce(sum(cost_usd), 0)"
        " FROM screenings WHERE job_id = %s",
        (job_id,),
    ).fetchone()
    assert row is not None
    return int(row[0]), Tally(int(row[1]), int(row[2]), float(row[3]))


def _message(version: pr.PromptVersion, tally: Tally) -> str:
    return f"${tally.cost:.4f} spent so far · prompt v{version.version} · {version.model}"


def _commit(job_id: int, version: pr.PromptVersion, outcome: Outcome, tally: Tally) -> None:
    """One result, committed with the job's absolute progress and running cost."""
    with unit_of_work() as conn:
        result = _save(conn, job_id, outcome)
        if result == "done":
            tally.done += 1
            tally.cost += float(outcome.answer.cost_usd)
        elif result == "failed":
            tally.failed += 1
            tally.cost += float(outcome.error.cost_usd if outcome.error else 0.0)
        jobs.set_progress(conn, job_id, tally.done, tally.failed, message=_message(version, tally))


@job_kind("screening")
def run_screening(job: Job) -> None:
    """The `screening` job (params: project_id, prompt_version_id, scope[, profile_ids])."""
    from services.providers.openai_client import OpenAIClient

    project_id = int(job.params["project_id"])
    version = pr.get_version(int(job.params["prompt_version_id"]))
    if version is None:
        raise JobError("The prompt version of this job no longer exists")
    with unit_of_work() as conn:
        _claim(conn, job, project_id, version.id)
        total, tally = _tally(conn, job.id)
        jobs.set_total(conn, job.id, total)
        jobs.set_progress(conn, job.id, tally.done, tally.failed, message=_message(version, tally))
    client = OpenAIClient()
    client.sdk()  # built now, not after the first admission (it would reach OpenAI late)
    ctx = CallContext(user_id=job.created_by, project_id=project_id, job_id=job.id)
    stop: ProviderError | None = None
    requeue_after: float | None = None
    cancelled = False
    last_bump = time.monotonic()
    pending = _pending(job.id)
    workers = concurrency()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"screen-{job.id}") as pool:
        in_flight: set[Future[Outcome]] = set()
        while True:
            # Keep the pool full unless told to stop; calls already in flight are always saved.
            while not (stop or requeue_after or cancelled) and len(in_flight) < workers:
                work = next(pending, None)
                if work is None:
                    break
                in_flight.add(pool.submit(_call, client, ctx, version, work))
            if not in_flight:
                break
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                outcome = future.result()
                if outcome.error is not None:
                    wait_s = _local_refusal(outcome.error)
                    if wait_s is not None:  # nothing was sent: keep it pending, come back later
                        requeue_after = max(requeue_after or 0.0, wait_s)
                        continue
                    if isinstance(outcome.error, STOPPING) and stop is None:
                        stop = outcome.error
                _commit(job.id, version, outcome, tally)
            if time.monotonic() - last_bump > BUMP_EVERY_S:
                bump_data_version("insights")
                funnel_rollup.request_refresh()
                last_bump = time.monotonic()
                cancelled = cancelled or jobs.is_cancelled(job.id)
    bump_data_version("insights", "projects")
    funnel_rollup.request_refresh()
    if stop is not None:
        _fail_rest(job.id, stop)
        raise JobError(f"Screening stopped: {stop.reason}")
    if requeue_after is not None:
        raise Requeue(requeue_after, "waiting for the shared OpenAI rate limit")


def _fail_rest(job_id: int, error: ProviderError) -> None:
    """After an account-wide refusal, the job's pending rows become failed with that reason."""
    with unit_of_work() as conn:
        conn.execute(
            "UPDATE screenings SET status = 'failed', error = %s, updated_at = now()"
            " WHERE job_id = %s AND status = 'pending'",
            (f"not sent: {error.reason}"[:1000], job_id),
        )
        _total, tally = _tally(conn, job_id)
        jobs.set_progress(conn, job_id, tally.done, tally.failed)
