"""Screening selection: which of a project's members a screening job owns, as `pending` rows.

Set-based and idempotent: the members that passed the filters (or all members, or an explicit
selection, or this version's failed screenings for a retry), minus those already `done` for this
prompt version with the same input hash. Each becomes a `pending` row owned by the job (INSERT
... ON CONFLICT DO UPDATE that never takes a row another live job owns, nor one this job already
handled), read in id order a chunk at a time.
"""

from __future__ import annotations

from typing import Any

import psycopg

from services.jobs import Job
from services.screening import prompt as pr

SELECT_CHUNK = 1000

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


def claim(conn: psycopg.Connection, job: Job, project_id: int, version_id: int) -> None:
    """Make the job's `pending` rows for its scope, inside the caller's transaction."""
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
