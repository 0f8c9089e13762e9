"""Bringing people into a project once: uploads, and the set-based import with dedup.

An upload (CSV in any encoding Excel writes, or an .xlsx sheet) is checked whole as it streams
and stored as UTF-8 CSV chunks in the same pass, so the worker reads one format and the row
numbers stay the file's own. Candidates (from an upload or a search run's results) are COPYed
into a staging table, matched to known profiles by canonical URL and member id, inserted when
new with ON CONFLICT DO NOTHING (so the unique keys, not a check-then-insert, decide between
concurrent imports), and linked to the project. It all happens in one transaction: a file is
imported whole or not at all.

Every row ends with one outcome, so the counts add up to the rows: new, linked (known profile,
new to the project), already in the project, skipped (with its reason) or failed. The rows that
were not added are kept with their reasons on the import record, for the reasons view and CSV.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services import audit, jobs
from services.core.cache import bump_data_version
from services.core.db import direct_connection, unit_of_work
from services.csv_source import (
    CandidateRow,
    ImportRefused,
    Table,
    numbered_records,
    open_table,
    read_candidates,
)
from services.insights import funnel_rollup
from services.jobs import Job
from services.jobs.kinds import job_kind
from services.spreadsheet import file_kind, xlsx_records

CHUNK_BYTES = 256 * 1024
MAX_ROWS = 500_000
SKIPPED_SHOWN = 100
COPY_BATCH = 20_000
CHUNKS_PER_INSERT = 8
# Rows not added (skipped, failed, already in the project) kept with their reasons on the import
# record: problems first, then rows already in the project. The counts are always complete.
DETAIL_ROWS_KEPT = 10_000
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
OUTCOMES = ("new", "linked", "already", "skipped", "failed")
NOT_ADDED = ("skipped", "failed", "already")
OUTCOME_LABELS = {
    "new": "new profile",
    "linked": "known profile, linked",
    "already": "already in project",
    "skipped": "skipped",
    "failed": "failed",
}
NO_IDENTITY = "no LinkedIn profile URL or member id"

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


@dataclass
class ImportReport:
    """What an import did, one outcome per row: rows = new + linked + already_in_project +
    skipped_count + failed. `skipped` holds the first skipped rows with their reasons."""

    rows: int = 0
    new: int = 0
    linked: int = 0
    already_in_project: int = 0
    skipped_count: int = 0
    failed: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    # True when the per-row outcomes are in this transaction's import_stage table.
    staged: bool = field(default=False, repr=False)

    @property
    def done(self) -> int:
        """Rows whose person is now in the project (what a job reports as done)."""
        return self.new + self.linked + self.already_in_project

    def skip(self, row_no: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_SHOWN:
            self.skipped.append({"row": row_no, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("staged")
        return data


# --- uploads -------------------------------------------------------------------------------


def _slices(content: bytes) -> Iterator[bytes]:
    view = memoryview(content)
    for i in range(0, len(content), CHUNK_BYTES):
        yield bytes(view[i : i + CHUNK_BYTES])


def _checked_table(content: bytes, sheet: str | None) -> Table:
    """The upload's rows as a checked table, whatever the file is (the content decides)."""
    if file_kind(content) == "xlsx":
        return open_table(xlsx_records(content, sheet), MAX_ROWS, label="Row")
    return open_table(numbered_records(_slices(content), delimiter=None), MAX_ROWS)


def _csv_chunks(table: Table) -> Iterator[bytes]:
    """The table as UTF-8 CSV chunks, every record kept (blank ones too) so numbering holds.
    Reading the chunks is what checks the rows: a refusal stops the stream."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for _number, record in itertools.chain(table.leading, table.rows()):
        writer.writerow(record)
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def store_upload(
    project_id: int,
    filename: str,
    content: bytes,
    user_id: int | None,
    max_bytes: int,
    sheet: str | None = None,
) -> tuple[int, str, int]:
    """Check an upload whole and store it as UTF-8 CSV chunks. Returns (upload id, format, rows).

    A CSV in UTF-8, UTF-16 or Windows-1252 (delimited by , ; or TAB), or an .xlsx workbook's
    first sheet (or `sheet`). Checking and storing are one streamed pass in one transaction on
    a connection of its own (not the request pool's): nothing is stored for a refused file,
    and the ImportRefused message says what and where.
    """
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        raise ImportRefused(
            f"{filename}: only CSV (.csv, .txt) and Excel (.xlsx) files can be imported"
        )
    if len(content) > max_bytes:
        raise ImportRefused(
            f"{filename} is {len(content) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB"
        )
    table = _checked_table(content, (sheet or "").strip() or None)
    fmt = table.columns.format
    with direct_connection() as conn:
        _require_active_project(conn, project_id)
        row = conn.execute(
            "INSERT INTO uploads (project_id, filename, size_bytes, format, created_by)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (project_id, filename[:200], len(content), fmt, user_id),
        ).fetchone()
        assert row is not None
        upload_id = int(row[0])
        numbered = enumerate(_csv_chunks(table))
        with conn.cursor() as cur:
            while batch := list(itertools.islice(numbered, CHUNKS_PER_INSERT)):
                cur.executemany(
                    "INSERT INTO upload_chunks (upload_id, seq, data) VALUES (%s, %s, %s)",
                    [(upload_id, seq, chunk) for seq, chunk in batch],
                )
        if table.data_rows == 0:
            raise ImportRefused(f"{filename} has a header but no data rows")  # rolls back
    return upload_id, fmt, table.data_rows


def upload_chunks(upload_id: int) -> Iterator[bytes]:
    """Stream an upload back one chunk per query, so memory never holds the whole file."""
    seq = 0
    while True:
        with unit_of_work() as conn:
            # Binary results: a text-format bytea arrives hex-encoded at twice its size.
            row = conn.execute(
                "SELECT data FROM upload_chunks WHERE upload_id = %s AND seq = %s",
                (upload_id, seq),
                binary=True,
            ).fetchone()
        if row is None:
            return
        yield bytes(row[0])
        seq += 1


def _require_active_project(conn: psycopg.Connection, project_id: int) -> None:
    row = conn.execute("SELECT status FROM projects WHERE id = %s", (project_id,)).fetchone()
    if row is None:
        raise ImportRefused("No such project")
    if row[0] != "active":
        raise ImportRefused("This project is archived; reopen it to import into it")


# --- the set-based import ------------------------------------------------------------------


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
    _require_active_project(conn, project_id)
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
    conn.execute(
        "UPDATE projects SET profile_count = (SELECT count(*) FROM project_profiles"
        " WHERE project_id = %(p)s), updated_at = now() WHERE id = %(p)s",
        {"p": project_id},
    )
    return report


# The rows not added, for the import record: problems first (by row), then rows already in
# the project; at most DETAIL_ROWS_KEPT of them.
STAGED_DETAIL = """
SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'row', row_no, 'outcome', outcome, 'reason', reason,
           'name', nullif(left(full_name, 100), '')))
       ORDER BY outcome = 'already', row_no), '[]'::jsonb)
FROM (SELECT row_no, outcome, reason, full_name FROM import_stage
      WHERE outcome IN ('skipped', 'failed', 'already')
      ORDER BY outcome = 'already', row_no LIMIT %s) d
"""


def _summary(report: ImportReport, detail: Any) -> dict[str, Any]:
    return {
        "count": report.skipped_count,
        "already_in_project": report.already_in_project,
        "failed": report.failed,
        "not_added": report.skipped_count + report.failed + report.already_in_project,
        "rows": detail,
    }


def record_import(
    conn: psycopg.Connection,
    project_id: int,
    filename: str,
    fmt: str,
    report: ImportReport,
    user_id: int | None,
    job_id: int | None = None,
    search_id: int | None = None,
) -> int:
    """The import's record with its counts and the rows not added, with their reasons."""
    if report.staged:
        found = conn.execute(STAGED_DETAIL, (DETAIL_ROWS_KEPT,)).fetchone()
        detail = found[0] if found else []
    else:  # a report built by hand (no staging table in this transaction)
        detail = [{"outcome": "skipped", **s} for s in report.skipped]
    # Each kept row: {"row", "outcome", "reason", "name"} (name and reason when there are some).
    row = conn.execute(
        "INSERT INTO imports (project_id, filename, format, row_count, new_count, linked_count,"
        " skipped, imported_by, job_id, search_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            project_id,
            filename,
            fmt,
            report.rows,
            report.new,
            report.linked,
            Jsonb(_summary(report, detail)),
            user_id,
            job_id,
            search_id,
        ),
    ).fetchone()
    assert row is not None
    audit.record(
        conn,
        user_id,
        "project.import",
        "project",
        project_id,
        {
            "import_id": row[0],
            "rows": report.rows,
            "new": report.new,
            "linked": report.linked,
            "already_in_project": report.already_in_project,
            "skipped": report.skipped_count,
            "failed": report.failed,
        },
    )
    return int(row[0])


def import_upload(upload_id: int, user_id: int | None, job_id: int | None = None) -> ImportReport:
    """Import a stored upload in one transaction and delete its chunks on success."""
    with unit_of_work() as conn:
        upload = conn.execute(
            "SELECT project_id, filename, format FROM uploads WHERE id = %s", (upload_id,)
        ).fetchone()
        if upload is None:
            raise ImportRefused("This upload no longer exists (already imported?)")
        project_id, filename, fmt = upload
        # Stored uploads are UTF-8 CSV with commas (store_upload normalised them).
        candidates = read_candidates(upload_chunks(upload_id), MAX_ROWS, delimiter=",")
        report = import_candidates(conn, project_id, candidates, user_id, "import")
        record_import(conn, project_id, filename, fmt, report, user_id, job_id)
        conn.execute("DELETE FROM uploads WHERE id = %s", (upload_id,))
    return report


@dataclass(frozen=True)
class ImportSummary:
    """One line of a project's import history; the outcome counts add up to `rows`."""

    id: int
    filename: str
    format: str
    rows: int
    new: int
    linked: int
    already_in_project: int
    skipped: int
    failed: int
    detail_rows: int  # rows not added whose reasons are kept (at most DETAIL_ROWS_KEPT)
    by: str | None
    created_at: Any


# Older records kept only the skipped count and "already in project"; what is left of the
# rows is theirs, so their counts add up too.
LIST_IMPORTS = """
SELECT i.id, i.filename, i.format, i.row_count, i.new_count, i.linked_count,
       coalesce((i.skipped->>'already_in_project')::int, 0),
       coalesce((i.skipped->>'count')::int, 0),
       coalesce((i.skipped->>'failed')::int, 0),
       coalesce(jsonb_array_length(CASE WHEN jsonb_typeof(i.skipped->'rows') = 'array'
                                        THEN i.skipped->'rows' END), 0),
       u.email, i.created_at
FROM imports i LEFT JOIN users u ON u.id = i.imported_by
WHERE i.project_id = %s ORDER BY i.id DESC LIMIT %s
"""


def list_imports(project_id: int, limit: int = 20) -> list[ImportSummary]:
    with unit_of_work() as conn:
        rows = conn.execute(LIST_IMPORTS, (project_id, limit)).fetchall()
    return [ImportSummary(*r) for r in rows]


# --- the rows not added, with their reasons ------------------------------------------------

PAGE_SIZE = 50
# Page through the kept rows in SQL; `ordinality` is their stored order.
DETAIL_PAGE = """
SELECT (e->>'row')::int, coalesce(e->>'name', ''), coalesce(e->>'outcome', 'skipped'),
       e->>'reason'
FROM imports i, jsonb_array_elements(i.skipped->'rows') WITH ORDINALITY AS t(e, n)
WHERE i.id = %(import_id)s AND i.project_id = %(project_id)s
  AND (%(outcome)s::text IS NULL OR coalesce(e->>'outcome', 'skipped') = %(outcome)s)
ORDER BY t.n
"""


@dataclass(frozen=True)
class RowOutcome:
    """A row of the file that was not added: its number, the name it gave, what happened."""

    row: int
    name: str
    outcome: str
    reason: str


def _row_outcome(row_no: int, name: str, outcome: str, reason: str | None) -> RowOutcome:
    if outcome == "already":
        reason = reason or "already in this project"
    return RowOutcome(row_no, name, outcome, reason or OUTCOME_LABELS.get(outcome, outcome))


def import_rows_page(
    project_id: int,
    import_id: int,
    page: int = 0,
    outcome: str | None = None,
    page_size: int = PAGE_SIZE,
) -> tuple[list[RowOutcome], int]:
    """One page of an import's rows not added, and how many there are (for this filter)."""
    if outcome is not None and outcome not in NOT_ADDED:
        raise ValueError(f"unknown outcome {outcome!r}")
    params = {"import_id": import_id, "project_id": project_id, "outcome": outcome}
    with unit_of_work() as conn:
        counted = conn.execute(f"SELECT count(*) FROM ({DETAIL_PAGE}) d", params).fetchone()
        rows = conn.execute(
            DETAIL_PAGE + " LIMIT %(limit)s OFFSET %(offset)s",
            {**params, "limit": page_size, "offset": max(page, 0) * page_size},
        ).fetchall()
    return [_row_outcome(*r) for r in rows], int(counted[0] if counted else 0)


def import_exists(project_id: int, import_id: int) -> str | None:
    """The import's file name, or None when the project has no such import."""
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT filename FROM imports WHERE id = %s AND project_id = %s",
            (import_id, project_id),
        ).fetchone()
    return str(row[0]) if row else None


EXPORT_HEADER = ("row", "name", "outcome", "reason")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV injection"
FETCH_ROWS = 500


def _safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def export_import_rows(project_id: int, import_id: int) -> Iterator[str]:
    """CSV text chunks (header first) of an import's rows not added, formula-safe, streamed
    from a server-side cursor."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    params = {"import_id": import_id, "project_id": project_id, "outcome": None}
    with direct_connection() as conn, conn.cursor(name="sx_import_rows_export") as cur:
        cur.execute(DETAIL_PAGE, params)
        while batch := cur.fetchmany(FETCH_ROWS):
            for r in batch:
                row = _row_outcome(*r)
                label = OUTCOME_LABELS.get(row.outcome, row.outcome)
                writer.writerow((row.row, _safe(row.name), label, _safe(row.reason)))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


__all__ = [
    "ImportRefused",
    "ImportReport",
    "ImportSummary",
    "export_import_rows",
    "import_candidates",
    "import_rows_page",
    "import_upload",
    "list_imports",
    "store_upload",
]


def start_import(user_id: int, project_id: int, upload_id: int, rows: int) -> int:
    return jobs.start_job("import_csv", {"upload_id": upload_id, "rows": rows}, user_id, project_id)


@job_kind("import_csv")
def run_import(job: Job) -> None:
    """Import an uploaded CSV (params: upload_id). A redelivered job finds its import recorded."""
    with unit_of_work() as conn:
        done = conn.execute(
            "SELECT row_count, new_count, linked_count FROM imports WHERE job_id = %s", (job.id,)
        ).fetchone()
        if done is None:
            jobs.set_total(conn, job.id, int(job.params.get("rows", 0)))
    if done is not None:
        return
    report = import_upload(int(job.params["upload_id"]), job.created_by, job.id)
    bump_data_version("profiles", "projects", "insights")
    funnel_rollup.request_refresh()
    with unit_of_work() as conn:
        jobs.set_total(conn, job.id, report.rows)
        jobs.set_progress(  # skipped rows are neither done nor failed: Job.skipped
            conn,
            job.id,
            report.done,
            report.failed,
            message=f"{report.new:,} new, {report.linked:,} linked, "
            f"{report.already_in_project:,} already in project, {report.skipped_count:,} skipped"
            + (f", {report.failed:,} failed" if report.failed else ""),
        )
