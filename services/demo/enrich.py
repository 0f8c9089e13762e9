"""Enrichment in the demo history: what `enrichment.run_enrichment` writes, since the history
cannot reach Crustdata.

A project's due members (never enriched, failed, or older than the freshness window) get their
parsed columns (people found by a search get the skills, years and seniority Crustdata would
add), the raw JSON, or a failure with its reason ("no match" for people Crustdata does not know,
again on every later try), the job row, and one usage row per batch of 25 (a credit for each
matched profile) plus the credit balance checks before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.core.settings import get_settings
from services.demo.profiles import Person, write_raw
from services.demo.state import Demo, ProjectState
from services.demo.usage import Who
from services.demo.work import provider_job
from services.providers.crustdata import BATCH_SIZE

NO_MATCH_SHARE = 0.035

DUE_SQL = """
SELECT p.id FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
WHERE pp.project_id = %(project)s
  AND (p.enrichment_status <> 'enriched' OR p.enriched_at < %(stale)s OR p.enriched_at > %(at)s)
ORDER BY p.id
"""
ENRICHED_SQL = """
UPDATE profiles p SET enrichment_status = 'enriched', enriched_at = v.at, enrichment_error = NULL,
    updated_at = v.at,
    headline = coalesce(v.headline, p.headline),
    seniority = coalesce(v.seniority, p.seniority),
    years_experience = coalesce(v.years, p.years_experience),
    skills = CASE WHEN v.skills IS NULL THEN p.skills ELSE string_to_array(v.skills, '|') END
FROM unnest(%(ids)s::bigint[], %(at)s::timestamptz[], %(headline)s::text[],
            %(seniority)s::text[], %(years)s::int[], %(skills)s::text[])
    AS v(id, at, headline, seniority, years, skills)
WHERE p.id = v.id
"""
FAILED_SQL = """
UPDATE profiles p SET enrichment_status = 'failed', enrichment_error = v.reason,
    enrichment_attempts = p.enrichment_attempts + 1, updated_at = v.at
FROM unnest(%(ids)s::bigint[], %(at)s::timestamptz[], %(reason)s::text[]) AS v(id, at, reason)
WHERE p.id = v.id
"""


@dataclass
class _Enriched:
    """What the batches of one enrichment job did: the columns of the profiles matched, the
    failures, and per call (at, batch size, credits billed, first profile id)."""

    ok: dict[str, list[Any]] = field(
        default_factory=lambda: {
            k: [] for k in ("ids", "at", "headline", "seniority", "years", "skills")
        }
    )
    bad: dict[str, list[Any]] = field(default_factory=lambda: {"ids": [], "at": [], "reason": []})
    calls: list[tuple[datetime, int, int, int]] = field(default_factory=list)


def enrich(demo: Demo, state: ProjectState, user_key: str, at: datetime) -> None:
    """Enrich what is due in the project (never enriched, stale, or failed), 25 per call."""
    user = demo.user(user_key)
    due, urls = _due(demo, state, at)
    if not due:
        return
    batches = [due[i : i + BATCH_SIZE] for i in range(0, len(due), BATCH_SIZE)]
    seconds = len(batches) * demo.rng.uniform(4.5, 9.0)  # the 15/min limit paces the batches
    started, before = at, demo.crustdata_credits
    out = _Enriched()
    for n, batch in enumerate(batches):
        when = started + timedelta(seconds=seconds * (n + 1) / len(batches))
        billed = _enrich_batch(demo, out, batch, urls, when)
        out.calls.append((when, len(batch), billed, batch[0]))
    demo.crustdata_credits -= sum(c[2] for c in out.calls)
    finished = started + timedelta(seconds=seconds + 1)
    message = f"credits before: {before:,}, after: {demo.crustdata_credits:,}"
    job_id = _write_enrichment(demo, state, user, started, finished, len(due), out, message)
    _enrich_usage(demo, Who(user, state.id, job_id), out.calls, urls, started, finished)


def _due(demo: Demo, state: ProjectState, at: datetime) -> tuple[list[int], dict[int, str]]:
    """The project's members due for enrichment, and their URLs."""
    stale = at - timedelta(days=get_settings().enrichment_freshness_days)
    with demo.db.tx() as conn:
        due = [
            int(r[0])
            for r in conn.execute(
                DUE_SQL, {"project": state.id, "stale": stale, "at": at}
            ).fetchall()
        ]
        urls = dict(
            conn.execute(
                "SELECT id, linkedin_url FROM profiles WHERE id = ANY(%s::bigint[])", (due,)
            ).fetchall()
        )
    return due, urls


def _enrich_batch(
    demo: Demo, out: _Enriched, batch: list[int], urls: dict[int, str], when: datetime
) -> int:
    """One call's profiles: matched (with what Crustdata adds to a found person's export row)
    or "no match", decided on a profile's first attempt. Returns the credits it bills."""
    billed = 0
    for profile_id in batch:
        if profile_id not in demo.attempted and demo.rng.random() < NO_MATCH_SHARE:
            demo.unmatched.add(profile_id)
        demo.attempted.add(profile_id)
        if profile_id in demo.unmatched:
            out.bad["ids"].append(profile_id)
            out.bad["at"].append(when)
            out.bad["reason"].append("no match")
            continue
        billed += 1
        person: Person | None = demo.people.get(urls[profile_id])
        out.ok["ids"].append(profile_id)
        out.ok["at"].append(when)
        out.ok["headline"].append(person.headline if person else None)
        out.ok["seniority"].append(person.seniority if person else None)
        out.ok["years"].append(person.years if person else None)
        out.ok["skills"].append("|".join(person.skills) if person else None)
    return billed


def _write_enrichment(
    demo: Demo,
    state: ProjectState,
    user: int,
    started: datetime,
    finished: datetime,
    total: int,
    out: _Enriched,
    message: str,
) -> int:
    """The enriched and failed profiles (raw JSON included) and the finished job; returns it."""
    with demo.db.tx() as conn:
        if out.ok["ids"]:
            conn.execute(ENRICHED_SQL, out.ok)
            write_raw(conn, out.ok["ids"])
        if out.bad["ids"]:
            conn.execute(FAILED_SQL, out.bad)
        return provider_job(
            conn,
            "enrich",
            {"project_id": state.id},
            user,
            state.id,
            started,
            finished,
            total=total,
            done=len(out.ok["ids"]),
            failed=len(out.bad["ids"]),
            message=message,
        )


def _enrich_usage(
    demo: Demo,
    who: Who,
    calls: list[tuple[datetime, int, int, int]],
    urls: dict[int, str],
    started: datetime,
    finished: datetime,
) -> None:
    """The credit balance check before and after, and one metered call per batch."""
    demo.usage.add(started, who, "crustdata", "credits", latency=(150, 400))
    for when, size, billed, first in calls:
        subject = f"{size} profiles" if size > 1 else urls[first]
        demo.usage.add(
            when,
            who,
            "crustdata",
            "person_enrich",
            units=float(billed),
            subject=subject,
            latency=(1800, 7000),
        )
    demo.usage.add(finished, who, "crustdata", "credits", latency=(150, 400))
