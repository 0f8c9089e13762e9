"""Applying a project's filter lists: which lists apply and how, and the job that writes one
`filter_results` row per member with passed/failed and the reasons.

The job walks the members in chunks (keyset on profile id). Per chunk, the profile values are
normalised in Python (the same functions as the list items, so both sides agree) and sent as
arrays; the matching itself is one set-based SQL statement joining them to `filter_items`
(equality on the indexed `normalized` column for companies and schools, word-boundary phrase
containment for titles, locations and keywords). Results are upserted (ON CONFLICT DO UPDATE)
with the job's progress in the same transaction, so a rerun or a redelivered job simply
overwrites. Reasons hold identifiers, the list item's text and a human sentence; never a copy of
profile data.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from services import audit, jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.filters import normalize as norm
from services.insights import funnel_rollup
from services.jobs import Job, JobError
from services.jobs.kinds import job_kind

log = logging.getLogger(__name__)
MODES = {"must_match": "must match", "must_not_match": "must not match"}
CHUNK = 1000
# What a category compares, as shown in a reason.
SUBJECT = {
    "target_companies": "current company",
    "excluded_companies": "current company",
    "schools": "school",
    "titles_include": "title",
    "titles_exclude": "title",
    "locations": "location",
    "keywords": "profile text",
}

MEMBERS_SQL = """
SELECT p.id, p.current_company, p.current_title, p.location, p.headline, p.skills, p.schools
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
WHERE pp.project_id = %(project)s AND pp.profile_id > %(after)s
ORDER BY pp.profile_id LIMIT %(limit)s
"""

# One row per (profile, applied list, first matching item). Equality categories can use the
# filter_items (normalized) index; phrase categories compare padded strings.
MATCH_SQL = """
WITH v AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(company)s::text[], %(title)s::text[],
                         %(location)s::text[], %(text)s::text[])
        AS v(profile_id, company, title, location, text)
), sch AS (
    SELECT * FROM unnest(%(school_ids)s::bigint[], %(schools)s::text[]) AS s(profile_id, school)
), lists AS (
    SELECT l.id, l.category FROM project_filter_lists pfl JOIN filter_lists l ON l.id = pfl.list_id
    WHERE pfl.project_id = %(project)s
), hits AS (
    SELECT v.profile_id, l.id AS list_id, i.value
    FROM lists l JOIN filter_items i ON i.list_id = l.id
    JOIN v ON CASE l.category
        WHEN 'target_companies' THEN i.normalized = v.company
        WHEN 'excluded_companies' THEN i.normalized = v.company
        WHEN 'titles_include' THEN strpos(' ' || v.title || ' ', ' ' || i.normalized || ' ') > 0
        WHEN 'titles_exclude' THEN strpos(' ' || v.title || ' ', ' ' || i.normalized || ' ') > 0
        WHEN 'locations' THEN strpos(' ' || v.location || ' ', ' ' || i.normalized || ' ') > 0
        WHEN 'keywords' THEN strpos(' ' || v.text || ' ', ' ' || i.normalized || ' ') > 0
        ELSE false END
    WHERE l.category <> 'schools'
    UNION ALL
    SELECT sch.profile_id, l.id, i.value
    FROM lists l JOIN filter_items i ON i.list_id = l.id JOIN sch ON i.normalized = sch.school
    WHERE l.category = 'schools'
)
SELECT DISTINCT ON (profile_id, list_id) profile_id, list_id, value
FROM hits ORDER BY profile_id, list_id, value
"""

UPSERT_SQL = """
INSERT INTO filter_results (project_id, profile_id, passed, reasons, job_id, evaluated_at)
SELECT %(project)s, t.profile_id, t.passed, t.reasons, %(job)s, now()
FROM unnest(%(ids)s::bigint[], %(passed)s::boolean[], %(reasons)s::jsonb[])
    AS t(profile_id, passed, reasons)
ON CONFLICT (project_id, profile_id) DO UPDATE SET passed = EXCLUDED.passed,
    reasons = EXCLUDED.reasons, job_id = EXCLUDED.job_id, evaluated_at = now()
"""


@dataclass(frozen=True)
class AppliedList:
    list_id: int
    name: str
    category: str
    mode: str
    item_count: int


def applied_lists(project_id: int) -> list[AppliedList]:
    with unit_of_work() as conn:
        rows = conn.execute(
            "SELECT l.id, l.name, l.category, pfl.mode,"
            " (SELECT count(*) FROM filter_items i WHERE i.list_id = l.id)::int"
            " FROM project_filter_lists pfl JOIN filter_lists l ON l.id = pfl.list_id"
            " WHERE pfl.project_id = %s ORDER BY l.category, lower(l.name)",
            (project_id,),
        ).fetchall()
    return [AppliedList(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows]


def set_project_lists(user_id: int, project_id: int, choices: dict[int, str]) -> None:
    """Replace which lists apply to a project and how ({list_id: mode})."""
    for mode in choices.values():
        if mode not in MODES:
            raise JobError(f"Unknown filter mode {mode!r}")
    with unit_of_work() as conn:
        if conn.execute("SELECT 1 FROM projects WHERE id = %s", (project_id,)).fetchone() is None:
            raise JobError("No such project")
        conn.execute("DELETE FROM project_filter_lists WHERE project_id = %s", (project_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO project_filter_lists (project_id, list_id, mode)"
                " SELECT %s, id, %s FROM filter_lists WHERE id = %s",
                [(project_id, mode, list_id) for list_id, mode in choices.items()],
            )
        audit.record(
            conn,
            user_id,
            "project.filter_lists",
            "project",
            project_id,
            {"lists": {str(k): v for k, v in choices.items()}},
        )


def start_filter_job(user_id: int, project_id: int) -> int:
    return jobs.start_job("apply_filters", {"project_id": project_id}, user_id, project_id)


def _profile_text(headline: str | None, title: str | None, skills: list[str] | None) -> str:
    return norm.keyword(" ".join([headline or "", title or "", " ".join(skills or [])]))


def _reason(lst: AppliedList, rule: str, value: str | None) -> dict[str, Any]:
    subject = SUBJECT[lst.category]
    if rule == "excluded":
        text = f"excluded: {subject} '{value}' is on '{lst.name}'"
    elif rule == "matched":
        text = f"matched: {subject} '{value}' is on '{lst.name}'"
    else:
        text = f"missing: no {subject} on '{lst.name}'"
    return {
        "list_id": lst.list_id,
        "list": lst.name,
        "category": lst.category,
        "rule": rule,
        "value": value,
        "text": text,
    }


def evaluate(lists: list[AppliedList], hits: dict[int, str]) -> tuple[bool, list[dict[str, Any]]]:
    """Outcome of one profile: `hits` maps list id -> the matching item's text."""
    reasons: list[dict[str, Any]] = []
    passed = True
    for lst in lists:
        value = hits.get(lst.list_id)
        if lst.mode == "must_not_match" and value is not None:
            passed = False
            reasons.append(_reason(lst, "excluded", value))
        elif lst.mode == "must_match" and value is None:
            passed = False
            reasons.append(_reason(lst, "missing", None))
        elif lst.mode == "must_match":
            reasons.append(_reason(lst, "matched", value))
    # Failures first: the first reason is the one a grid cell shows.
    reasons.sort(key=lambda r: r["rule"] == "matched")
    return passed, reasons


def _chunk(
    conn: Any, project_id: int, job_id: int, rows: list[Any], lists: list[AppliedList]
) -> int:
    ids = [int(r[0]) for r in rows]
    hits = _list_hits(conn, project_id, rows, lists) if lists else {}
    passed_flags: list[bool] = []
    reasons: list[Jsonb] = []
    for profile_id in ids:
        passed, why = evaluate(lists, hits.get(profile_id, {}))
        passed_flags.append(passed)
        reasons.append(Jsonb(why))
    conn.execute(
        UPSERT_SQL,
        {
            "project": project_id,
            "job": job_id,
            "ids": ids,
            "passed": passed_flags,
            "reasons": reasons,
        },
    )
    return sum(passed_flags)


def _list_hits(
    conn: Any, project_id: int, rows: list[Any], lists: list[AppliedList]
) -> dict[int, dict[int, str]]:
    """profile id -> list id -> the matching item's text, for every list a profile matches."""
    school_ids: list[int] = []
    schools: list[str] = []
    for r in rows:
        for name in r[6] or []:
            school_ids.append(int(r[0]))
            schools.append(norm.school(name))
    hits: dict[int, dict[int, str]] = defaultdict(dict)
    found = conn.execute(
        MATCH_SQL,
        {
            "ids": [int(r[0]) for r in rows],
            "company": [norm.company(r[1]) for r in rows],
            "title": [norm.title(r[2]) for r in rows],
            "location": [norm.location(r[3]) for r in rows],
            "text": [_profile_text(r[4], r[2], r[5]) for r in rows],
            "school_ids": school_ids,
            "schools": schools,
            "project": project_id,
        },
    ).fetchall()
    for profile_id, list_id, value in found:
        hits[int(profile_id)][int(list_id)] = str(value)
    return hits


@job_kind("apply_filters")
def run_apply_filters(job: Job) -> None:
    """The `apply_filters` job (params: project_id). Idempotent: every chunk overwrites."""
    project_id = int(job.params["project_id"])
    lists = applied_lists(project_id)
    with unit_of_work() as conn:
        total_row = conn.execute(
            "SELECT count(*) FROM project_profiles WHERE project_id = %s", (project_id,)
        ).fetchone()
        jobs.set_total(conn, job.id, int(total_row[0] if total_row else 0))
    after, seen, passed = 0, 0, 0
    while True:
        if jobs.is_cancelled(job.id):
            return
        with unit_of_work() as conn:
            rows = conn.execute(
                MEMBERS_SQL, {"project": project_id, "after": after, "limit": CHUNK}
            ).fetchall()
            if not rows:
                break
            passed += _chunk(conn, project_id, job.id, rows, lists)
            seen += len(rows)
            after = int(rows[-1][0])
            jobs.set_progress(
                conn,
                job.id,
                seen,
                0,
                message=f"{passed:,} passed, {seen - passed:,} filtered out"
                f" by {len(lists)} list(s)",
            )
    bump_data_version("insights", "projects")
    funnel_rollup.request_refresh()


@dataclass(frozen=True)
class FilterSummary:
    evaluated: int
    passed: int
    failed: int
    top_reasons: list[tuple[str, int]]


def summary(project_id: int, limit: int = 10) -> FilterSummary:
    """Outcome counts and the most frequent failure reasons of a project's last filter run."""
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE passed) FROM filter_results fr"
            " JOIN project_profiles pp USING (project_id, profile_id) WHERE fr.project_id = %s",
            (project_id,),
        ).fetchone()
        top = conn.execute(
            "SELECT r->>'text', count(*) FROM filter_results fr"
            " CROSS JOIN LATERAL jsonb_array_elements(fr.reasons) r"
            " WHERE fr.project_id = %s AND NOT fr.passed AND r->>'rule' <> 'matched'"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s",
            (project_id, limit),
        ).fetchall()
    evaluated, passed = (int(row[0]), int(row[1])) if row else (0, 0)
    return FilterSummary(evaluated, passed, evaluated - passed, [(str(t), int(n)) for t, n in top])
