"""Enrichment: a project's profiles that are not enriched, or older than the freshness window, get
full data from Crustdata in batches of 25 within the shared rate limit.

Each batch commits its results (parsed columns to `profiles`, raw JSON to `profile_raw`, failures
with their reason) together with the job's progress, so a worker killed mid-job loses at most the
batch in flight; the rerun selects only what still needs enrichment, so nothing fresh is paid for
twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from services import jobs
from services.cache import bump_data_version
from services.db import transaction
from services.jobs import Job
from services.providers.config import load_config
from services.providers.crustdata import BATCH_SIZE, CrustdataClient, PersonData, ProfileOutcome
from services.providers.errors import ProviderError
from services.providers.metering import CallContext
from services.settings import get_settings

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
SENIORITY_BY_TITLE = (
    ("chief", "C-level"),
    ("cto", "C-level"),
    ("vp", "VP"),
    ("head of", "Director"),
    ("director", "Director"),
    ("principal", "Principal"),
    ("lead", "Lead"),
    ("manager", "Lead"),
    ("senior", "Senior"),
    ("junior", "Junior"),
    ("intern", "Intern"),
)


@dataclass(frozen=True)
class Parsed:
    """The columns a list or grid may read, parsed once from the provider's answer."""

    full_name: str | None
    headline: str | None
    current_title: str | None
    current_company: str | None
    location: str | None
    seniority: str | None
    years_experience: int | None
    skills: list[str]
    schools: list[str]


def _years(person: PersonData) -> int | None:
    starts = [
        e.start_date
        for e in (
            *person.experience.employment_details.current,
            *person.experience.employment_details.past,
        )
        if e.start_date
    ]
    years = [int(s[:4]) for s in starts if s[:4].isdigit()]
    return max(0, 2026 - min(years)) if years else None


def _seniority(title: str | None) -> str | None:
    lowered = (title or "").lower()
    return next((label for word, label in SENIORITY_BY_TITLE if word in lowered), None)


def parse_person(person: PersonData) -> Parsed:
    basic = person.basic_profile
    current = person.experience.employment_details.current
    title = basic.current_title or (current[0].title if current else None)
    return Parsed(
        full_name=basic.name,
        headline=basic.headline,
        current_title=title,
        current_company=person.current_company,
        location=person.location_text,
        seniority=_seniority(title),
        years_experience=_years(person),
        skills=list(dict.fromkeys(person.skills.professional_network_skills))[:50],
        # School filter lists compare against these names (migration 0006).
        schools=list(dict.fromkeys(s.school for s in person.education.schools if s.school))[:20],
    )


def _save(conn: psycopg.Connection, profile_id: int, outcome: ProfileOutcome) -> bool:
    """Write one outcome; returns True when the profile is now enriched."""
    if outcome.status == "enriched" and outcome.person is not None:
        parsed = parse_person(outcome.person)
        conn.execute(
            "UPDATE profiles SET full_name = coalesce(%s, full_name),"
            " headline = coalesce(%s, headline), current_title = coalesce(%s, current_title),"
            " current_company = coalesce(%s, current_company), location = coalesce(%s, location),"
            " seniority = coalesce(%s, seniority),"
            " years_experience = coalesce(%s, years_experience), skills = %s, schools = %s,"
            " enrichment_status = 'enriched', enriched_at = now(), enrichment_error = NULL,"
            " updated_at = now() WHERE id = %s",
            (
                parsed.full_name,
                parsed.headline,
                parsed.current_title,
                parsed.current_company,
                parsed.location,
                parsed.seniority,
                parsed.years_experience,
                parsed.skills,
                parsed.schools,
                profile_id,
            ),
        )
        payload = outcome.person.model_dump(mode="json")
        if outcome.sandbox:
            payload["_sandbox"] = True
        conn.execute(
            "INSERT INTO profile_raw (profile_id, provider, payload) VALUES (%s, 'crustdata', %s)"
            " ON CONFLICT (profile_id, provider) DO UPDATE SET payload = EXCLUDED.payload,"
            " fetched_at = now()",
            (profile_id, Jsonb(payload)),
        )
        return True
    reason = outcome.error or ("no match" if outcome.status == "not_found" else "failed")
    conn.execute(
        "UPDATE profiles SET enrichment_status = 'failed', enrichment_error = %s,"
        " enrichment_attempts = enrichment_attempts + 1, updated_at = now() WHERE id = %s",
        (reason[:500], profile_id),
    )
    return False


def run_enrichment(job: Job) -> None:
    project_id = int(job.params["project_id"])
    days = get_settings().enrichment_freshness_days
    client = CrustdataClient(load_config("crustdata"))
    ctx = CallContext(user_id=job.created_by, project_id=project_id, job_id=job.id)
    credits_before = _credits(client, ctx)
    with transaction() as conn:
        due = conn.execute(COUNT_DUE_SQL, {"project": project_id, "days": days}).fetchone()
        # Absolute progress across attempts: what earlier attempts committed stays counted.
        total = int(due[0] if due else 0) + job.done + job.failed
        jobs.set_total(conn, job.id, total)
    done, failed, after = job.done, job.failed, 0
    while True:
        if jobs.is_cancelled(job.id):
            return
        with transaction() as conn:
            batch = conn.execute(
                DUE_SQL, {"project": project_id, "days": days, "after": after, "limit": BATCH_SIZE}
            ).fetchall()
        if not batch:
            break
        after = batch[-1][0]
        outcomes = client.enrich_people(ctx, [url for _, url in batch])
        with transaction() as conn:
            for (profile_id, _), outcome in zip(batch, outcomes, strict=True):
                if _save(conn, profile_id, outcome):
                    done += 1
                else:
                    failed += 1
            jobs.set_progress(
                conn, job.id, done, failed, message=f"credits before: {credits_before}"
            )
        bump_data_version("profiles")
    credits_after = _credits(client, ctx)
    with transaction() as conn:
        jobs.set_progress(
            conn,
            job.id,
            done,
            failed,
            message=f"credits before: {credits_before}, after: {credits_after}",
        )
    bump_data_version("profiles", "insights")


def _credits(client: CrustdataClient, ctx: CallContext) -> str:
    try:
        return f"{client.credits(ctx):,}"
    except ProviderError as exc:
        return f"unknown ({exc.message})"


def start_enrichment(user_id: int, project_id: int) -> int:
    return jobs.start_job("enrich", {"project_id": project_id}, user_id, project_id)
