"""Shortlist and contacts: recruiters shortlist a project's profiles; a contact lookup job fetches
emails and phones for the shortlisted ones from SalesQL.

The lookup skips profiles whose contacts are already known and those looked up recently (found
or not found; failed ones are tried again). Each profile is committed on its own (contacts with
type and validity, one `contact_lookups` row, the job's progress), so a killed worker loses at
most one call. The shared limiter enforces SalesQL's per-minute and per-day limits and the
team's daily credit budget before anything is sent; when the budget or the daily limit is
reached, the job stops, the remaining profiles are marked failed with that message (so they are
looked up by the next job), and the job fails with the same clear message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from services import audit, jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.settings import tuning
from services.insights import funnel_rollup
from services.jobs import Job, JobError, Requeue
from services.jobs.kinds import job_kind
from services.providers.errors import (
    BudgetExceeded,
    DailyLimitReached,
    NotConfigured,
    ProviderAuthError,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    RetriesExhausted,
)
from services.providers.metering import CallContext
from services.providers.salesql import SalesqlClient, is_bare_429_exhaustion, next_utc_midnight

log = logging.getLogger(__name__)
MAX_SELECTION = 5000
DAILY_WAIT_S = 300.0  # a limiter wait longer than this means the per-day limit, not per-minute


def fresh_days() -> int:
    return tuning().contact_lookup_fresh_days


# --- shortlist ---------------------------------------------------------------------------------


def set_shortlisted(user_id: int, project_id: int, profile_ids: list[int], on: bool = True) -> int:
    """Shortlist (or remove from the shortlist) members of a project; returns rows changed."""
    ids = sorted({int(i) for i in profile_ids})
    if not ids:
        return 0
    if len(ids) > MAX_SELECTION:
        raise JobError(f"At most {MAX_SELECTION:,} profiles at once")
    with unit_of_work() as conn:
        changed = conn.execute(
            "UPDATE project_profiles SET shortlisted = %s,"
            " shortlisted_at = CASE WHEN %s THEN now() END,"
            " shortlisted_by = CASE WHEN %s THEN %s::bigint END"
            " WHERE project_id = %s AND profile_id = ANY(%s::bigint[]) AND shortlisted <> %s",
            (on, on, on, user_id, project_id, ids, on),
        ).rowcount
        audit.record(
            conn,
            user_id,
            "shortlist.add" if on else "shortlist.remove",
            "project",
            project_id,
            {"profile_ids": ids[:200], "count": changed},
        )
    bump_data_version("projects", "insights")
    funnel_rollup.request_refresh()
    return changed


def shortlist_by_fit(user_id: int, project_id: int, fits: tuple[str, ...] = ("strong",)) -> int:
    """Shortlist every member whose latest finished verdict (newest prompt version) is one of
    `fits`."""
    with unit_of_work() as conn:
        rows = conn.execute(
            "SELECT profile_id FROM ("
            " SELECT DISTINCT ON (s.profile_id) s.profile_id, s.fit"
            " FROM screenings s JOIN prompt_versions v ON v.id = s.prompt_version_id"
            " JOIN project_profiles pp ON pp.project_id = s.project_id"
            "  AND pp.profile_id = s.profile_id"
            " WHERE s.project_id = %s AND s.status = 'done'"
            " ORDER BY s.profile_id, v.version DESC) latest WHERE fit = ANY(%s::text[])",
            (project_id, list(fits)),
        ).fetchall()
    return set_shortlisted(user_id, project_id, [int(r[0]) for r in rows], True)


@dataclass(frozen=True)
class ShortlistRow:
    profile_id: int
    full_name: str
    current_title: str | None
    current_company: str | None
    score: int | None
    fit: str | None
    emails: list[str]
    phones: list[str]
    lookup_status: str | None
    lookup_error: str | None
    shortlisted_at: datetime | None


SHORTLIST_SQL = """
SELECT p.id AS profile_id, p.full_name, p.current_title, p.current_company, sc.score, sc.fit,
       coalesce(array(SELECT c.value || coalesce(' (' || c.type || ', ' || c.validity || ')', '')
                      FROM contacts c WHERE c.profile_id = p.id AND c.kind = 'email'
                      ORDER BY c.id), '{}') AS emails,
       coalesce(array(SELECT c.value || coalesce(' (' || c.type || ')', '')
                      FROM contacts c WHERE c.profile_id = p.id AND c.kind = 'phone'
                      ORDER BY c.id), '{}') AS phones,
       cl.status AS lookup_status, cl.error AS lookup_error, pp.shortlisted_at
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
LEFT JOIN LATERAL (
    SELECT s.score, s.fit FROM screenings s JOIN prompt_versions v ON v.id = s.prompt_version_id
    WHERE s.project_id = pp.project_id AND s.profile_id = pp.profile_id AND s.status = 'done'
    ORDER BY v.version DESC LIMIT 1) sc ON true
LEFT JOIN contact_lookups cl ON cl.profile_id = p.id
WHERE pp.project_id = %s AND pp.shortlisted
ORDER BY pp.shortlisted_at DESC NULLS LAST, p.id
LIMIT %s
"""


def shortlist(project_id: int, limit: int = 500) -> list[ShortlistRow]:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(ShortlistRow)) as cur:
        cur.execute(SHORTLIST_SQL, (project_id, limit))
        return cur.fetchall()


# --- the lookup job ----------------------------------------------------------------------------

DUE_WHERE = """
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
WHERE pp.project_id = %(project)s AND pp.shortlisted
  AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.profile_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM contact_lookups cl WHERE cl.profile_id = p.id
                  AND cl.status IN ('found', 'not_found')
                  AND cl.looked_up_at > now() - make_interval(days => %(days)s))
"""
# `enriched_before`: SalesQL found this person for our account once, so a repeat costs no credit.
DUE_SQL = (
    "SELECT p.id, p.linkedin_url, EXISTS (SELECT 1 FROM contact_lookups f WHERE"
    " f.profile_id = p.id AND f.status = 'found' AND f.provider = 'salesql') AS enriched_before "
    + DUE_WHERE
    + " AND p.id > %(after)s ORDER BY p.id LIMIT 100"
)
COUNT_DUE_SQL = "SELECT count(*) " + DUE_WHERE


def start_lookup(user_id: int, project_id: int) -> int:
    with unit_of_work() as conn:
        due = conn.execute(COUNT_DUE_SQL, {"project": project_id, "days": fresh_days()}).fetchone()
    if not due or not due[0]:
        raise JobError(
            "Nothing to look up: every shortlisted profile has contacts or was looked up recently"
        )
    return jobs.start_job("contact_lookup", {"project_id": project_id}, user_id, project_id)


def _record(
    conn: psycopg.Connection,
    profile_id: int,
    job_id: int,
    status: str,
    error: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO contact_lookups (profile_id, status, provider, error, job_id, looked_up_at)"
        " VALUES (%s, %s, 'salesql', %s, %s, now()) ON CONFLICT (profile_id) DO UPDATE SET"
        " status = EXCLUDED.status, provider = EXCLUDED.provider, error = EXCLUDED.error,"
        " job_id = EXCLUDED.job_id, looked_up_at = now()",
        (profile_id, status, error and error[:1000], job_id),
    )


def _store(conn: psycopg.Connection, profile_id: int, person: object) -> int:
    """Insert a person's emails and phones (with type and validity); returns how many."""
    rows: list[tuple[int, str, str, str | None, str | None]] = []
    for email in getattr(person, "emails", []) or []:
        rows.append((profile_id, "email", email.email.strip(), email.type, email.status))
    for phone in getattr(person, "phones", []) or []:
        validity = None if phone.is_valid is None else ("valid" if phone.is_valid else "invalid")
        rows.append((profile_id, "phone", phone.phone.strip(), phone.type, validity))
    rows = [r for r in rows if r[2]]
    if rows:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO contacts (profile_id, kind, value, type, validity, provider)"
                " VALUES (%s, %s, %s, %s, %s, 'salesql') ON CONFLICT (profile_id, kind, value)"
                " DO UPDATE SET type = EXCLUDED.type, validity = EXCLUDED.validity,"
                " fetched_at = now()",
                rows,
            )
    return len(rows)


class LookupStopped(JobError):
    """The lookup cannot go on today (budget, daily limit, credits, key); message says why."""


def _stop_message(exc: ProviderError) -> str | None:
    """A clear message when no further lookup can succeed today, else None."""
    if isinstance(exc, BudgetExceeded):
        return f"SalesQL credit budget reached: {exc.message}"
    if isinstance(exc, QuotaExhausted):
        return f"The SalesQL account is out of credits ({exc.message})"
    if isinstance(exc, (ProviderAuthError, NotConfigured)):
        return f"SalesQL refused the key: {exc.message}"
    last = exc.last_error if isinstance(exc, RetriesExhausted) else exc
    spent_locally = isinstance(last, RateLimited) and (last.retry_after or 0) > DAILY_WAIT_S
    if isinstance(exc, DailyLimitReached) or spent_locally or is_bare_429_exhaustion(exc):
        return (
            f"SalesQL daily limit reached, resumes at 00:00 UTC"
            f" ({next_utc_midnight():%Y-%m-%d %H:%M} UTC). The remaining profiles are looked up"
            " by the next lookup job."
        )
    return None


@dataclass
class _Lookup:
    """One delivery of a lookup job: its client, context and absolute progress."""

    job: Job
    project_id: int
    days: int
    client: SalesqlClient
    ctx: CallContext
    done: int
    failed: int
    found: int = 0  # of this delivery's lookups, for the progress message


@job_kind("contact_lookup")
def run_contact_lookup(job: Job) -> None:
    """The `contact_lookup` job (params: project_id)."""
    project_id = int(job.params["project_id"])
    days = fresh_days()
    with unit_of_work() as conn:
        due = conn.execute(COUNT_DUE_SQL, {"project": project_id, "days": days}).fetchone()
        total = int(due[0] if due else 0) + job.done + job.failed
        jobs.set_total(conn, job.id, total)
    ctx = CallContext(user_id=job.created_by, project_id=project_id, job_id=job.id)
    run = _Lookup(job, project_id, days, SalesqlClient(), ctx, job.done, job.failed)
    after = 0
    while True:
        if jobs.is_cancelled(job.id):
            return
        with unit_of_work() as conn:
            batch = conn.execute(
                DUE_SQL, {"project": project_id, "days": days, "after": after}
            ).fetchall()
        if not batch:
            break
        for profile_id, url, enriched_before in batch:
            after = int(profile_id)
            _look_up(run, int(profile_id), str(url), bool(enriched_before))
        bump_data_version("insights", "projects")
        funnel_rollup.request_refresh()
    bump_data_version("insights", "projects")


def _look_up(run: _Lookup, profile_id: int, url: str, enriched_before: bool) -> None:
    """One profile's lookup, committed with the job's progress."""
    try:
        person = run.client.enrich_person(run.ctx, url, enriched_before=enriched_before)
    except ProviderError as exc:
        _lookup_failed(run, profile_id, exc)
        return
    with unit_of_work() as conn:
        stored = _store(conn, profile_id, person) if person is not None else 0
        _record(conn, profile_id, run.job.id, "found" if stored else "not_found")
        run.done += 1
        run.found += 1 if stored else 0
        jobs.set_progress(
            conn, run.job.id, run.done, run.failed, message=f"{run.found:,} with contacts so far"
        )


def _lookup_failed(run: _Lookup, profile_id: int, exc: ProviderError) -> None:
    """Stop the job, re-queue it, or record this profile as failed and go on."""
    stop = _stop_message(exc)
    if stop is not None:
        _fail_remaining(run.job.id, run.project_id, run.days, stop, run.done, run.failed)
        raise LookupStopped(stop) from None
    last = exc.last_error if isinstance(exc, RetriesExhausted) else exc
    if isinstance(last, RateLimited) and last.local:  # nothing sent: come back
        raise Requeue(float(last.retry_after or 5.0), "waiting for SalesQL limits") from None
    with unit_of_work() as conn:
        _record(conn, profile_id, run.job.id, "failed", exc.reason)
        run.failed += 1
        jobs.set_progress(conn, run.job.id, run.done, run.failed)


def _fail_remaining(
    job_id: int, project_id: int, days: int, message: str, done: int, failed: int
) -> None:
    with unit_of_work() as conn:
        rows = conn.execute(
            "SELECT p.id " + DUE_WHERE, {"project": project_id, "days": days}
        ).fetchall()
        for (profile_id,) in rows:
            _record(conn, int(profile_id), job_id, "failed", message)
        jobs.set_progress(conn, job_id, done, failed + len(rows), message=message)
    bump_data_version("insights", "projects")
    funnel_rollup.request_refresh()


def has_contacts(profile_ids: list[int]) -> set[int]:
    with unit_of_work() as conn:
        rows = conn.execute(
            "SELECT DISTINCT profile_id FROM contacts WHERE profile_id = ANY(%s::bigint[])",
            (profile_ids,),
        ).fetchall()
    return {int(r[0]) for r in rows}
