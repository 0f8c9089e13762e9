"""What enrichment writes about one profile: the grid's columns parsed from a Crustdata
person, its raw answer, or the reason it failed.

Parsing is pure (no clock, no database): the caller passes the reference year for years of
experience, so the same answer always parses the same way. Writing happens in the caller's
transaction, so an outcome commits together with the job's progress.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from services.providers.crustdata import PersonData, ProfileOutcome

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


def _years(person: PersonData, year: int) -> int | None:
    """Whole years from the earliest job start to `year` (the reference year, e.g. this one)."""
    starts = [
        e.start_date
        for e in (
            *person.experience.employment_details.current,
            *person.experience.employment_details.past,
        )
        if e.start_date
    ]
    years = [int(s[:4]) for s in starts if s[:4].isdigit()]
    return max(0, year - min(years)) if years else None


def _seniority(title: str | None) -> str | None:
    lowered = (title or "").lower()
    return next((label for word, label in SENIORITY_BY_TITLE if word in lowered), None)


def parse_person(person: PersonData, year: int) -> Parsed:
    """The grid's columns from one Crustdata person; `year` is the reference year for
    years_experience (the caller's current UTC year), so parsing itself never reads the clock."""
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
        years_experience=_years(person, year),
        skills=list(dict.fromkeys(person.skills.professional_network_skills))[:50],
        # School filter lists compare against these names (migration 0006).
        schools=list(dict.fromkeys(s.school for s in person.education.schools if s.school))[:20],
    )


def save_outcome(
    conn: psycopg.Connection, profile_id: int, outcome: ProfileOutcome, year: int
) -> bool:
    """Write one outcome; returns True when the profile is now enriched."""
    if outcome.status == "enriched" and outcome.person is not None:
        _save_person(conn, profile_id, outcome.person, year)
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


def _save_person(conn: psycopg.Connection, profile_id: int, person: PersonData, year: int) -> None:
    parsed = parse_person(person, year)
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
