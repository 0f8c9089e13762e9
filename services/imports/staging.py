"""Recording candidates into the tables: the set-based import with dedup, in the caller's
transaction.

Candidates (from an upload or a search run's results) are COPYed into a staging table, matched
to known profiles by canonical URL and member id, inserted when new with ON CONFLICT DO NOTHING
(so the unique keys, not a check-then-insert, decide between concurrent imports), and linked to
the project. Each statement gives some of the staged rows their outcome; the rows that end
without one failed. The outcomes stay in `import_stage` until the transaction ends, for the
import record.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg

from services.csv_source import CandidateRow
from services.imports.report import (
    NO_IDENTITY,
    OUTCOMES,
    SKIPPED_SHOWN,
    ImportReport,
    require_active_project,
)

COPY_BATCH = 20_000

# The export columns (migration 0008) travel from the file to `profiles` unchanged.
EXPORT_COLUMNS = (
    "connection_degree",
    "profile_image_url",
    "industry",
    "school",
    "school_degree",
    "months_in_role",
    "months_in_company",
    "shared_connections",
    "is_open_profile",
    "is_premium",
)
STAGE_COLUMNS = (
    "row_no",
    "storage_url",
    "url",
    "member_id",
    "full_name",
    "first_name",
    "last_name",
    "headline",
    "current_title",
    "current_company",
    "location",
    *EXPORT_COLUMNS,
)


def _stage_lines(candidates: Iterable[CandidateRow]) -> Iterator[tuple[Any, ...]]:
    for c in candidates:
        valid = c.key.valid
        yield (
            c.row_no,
            c.key.storage_url,
            c.key.url,
            c.key.member_id,
            c.full_name[:300],
            c.first_name,
            c.last_name,
            _cap(c.headline),
            _cap(c.current_title),
            _cap(c.current_company),
            _cap(c.location),
            *(_cap(v) if isinstance(v, str) else v for v in _export_values(c)),
            None if valid else "skipped",
            None if valid else NO_IDENTITY,
        )


def _export_values(c: CandidateRow) -> tuple[Any, ...]:
    return tuple(getattr(c.extra, name) for name in EXPORT_COLUMNS)


def _cap(value: str | None, limit: int = 500) -> str | None:
    return value[:limit] if value else value


STAGE_DDL = """
CREATE TEMP TABLE import_stage (
    row_no int, storage_url text, url text, member_id text, full_name text, first_name text,
    last_name text, headline text, current_title text, current_company text, location text,
    connection_degree text, profile_image_url text, industry text, school text,
    school_degree text, months_in_role int, months_in_company int, shared_connections int,
    is_open_profile boolean, is_premium boolean,
    outcome text, reason text,
    profile_id bigint, is_new boolean NOT NULL DEFAULT false, dup_of int
) ON COMMIT DROP
"""
# Rows still in play have no outcome yet; every statement below gives some of them theirs.

# Rows repeating an earlier row of the same file (same URL or same member id) are skipped.
MARK_DUPLICATES = """
UPDATE import_stage s SET dup_of = d.first_row, outcome = 'skipped',
    reason = 'duplicate of row ' || d.first_row || ' in the same file'
FROM (
    SELECT row_no, least(
        CASE WHEN url IS NOT NULL THEN min(row_no) OVER (PARTITION BY url) END,
        CASE WHEN member_id IS NOT NULL THEN min(row_no) OVER (PARTITION BY member_id) END
    ) AS first_row FROM import_stage WHERE outcome IS NULL
) d WHERE d.row_no = s.row_no AND d.first_row < s.row_no
"""
MATCH_KNOWN = """
UPDATE import_stage s SET profile_id = p.id FROM profiles p
WHERE s.profile_id IS NULL AND s.outcome IS NULL AND p.linkedin_url = s.storage_url;
UPDATE import_stage s SET profile_id = p.id FROM profiles p
WHERE s.profile_id IS NULL AND s.outcome IS NULL AND s.member_id IS NOT NULL
  AND p.member_id = s.member_id;
"""
INSERT_NEW = """
WITH inserted AS (
    INSERT INTO profiles (linkedin_url, public_id, member_id, full_name, first_name, last_name,
                          headline, current_title, current_company, location, source,
                          connection_degree, profile_image_url, industry, school, school_degree,
                          months_in_role, months_in_company, shared_connections,
                          is_open_profile, is_premium)
    SELECT storage_url, CASE WHEN url IS NOT NULL THEN substr(url, 29) END, member_id,
           coalesce(full_name, ''), first_name, last_name, headline, current_title,
           current_company, location, %(source)s,
           connection_degree, profile_image_url, industry, school, school_degree,
           months_in_role, months_in_company, shared_connections, is_open_profile, is_premium
    FROM import_stage WHERE profile_id IS NULL AND outcome IS NULL
    ORDER BY row_no
    ON CONFLICT DO NOTHING
    RETURNING id, linkedin_url
)
UPDATE import_stage s SET profile_id = i.id, is_new = true FROM inserted i
WHERE s.storage_url = i.linkedin_url AND s.outcome IS NULL
"""
# A search export is fresher than what we hold about a known person's network data (degree,
# shared connections, time in role): take its non-empty values. Plain CSVs carry none of these
# columns, so for them this touches no row.
REFRESH_EXPORT_FIELDS = (
    "UPDATE profiles p SET "
    + ", ".join(f"{c} = coalesce(s.{c}, p.{c})" for c in EXPORT_COLUMNS)
    + ", updated_at = now() FROM import_stage s"
    " WHERE s.profile_id = p.id AND NOT s.is_new AND s.outcome IS NULL AND s.dup_of IS NULL"
    " AND coalesce(" + ", ".join(f"s.{c}::text" for c in EXPORT_COLUMNS) + ") IS NOT NULL"
)
# One person under two identities in one file (the URL in one row, the member id of the same
# profile in another) is linked once: the later rows are skipped, naming the first.
MARK_SAME_PERSON = """
UPDATE import_stage s SET dup_of = d.first_row, outcome = 'skipped',
    reason = 'same person as row ' || d.first_row || ' in the same file'
FROM (
    SELECT row_no, min(row_no) OVER (PARTITION BY profile_id) AS first_row
    FROM import_stage WHERE outcome IS NULL AND profile_id IS NOT NULL
) d WHERE d.row_no = s.row_no AND d.first_row < s.row_no
"""
LINK = """
WITH linked AS (
    INSERT INTO project_profiles (project_id, profile_id, added_by, search_id)
    SELECT %(project_id)s, profile_id, %(user_id)s, %(search_id)s FROM import_stage
    WHERE profile_id IS NOT NULL AND outcome IS NULL
    ORDER BY row_no
    ON CONFLICT DO NOTHING
    RETURNING profile_id
)
UPDATE import_stage s SET outcome = CASE
    WHEN s.is_new THEN 'new'
    WHEN s.profile_id IN (SELECT profile_id FROM linked) THEN 'linked'
    ELSE 'already' END
WHERE s.outcome IS NULL AND s.profile_id IS NOT NULL
"""
# A row still without a profile lost a race it could not recover from: a real failure.
MARK_FAILED = """
UPDATE import_stage SET outcome = 'failed',
    reason = 'could not be matched to or added as a profile (a conflicting profile?)'
WHERE outcome IS NULL
"""
FIRST_SKIPPED = """
SELECT row_no, reason FROM import_stage WHERE outcome = 'skipped' ORDER BY row_no LIMIT %s
"""


def _copy_into_stage(conn: psycopg.Connection, candidates: Iterable[CandidateRow]) -> None:
    conn.execute(STAGE_DDL)
    copy_sql = f"COPY import_stage ({', '.join((*STAGE_COLUMNS, 'outcome', 'reason'))}) FROM STDIN"
    # One COPY per batch, each batch parsed before its COPY starts: reading a big file takes
    # longer than the statement timeout allows one statement, so no statement may span it.
    lines = _stage_lines(candidates)
    with conn.cursor() as cur:
        while batch := list(itertools.islice(lines, COPY_BATCH)):
            with cur.copy(copy_sql) as copy:
                for line in batch:
                    copy.write_row(line)
    # Temp tables get no statistics or indexes by themselves: without them the joins below
    # become nested loops over the whole file.
    conn.execute("CREATE INDEX ON import_stage (storage_url)")
    conn.execute("CREATE INDEX ON import_stage (row_no)")
    conn.execute("ANALYZE import_stage")


def _decide_outcomes(
    conn: psycopg.Connection,
    project_id: int,
    user_id: int | None,
    source: str,
    search_id: int | None,
) -> None:
    conn.execute(MARK_DUPLICATES)
    conn.execute(MATCH_KNOWN)
    conn.execute(INSERT_NEW, {"source": source})
    # A concurrent import may have inserted some of our people between our match and insert:
    # their rows hit ON CONFLICT and are matched now, from the rows that import committed.
    conn.execute(MATCH_KNOWN)
    conn.execute(MARK_SAME_PERSON)
    conn.execute(REFRESH_EXPORT_FIELDS)
    conn.execute(LINK, {"project_id": project_id, "user_id": user_id, "search_id": search_id})
    conn.execute(MARK_FAILED)


def _staged_report(conn: psycopg.Connection) -> ImportReport:
    counts = dict.fromkeys(OUTCOMES, 0)
    for outcome, n in conn.execute(
        "SELECT outcome, count(*) FROM import_stage GROUP BY outcome"
    ).fetchall():
        counts[outcome] = int(n)
    report = ImportReport(
        rows=sum(counts.values()),
        new=counts["new"],
        linked=counts["linked"],
        already_in_project=counts["already"],
        skipped_count=counts["skipped"],
        failed=counts["failed"],
        staged=True,
    )
    report.skipped = [
        {"row": row_no, "reason": reason}
        for row_no, reason in conn.execute(FIRST_SKIPPED, (SKIPPED_SHOWN,)).fetchall()
    ]
    return report


def import_candidates(
    conn: psycopg.Connection,
    project_id: int,
    candidates: Iterable[CandidateRow],
    user_id: int | None,
    source: str,
    search_id: int | None = None,
) -> ImportReport:
    """Import candidates into a project inside the caller's transaction (all or nothing).

    The per-row outcomes stay in the transaction's import_stage table for record_import.
    """
    require_active_project(conn, project_id)
    _copy_into_stage(conn, candidates)
    _decide_outcomes(conn, project_id, user_id, source, search_id)
    report = _staged_report(conn)
    conn.execute(
        "UPDATE projects SET profile_count = (SELECT count(*) FROM project_profiles"
        " WHERE project_id = %(p)s), updated_at = now() WHERE id = %(p)s",
        {"p": project_id},
    )
    return report
