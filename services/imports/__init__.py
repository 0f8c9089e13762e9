"""Bringing people into a project once: uploads, and the set-based import with dedup.

An upload (CSV in any encoding Excel writes, or an .xlsx sheet) is checked whole as it streams
and stored as UTF-8 CSV chunks in the same pass (`uploads`), so the worker reads one format and
the row numbers stay the file's own. Candidates (from an upload or a search run's results) are
COPYed into a staging table, matched to known profiles by canonical URL and member id, inserted
when new with ON CONFLICT DO NOTHING (so the unique keys, not a check-then-insert, decide
between concurrent imports), and linked to the project (`staging`). It all happens in one
transaction: a file is imported whole or not at all.

Every row ends with one outcome, so the counts add up to the rows: new, linked (known profile,
new to the project), already in the project, skipped (with its reason) or failed. The rows that
were not added are kept with their reasons on the import record (written here), for the reasons
view and CSV (`history`). The `import_csv` job handler lives here too.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services import audit, jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.csv_source import ImportRefused, read_candidates
from services.imports.history import (
    PAGE_SIZE,
    ImportSummary,
    RowOutcome,
    export_import_rows,
    import_exists,
    import_rows_page,
    list_imports,
)
from services.imports.report import (
    MAX_ROWS,
    NO_IDENTITY,
    NOT_ADDED,
    OUTCOME_LABELS,
    OUTCOMES,
    SKIPPED_SHOWN,
    ImportReport,
)
from services.imports.staging import EXPORT_COLUMNS, STAGE_COLUMNS, import_candidates
from services.imports.uploads import UPLOAD_SUFFIXES, store_upload, upload_chunks
from services.insights import funnel_rollup
from services.jobs import Job
from services.jobs.kinds import job_kind

# Rows not added (skipped, failed, already in the project) kept with their reasons on the import
# record: problems first, then rows already in the project. The counts are always complete.
DETAIL_ROWS_KEPT = 10_000

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


def _kept_rows(conn: psycopg.Connection, report: ImportReport) -> Any:
    """Each kept row: {"row", "outcome", "reason", "name"} (name and reason when there are some)."""
    if report.staged:
        found = conn.execute(STAGED_DETAIL, (DETAIL_ROWS_KEPT,)).fetchone()
        return found[0] if found else []
    # A report built by hand (no staging table in this transaction).
    return [{"outcome": "skipped", **s} for s in report.skipped]


def _summary(report: ImportReport, detail: Any) -> dict[str, Any]:
    return {
        "count": report.skipped_count,
        "already_in_project": report.already_in_project,
        "failed": report.failed,
        "not_added": report.skipped_count + report.failed + report.already_in_project,
        "rows": detail,
    }


def _audit_counts(report: ImportReport, import_id: int) -> dict[str, Any]:
    return {
        "import_id": import_id,
        "rows": report.rows,
        "new": report.new,
        "linked": report.linked,
        "already_in_project": report.already_in_project,
        "skipped": report.skipped_count,
        "failed": report.failed,
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
    detail = _kept_rows(conn, report)
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
        conn, user_id, "project.import", "project", project_id, _audit_counts(report, row[0])
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


__all__ = [
    "DETAIL_ROWS_KEPT",
    "EXPORT_COLUMNS",
    "MAX_ROWS",
    "NOT_ADDED",
    "NO_IDENTITY",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "PAGE_SIZE",
    "SKIPPED_SHOWN",
    "STAGE_COLUMNS",
    "UPLOAD_SUFFIXES",
    "ImportRefused",
    "ImportReport",
    "ImportSummary",
    "RowOutcome",
    "export_import_rows",
    "import_candidates",
    "import_exists",
    "import_rows_page",
    "import_upload",
    "list_imports",
    "record_import",
    "run_import",
    "start_import",
    "store_upload",
    "upload_chunks",
]
