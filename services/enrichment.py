"""Enrichment: a project's profiles that are not enriched, or older than the freshness window, get
full data from Crustdata in batches of 25 within the shared rate limit.

Each batch commits its results (parsed columns to `profiles`, raw JSON to `profile_raw`, failures
with their reason) together with the job's progress, so a worker killed mid-job loses at most the
batch in flight; the rerun selects only what still needs enrichment, so nothing fresh is paid for
twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from services import jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.settings import get_settings, tuning
from services.enrichment_profiles import parse_person as parse_person  # re-exported for callers
from services.enrichment_profiles import save_outcome as _save  # a module global: tests swap it
from services.insights import funnel_rollup
from services.jobs import Job, Requeue
from services.jobs.kinds import job_kind
from services.providers.config import load_config
from services.providers.crustdata import (
    BATCH_JOB_MAX,
    BATCH_SIZE,
    BatchesBusy,
    BatchStatus,
    CrustdataClient,
    ProfileOutcome,
)
from services.providers.errors import ProviderError, RetriesExhausted, RetryLater
from services.providers.linkedin import normalize_profile_url
from services.providers.metering import CallContext

log = logging.getLogger(__name__)

DUE_SQL = """
SELECT p.id, p.linkedin_url FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
WHERE pp.project_id = %(project)s
  AND (p.enrichment_status <> 'enriched' OR p.enriched_at < now() - make_interval(days => %(days)s))
  AND p.id > %(after)s
ORDER BY p.id LIMIT %(limit)s
"""
COUNT_DUE_SQL = """
SELECT count(*) FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
WHERE pp.project_id = %(project)s
  AND (p.enrichment_status <> 'enriched' OR p.enriched_at < now() - make_interval(days => %(days)s))
"""


@dataclass
class _Run:
    """One delivery of an enrichment job: its client, context and absolute progress."""

    job: Job
    project_id: int
    days: int
    client: CrustdataClient
    ctx: CallContext
    done: int
    failed: int

    def progress(self, conn: psycopg.Connection, message: str | None) -> None:
        jobs.set_progress(conn, self.job.id, self.done, self.failed, message=message)


def batch_min() -> int:
    """Due profiles from which the batch endpoint is used: below it 25-URL sync calls finish
    sooner than a batch job's queueing (`CRUSTDATA_BATCH_MIN`, default 500)."""
    return tuning().crustdata_batch_min


@job_kind("enrich")
def run_enrichment(job: Job) -> None:
    """Enrich what is due: through batch jobs while at least `batch_min()` profiles are due,
    then (or on a failed batch) 25 at a time. A batch job's state lives in `params.batch`, so a
    re-delivery follows the same batch instead of submitting (and paying for) another."""
    project_id = int(job.params["project_id"])
    run = _Run(
        job=job,
        project_id=project_id,
        days=get_settings().enrichment_freshness_days,
        client=CrustdataClient(load_config("crustdata")),
        ctx=CallContext(user_id=job.created_by, project_id=project_id, job_id=job.id),
        done=job.done,
        failed=job.failed,
    )
    state: dict[str, Any] = dict(job.params.get("batch") or {})
    if not state:
        state = {"phase": "start", "after": 0, "credits_before": _credits(run.client, run.ctx)}
        with unit_of_work() as conn:
            due = _count_due(conn, run, 0)
            # Absolute progress across attempts: what earlier attempts committed stays counted.
            jobs.set_total(conn, job.id, due + job.done + job.failed)
    while True:
        if jobs.is_cancelled(job.id):
            return
        if state["phase"] == "submitted":
            state = _follow_batch(run, state)
            continue
        after = int(state["after"])
        if state["phase"] != "fallback":
            with unit_of_work() as conn:
                due = _count_due(conn, run, after)
            if due >= batch_min():
                state = _submit_batch(run, state, after)
                continue
        _run_sync(run, after, str(state["credits_before"]), state.get("reason"))
        return


def _count_due(conn: psycopg.Connection, run: _Run, after: int) -> int:
    row = conn.execute(
        COUNT_DUE_SQL + " AND p.id > %(after)s",
        {"project": run.project_id, "days": run.days, "after": after},
    ).fetchone()
    return int(row[0] if row else 0)


def _put_state(conn: psycopg.Connection, job_id: int, state: dict[str, Any]) -> None:
    jobs.merge_params(conn, job_id, "batch", state)


def _fallback(run: _Run, state: dict[str, Any], reason: str) -> dict[str, Any]:
    """Enrich what is still due since this batch's start synchronously, saying why."""
    new = {**state, "phase": "fallback", "after": state.get("start_after", state["after"])}
    new["reason"] = f"Crustdata batch not used: {reason}"[:400]
    with unit_of_work() as conn:
        _put_state(conn, run.job.id, new)
        run.progress(conn, new["reason"])
    log.warning("enrichment job %s falls back to sync calls: %s", run.job.id, reason)
    return new


def _submit_batch(run: _Run, state: dict[str, Any], after: int) -> dict[str, Any]:
    """Submit everything due after `after` (≤10,000 by id) as one batch job, then wait for it.
    The covered profiles are "due at `submitted_at`, id in (after, last_id]": not stored."""
    with unit_of_work() as conn:
        rows = conn.execute(
            DUE_SQL,
            {"project": run.project_id, "days": run.days, "after": after, "limit": BATCH_JOB_MAX},
        ).fetchall()
        now_row = conn.execute("SELECT now()").fetchone()
    assert now_row is not None
    urls = list(dict.fromkeys(u for _, url in rows if (u := normalize_profile_url(url))))
    if not urls:  # nothing submittable: the sync path records each bad URL's reason
        return {**state, "phase": "fallback", "reason": None}
    try:
        batch_id = run.client.submit_batch(run.ctx, urls)
    except BatchesBusy as exc:
        wait = max(exc.retry_after or 0.0, tuning().crustdata_batch_busy_s)
        raise Requeue(wait, "waiting for a free Crustdata batch slot (5 jobs active)") from None
    except (RetryLater, RetriesExhausted) as exc:
        raise Requeue(
            _retry_wait(exc), f"Crustdata batch submit will retry: {exc.reason}"
        ) from None
    except ProviderError as exc:
        return _fallback(run, {**state, "start_after": after}, exc.reason)
    new = {
        "phase": "submitted",
        "id": batch_id,
        "submitted_at": now_row[0].isoformat(),
        "start_after": after,
        "after": after,
        "last_id": int(rows[-1][0]),
        "count": len(urls),
        "saved_through": after,
        "credits_before": state["credits_before"],
    }
    message = f"Crustdata batch {batch_id[:8]}: submitted {len(urls)} profiles"
    with unit_of_work() as conn:
        _put_state(conn, run.job.id, new)
        run.progress(conn, message)
    raise Requeue(tuning().crustdata_batch_poll_s, message)


def _retry_wait(exc: ProviderError) -> float:
    stated = getattr(exc, "retry_after", None)
    return max(float(stated or 0.0), tuning().crustdata_batch_poll_s)


def _follow_batch(run: _Run, state: dict[str, Any]) -> dict[str, Any]:
    """Poll once; re-queue while it runs; on completion save its file; on failure fall back."""
    batch_id = str(state["id"])
    try:
        status = run.client.batch_status(run.ctx, batch_id)
    except (RetryLater, RetriesExhausted) as exc:
        raise Requeue(
            _retry_wait(exc), f"Crustdata batch status will retry: {exc.reason}"
        ) from None
    except ProviderError as exc:
        return _fallback(run, state, f"status of batch {batch_id}: {exc.reason}")
    if status.status in ("pending", "processing"):
        message = f"Crustdata batch {batch_id[:8]}: {status.status}, {state['count']} profiles"
        raise Requeue(tuning().crustdata_batch_poll_s, message)
    if status.status == "failed":
        return _fallback(run, state, f"batch {batch_id} failed: {status.error_message}")
    return _save_batch(run, state, status)


COVERED_SQL = """
SELECT p.id, p.linkedin_url, (p.enrichment_status = 'enriched' AND p.enriched_at >= %(at)s)
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
WHERE pp.project_id = %(project)s AND pp.added_at <= %(at)s
  AND p.id > %(after)s AND p.id <= %(last)s
  AND (p.enrichment_status <> 'enriched'
       OR p.enriched_at < %(at)s - make_interval(days => %(days)s)
       OR p.enriched_at >= %(at)s)
ORDER BY p.id
"""
SAVE_CHUNK = 250  # outcomes per committed chunk of a batch's results


def _save_batch(run: _Run, state: dict[str, Any], status: BatchStatus) -> dict[str, Any]:
    """Save a completed batch's outcomes in chunks, each committed with the progress and the
    last saved profile id, so a killed worker resumes after it (re-reading the file, unbilled).
    Covered = due at submit time: a profile enriched since (by another job) is left as it is."""
    rows, outcomes = _covered_outcomes(run, state, status)
    year = dt.datetime.now(dt.UTC).year  # years_experience counts up to this year
    new = dict(state)
    for i in range(0, max(len(rows), 1), SAVE_CHUNK):
        if jobs.is_cancelled(run.job.id):
            return new
        chunk = rows[i : i + SAVE_CHUNK]
        with unit_of_work() as conn:
            _save_chunk(conn, run, chunk, outcomes, year)
            last = i + SAVE_CHUNK >= len(rows)
            new["saved_through"] = chunk[-1][0] if chunk else new["saved_through"]
            if last:
                new.update(phase="saved", after=int(state["last_id"]))
            _put_state(conn, run.job.id, new)
            run.progress(conn, f"Crustdata batch {str(state['id'])[:8]}: saving results")
        bump_data_version("profiles")
    return new


def _covered_outcomes(
    run: _Run, state: dict[str, Any], status: BatchStatus
) -> tuple[list[Any], dict[str, ProfileOutcome]]:
    """The profiles the batch covers still to save, and the batch file's outcomes by URL."""
    batch_id = str(state["id"])
    at = dt.datetime.fromisoformat(str(state["submitted_at"]))
    with unit_of_work() as conn:
        rows = conn.execute(
            COVERED_SQL,
            {
                "project": run.project_id,
                "days": run.days,
                "at": at,
                "after": int(state["saved_through"]),
                "last": int(state["last_id"]),
            },
        ).fetchall()
        billed = _billed_before(conn, run.job.id, batch_id)
    wanted = list(dict.fromkeys(u for _, url, _ in rows if (u := normalize_profile_url(url))))
    outcomes: dict[str, ProfileOutcome] = {}
    if wanted and status.result_count != 0 and status.download_url:
        read = run.client.batch_results(
            run.ctx, status.download_url, wanted, subject=batch_id, bill=not billed
        )
        outcomes = {o.url: o for o in read}
    return rows, outcomes


def _save_chunk(
    conn: psycopg.Connection,
    run: _Run,
    chunk: list[Any],
    outcomes: dict[str, ProfileOutcome],
    year: int,
) -> None:
    for profile_id, url, enriched_since in chunk:
        if enriched_since:
            continue  # enriched after submit elsewhere: newer than this file
        norm = normalize_profile_url(url)
        outcome = (
            outcomes.get(norm) or ProfileOutcome(url=norm, status="not_found")
            if norm
            else ProfileOutcome(url=url, status="failed", error="not a LinkedIn profile URL")
        )
        if _save(conn, profile_id, outcome, year):
            run.done += 1
        else:
            run.failed += 1


def _billed_before(conn: psycopg.Connection, job_id: int, batch_id: str) -> bool:
    """Whether an earlier delivery already metered this batch's file (its usage row is the
    record of what Crustdata charged), so a re-read bills nothing."""
    row = conn.execute(
        "SELECT 1 FROM api_usage WHERE job_id = %s AND provider = 'crustdata'"
        " AND operation = 'person_batch_results' AND subject = %s"
        " AND status IN ('ok', 'partial') LIMIT 1",
        (job_id, batch_id),
    ).fetchone()
    return row is not None


def _run_sync(run: _Run, after: int, credits_before: str, reason: str | None) -> None:
    """25 profiles per call from `after` on, each call's outcomes committed with the progress."""
    job = run.job
    note = f"{reason}; " if reason else ""
    while True:
        if jobs.is_cancelled(job.id):
            return
        with unit_of_work() as conn:
            batch = conn.execute(
                DUE_SQL,
                {"project": run.project_id, "days": run.days, "after": after, "limit": BATCH_SIZE},
            ).fetchall()
        if not batch:
            break
        after = batch[-1][0]
        outcomes = run.client.enrich_people(run.ctx, [url for _, url in batch])
        year = dt.datetime.now(dt.UTC).year  # years_experience counts up to this year
        with unit_of_work() as conn:
            for (profile_id, _), outcome in zip(batch, outcomes, strict=True):
                if _save(conn, profile_id, outcome, year):
                    run.done += 1
                else:
                    run.failed += 1
            run.progress(conn, f"{note}credits before: {credits_before}")
        bump_data_version("profiles")
    credits_after = _credits(run.client, run.ctx)
    with unit_of_work() as conn:
        run.progress(conn, f"{note}credits before: {credits_before}, after: {credits_after}")
    bump_data_version("profiles", "insights")
    funnel_rollup.request_refresh()


def _credits(client: CrustdataClient, ctx: CallContext) -> str:
    try:
        return f"{client.credits(ctx):,}"
    except ProviderError as exc:
        return f"unknown ({exc.message})"


def start_enrichment(user_id: int, project_id: int) -> int:
    return jobs.start_job("enrich", {"project_id": project_id}, user_id, project_id)
