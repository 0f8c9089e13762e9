"""CSV export of a project's shortlist: profile fields, filter outcome, the latest verdict with
any recruiter override, and contacts, streamed from a server-side cursor.

Every text cell that a spreadsheet would run as a formula (first character = + - @ tab CR, per
OWASP "CSV injection") gets a leading single quote, whatever its source (profile data, model
reasoning, a note, a phone number like +49...).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from services.core.db import direct_connection, unit_of_work

HEADER = (
    "profile_id",
    "full_name",
    "linkedin_url",
    "current_title",
    "current_company",
    "location",
    "seniority",
    "years_experience",
    "filter_outcome",
    "filter_reasons",
    "prompt_version",
    "score",
    "fit",
    "reasoning",
    "override",
    "override_note",
    "emails",
    "phones",
    "shortlisted_at",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FETCH_ROWS = 500
CHUNK_CHARS = 64 * 1024

EXPORT_SQL = """
SELECT p.id, p.full_name, p.linkedin_url, p.current_title, p.current_company, p.location,
       p.seniority, p.years_experience,
       CASE WHEN fr.passed THEN 'passed' WHEN NOT fr.passed THEN 'failed' END,
       (SELECT string_agg(r->>'text', '; ') FROM jsonb_array_elements(fr.reasons) r),
       sc.version, sc.score, sc.fit, sc.reasoning, o.verdict, o.note,
       (SELECT string_agg(c.value || coalesce(' (' || nullif(concat_ws(', ', c.type, c.validity),
                          '') || ')', ''), '; ' ORDER BY c.id)
        FROM contacts c WHERE c.profile_id = p.id AND c.kind = 'email'),
       (SELECT string_agg(c.value || coalesce(' (' || c.type || ')', ''), '; ' ORDER BY c.id)
        FROM contacts c WHERE c.profile_id = p.id AND c.kind = 'phone'),
       to_char(pp.shortlisted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
LEFT JOIN filter_results fr ON fr.project_id = pp.project_id AND fr.profile_id = pp.profile_id
LEFT JOIN LATERAL (
    SELECT s.id, v.version, s.score, s.fit, s.reasoning
    FROM screenings s JOIN prompt_versions v ON v.id = s.prompt_version_id
    WHERE s.project_id = pp.project_id AND s.profile_id = pp.profile_id AND s.status = 'done'
    ORDER BY v.version DESC LIMIT 1) sc ON true
LEFT JOIN screening_overrides o ON o.screening_id = sc.id
WHERE pp.project_id = %s AND pp.shortlisted
ORDER BY sc.score DESC NULLS LAST, p.id
"""


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: formula-starting text gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def shortlist_size(project_id: int) -> int:
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT count(*) FROM project_profiles WHERE project_id = %s AND shortlisted",
            (project_id,),
        ).fetchone()
    return int(row[0]) if row else 0


def export_shortlist(project_id: int) -> Iterator[str]:
    """CSV text chunks (header first) of the project's shortlist, best scores first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    with direct_connection() as conn, conn.cursor(name="sx_shortlist_export") as cur:
        cur.execute(EXPORT_SQL, (project_id,))
        while batch := cur.fetchmany(FETCH_ROWS):
            writer.writerows([safe_cell(v) for v in row] for row in batch)
            if buffer.tell() >= CHUNK_CHARS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
