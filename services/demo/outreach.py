"""Shortlists and contact lookups in the demo history.

Shortlisting goes through the real `contacts.set_shortlisted`. A lookup job cannot reach
SalesQL, so it writes what `contacts.run_contact_lookup` writes: a `contact_lookups` row per
shortlisted candidate (found, not found, or failed with the real error text), the emails and
phones found, the job row, and one usage row per attempt (a credit only when data comes back
for a person this account had not found before).
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services import contacts
from services.demo.state import Demo, ProjectState
from services.demo.usage import Who
from services.demo.work import provider_job
from services.providers.errors import ProviderTimeout, RetriesExhausted

LATEST_SQL = """
SELECT profile_id, fit FROM (
    SELECT DISTINCT ON (s.profile_id) s.profile_id, s.fit
    FROM screenings s JOIN prompt_versions v ON v.id = s.prompt_version_id
    JOIN project_profiles pp ON pp.project_id = s.project_id AND pp.profile_id = s.profile_id
    WHERE s.project_id = %(project)s AND s.status = 'done' AND s.updated_at < %(at)s
      AND NOT pp.shortlisted
    ORDER BY s.profile_id, v.version DESC) latest
WHERE fit IN ('strong', 'good')
ORDER BY profile_id
"""
# The lookup job's selection (contacts.DUE_WHERE): shortlisted, no contacts, not looked up.
DUE_SQL = """
SELECT p.id, coalesce(p.first_name, ''), coalesce(p.last_name, ''),
       coalesce(p.current_company, ''), p.linkedin_url,
       EXISTS (SELECT 1 FROM contact_lookups f WHERE f.profile_id = p.id AND f.status = 'found')
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
WHERE pp.project_id = %(project)s AND pp.shortlisted
  AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.profile_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM contact_lookups cl WHERE cl.profile_id = p.id
                  AND cl.status IN ('found', 'not_found'))
ORDER BY p.id
"""
LOOKUP_SQL = """
INSERT INTO contact_lookups (profile_id, status, provider, error, job_id, looked_up_at)
VALUES (%s, %s, 'salesql', %s, %s, %s)
ON CONFLICT (profile_id) DO UPDATE SET status = EXCLUDED.status, error = EXCLUDED.error,
    job_id = EXCLUDED.job_id, looked_up_at = EXCLUDED.looked_up_at
"""
CONTACT_SQL = """
INSERT INTO contacts (profile_id, kind, value, type, validity, provider, fetched_at)
VALUES (%s, %s, %s, %s, %s, 'salesql', %s) ON CONFLICT (profile_id, kind, value) DO NOTHING
"""


def shortlist(demo: Demo, state: ProjectState, at: datetime) -> int:
    """The owner shortlists every strong fit and about half of the good ones screened so far."""
    rng, owner = demo.rng, demo.user(state.plan.owner)
    with demo.db.tx() as conn:
        rows = conn.execute(LATEST_SQL, {"project": state.id, "at": at}).fetchall()
    ids = [int(r[0]) for r in rows if r[1] == "strong" or rng.random() < 0.45]
    if not ids:
        return 0
    contacts.set_shortlisted(owner, state.id, ids, True)
    with demo.db.tx() as conn:
        demo.db.move(conn, at)  # the audit row
        conn.execute(
            "UPDATE project_profiles SET shortlisted_at = %s"
            " WHERE project_id = %s AND profile_id = ANY(%s::bigint[])",
            (at, state.id, ids),
        )
    return len(ids)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _domain(company: str) -> str:
    base = re.sub(r"\b(gmbh|inc|ltd|group|industries|enterprises)\b", "", company.lower())
    return (_ascii(base) or "example") + ".com"


Call = tuple[datetime, str, str, float, int, str | None]  # (at, url, status, units, try, error)


@dataclass
class _Lookups:
    """What one lookup job found, collected candidate by candidate before it is written."""

    lookups: list[tuple[int, str, str | None, datetime]] = field(default_factory=list)
    contact_rows: list[tuple[object, ...]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    found: int = 0
    failed: int = 0


def look_up(demo: Demo, state: ProjectState, at: datetime) -> int:
    """A contact lookup job for the project's shortlisted candidates without contacts."""
    owner = demo.user(state.plan.owner)
    with demo.db.tx() as conn:
        due = conn.execute(DUE_SQL, {"project": state.id}).fetchall()
    if not due:
        return 0
    out = _Lookups()
    for n, candidate in enumerate(due):
        when = at + timedelta(seconds=(n + 1) * demo.rng.uniform(0.6, 1.6))
        _look_up_one(demo.rng, out, when, *candidate)
    job_id = _write_lookups(demo, state, owner, at, len(due), out)
    _lookup_usage(demo, Who(owner, state.id, job_id), out.calls)
    return len(due)


def _look_up_one(
    rng: random.Random,
    out: _Lookups,
    when: datetime,
    profile_id: int,
    first: str,
    last: str,
    company: str,
    url: str,
    before: bool,
) -> None:
    """One candidate's lookup: gave up after timeouts, nothing found, or contacts (a credit
    only for someone this account had not found before)."""
    roll = rng.random()
    if roll < 0.06:
        gave_up = RetriesExhausted(ProviderTimeout("salesql", "read timeout after 30 s"), 3)
        out.lookups.append((profile_id, "failed", gave_up.reason[:1000], when))
        for attempt in range(1, 4):
            out.calls.append((when, url, "timeout", 0.0, attempt, gave_up.reason))
        out.failed += 1
    elif roll < 0.28:
        out.lookups.append((profile_id, "not_found", None, when))
        out.calls.append((when, url, "not_found" if roll < 0.2 else "no_data", 0.0, 1, None))
    else:
        out.lookups.append((profile_id, "found", None, when))
        out.calls.append((when, url, "ok", 0.0 if before else 1.0, 1, None))
        out.contact_rows.extend(_contacts_of(rng, profile_id, first, last, company, when))
        out.found += 1


def _contacts_of(
    rng: random.Random, profile_id: int, first: str, last: str, company: str, when: datetime
) -> list[tuple[object, ...]]:
    """A found person's work email, and sometimes a private email and a mobile number."""
    email = f"{_ascii(first)}.{_ascii(last)}@{_domain(company)}"
    validity = "Valid" if rng.random() < 0.8 else "Unverifiable"
    rows: list[tuple[object, ...]] = [(profile_id, "email", email, "Work", validity, when)]
    if rng.random() < 0.35:
        private = f"{_ascii(first)}{rng.randint(10, 99)}@gmail.com"
        rows.append((profile_id, "email", private, "Direct", "Valid", when))
    if rng.random() < 0.5:
        phone = f"+49 15{rng.randint(1, 9)} {rng.randint(1000000, 9999999)}"
        valid = "valid" if rng.random() < 0.9 else None
        rows.append((profile_id, "phone", phone, "Mobile", valid, when))
    return rows


def _write_lookups(
    demo: Demo, state: ProjectState, owner: int, at: datetime, total: int, out: _Lookups
) -> int:
    """The finished lookup job, its `contact_lookups` rows and the contacts; returns the job."""
    finished = out.lookups[-1][3] + timedelta(seconds=1)
    with demo.db.tx() as conn:
        job_id = provider_job(
            conn,
            "contact_lookup",
            {"project_id": state.id},
            owner,
            state.id,
            at,
            finished,
            total=total,
            done=total - out.failed,
            failed=out.failed,
            message=f"{out.found:,} with contacts so far",
        )
        with conn.cursor() as cur:
            cur.executemany(
                LOOKUP_SQL, [(p, status, err, job_id, when) for p, status, err, when in out.lookups]
            )
            cur.executemany(CONTACT_SQL, out.contact_rows)
    return job_id


def _lookup_usage(demo: Demo, who: Who, calls: list[Call]) -> None:
    for when, url, status, units, attempt, error in calls:
        http = {"ok": 200, "no_data": 200, "not_found": 404}.get(status)
        demo.usage.add(
            when,
            who,
            "salesql",
            "person_enrich",
            status=status,
            units=units,
            http_status=http,
            attempt=attempt,
            subject=url,
            error=error,
            latency=(250, 1400),
        )
