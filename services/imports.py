"""Bringing people into a project once: uploads, and the set-based import with dedup.

Candidates (from a CSV upload or a search run's results) are COPYed into a staging table, matched
to known profiles by canonical URL and member id, inserted when new with ON CONFLICT DO NOTHING
(so the unique keys, not a check-then-insert, decide between concurrent imports), and linked to
the project. It all happens in one transaction: a file is imported whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services import audit
from services.csv_source import CandidateRow, ImportRefused, read_candidates, sniff_format
from services.db import transaction

CHUNK_BYTES = 256 * 1024
MAX_ROWS = 500_000
SKIPPED_SHOWN = 100
COPY_BATCH = 2000

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
)


@dataclass
class ImportReport:
    """What an import did: new profiles, known profiles linked, and rows skipped with reasons."""

    rows: int = 0
    new: int = 0
    linked: int = 0
    already_in_project: int = 0
    skipped_count: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def skip(self, row_no: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_SHOWN:
            self.skipped.append({"row": row_no, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- uploads -------------------------------------------------------------------------------


def store_upload(
    project_id: int, filename: str, content: bytes, user_id: int | None, max_bytes: int
) -> tuple[int, str, int]:
    """Check an uploaded CSV whole, then store it in chunks. Returns (upload id, format, rows).

    Nothing is stored for a refused file; the ImportRefused message says what and where.
    """
    if not filename.lower().endswith((".csv", ".txt")):
        raise ImportRefused(f"{filename}: only .csv files can be imported")
    if len(content) > max_bytes:
        raise ImportRefused(
            f"{filename} is {len(content) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB"
        )
    chunks = [content[i : i + CHUNK_BYTES] for i in range(0, len(content), CHUNK_BYTES)]
    fmt = sniff_format(chunks)
    rows = sum(1 for _ in read_candidates(chunks, MAX_ROWS))  # full validation pass
    if rows == 0:
        raise ImportRefused(f"{filename} has a header but no data rows")
    with transaction() as conn:
        _require_active_project(conn, project_id)
        row = conn.execute(
            "INSERT INTO uploads (project_id, filename, size_bytes, format, created_by)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (project_id, filename[:200], len(content), fmt, user_id),
        ).fetchone()
        assert row is not None
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO upload_chunks (upload_id, seq, data) VALUES (%s, %s, %s)",
                [(row[0], seq, chunk) for seq, chunk in enumerate(chunks)],
            )
    return int(row[0]), fmt, rows


def upload_chunks(upload_id: int) -> Iterator[bytes]:
    """Stream an upload back one chunk per query, so memory never holds the whole file."""
    seq = 0
    while True:
        with transaction() as conn:
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


def _stage_lines(
    candidates: Iterable[CandidateRow], report: ImportReport
) -> Iterator[tuple[Any, ...]]:
    for c in candidates:
        report.rows += 1
        if not c.key.valid:
            report.skip(c.row_no, "no LinkedIn profile URL or member id")
            continue
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
        )


def _cap(value: str | None, limit: int = 500) -> str | None:
    return value[:limit] if value else value


STAGE_DDL = """
CREATE TEMP TABLE import_stage (
    row_no int, storage_url text, url text, member_id text, full_name text, first_name text,
    last_name text, headline text, current_title text, current_company text, location text,
    profile_id bigint, is_new boolean NOT NULL DEFAULT false, dup_of int
) ON COMMIT DROP
"""

# Rows repeating an earlier row of the same file (same URL or same member id) are skipped.
MARK_DUPLICATES = """
UPDATE import_stage s SET dup_of = d.first_row FROM (
    SELECT row_no, least(
        CASE WHEN url IS NOT NULL THEN min(row_no) OVER (PARTITION BY url) END,
        CASE WHEN member_id IS NOT NULL THEN min(row_no) OVER (PARTITION BY member_id) END
    ) AS first_row FROM import_stage
) d WHERE d.row_no = s.row_no AND d.first_row < s.row_no
"""
MATCH_KNOWN = """
UPDATE import_stage s SET profile_id = p.id FROM profiles p
WHERE s.profile_id IS NULL AND s.dup_of IS NULL AND p.linkedin_url = s.storage_url;
UPDATE import_stage s SET profile_id = p.id FROM profiles p
WHERE s.profile_id IS NULL AND s.dup_of IS NULL AND s.member_id IS NOT NULL
  AND p.member_id = s.member_id;
"""
INSERT_NEW = """
WITH inserted AS (
    INSERT INTO profiles (linkedin_url, public_id, member_id, full_name, first_name, last_name,
                          headline, current_title, current_company, location, source)
    SELECT storage_url, CASE WHEN url IS NOT NULL THEN substr(url, 29) END, member_id,
           coalesce(full_name, ''), first_name, last_name, headline, current_title,
           current_company, location, %(source)s
    FROM import_stage WHERE profile_id IS NULL AND dup_of IS NULL
    ORDER BY row_no
    ON CONFLICT DO NOTHING
    RETURNING id, linkedin_url
)
UPDATE import_stage s SET profile_id = i.id, is_new = true FROM inserted i
WHERE s.storage_url = i.linkedin_url AND s.dup_of IS NULL
"""
LINK = """
WITH linked AS (
    INSERT INTO project_profiles (project_id, profile_id, added_by, search_id)
    SELECT %(project_id)s, profile_id, %(user_id)s, %(search_id)s FROM import_stage
    WHERE profile_id IS NOT NULL AND dup_of IS NULL
    ORDER BY row_no
    ON CONFLICT DO NOTHING
    RETURNING profile_id
)
SELECT
    (SELECT count(*) FROM import_stage WHERE is_new),
    (SELECT count(*) FROM linked l JOIN import_stage s USING (profile_id) WHERE NOT s.is_new
        AND s.dup_of IS NULL),
    (SELECT count(*) FROM linked)
"""


def import_candidates(
    conn: psycopg.Connection,
    project_id: int,
    candidates: Iterable[CandidateRow],
    user_id: int | None,
    source: str,
    search_id: int | None = None,
) -> ImportReport:
    """Import candidates into a project inside the caller's transaction (all or nothing)."""
    _require_active_project(conn, project_id)
    report = ImportReport()
    conn.execute(STAGE_DDL)
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY import_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy,
    ):
        for line in _stage_lines(candidates, report):
            copy.write_row(line)
    # Temp tables get no statistics or indexes by themselves: without them the joins below
    # become nested loops over the whole file.
    conn.execute("CREATE INDEX ON import_stage (storage_url)")
    conn.execute("CREATE INDEX ON import_stage (row_no)")
    conn.execute("ANALYZE import_stage")
    conn.execute(MARK_DUPLICATES)
    for row_no, first in conn.execute(
        "SELECT row_no, dup_of FROM import_stage WHERE dup_of IS NOT NULL ORDER BY row_no"
    ).fetchall():
        report.skip(row_no, f"duplicate of row {first} in the same file")
    conn.execute(MATCH_KNOWN)
    conn.execute(INSERT_NEW, {"source": source})
    # A concurrent import may have inserted some of our people between our match and insert:
    # their rows hit ON CONFLICT and are matched now, from the rows that import committed.
    conn.execute(MATCH_KNOWN)
    counts = conn.execute(
        LINK, {"project_id": project_id, "user_id": user_id, "search_id": search_id}
    ).fetchone()
    assert counts is not None
    report.new, report.linked = int(counts[0]), int(counts[1])
    staged_ok = conn.execute(
        "SELECT count(*) FROM import_stage WHERE dup_of IS NULL AND profile_id IS NOT NULL"
    ).fetchone()
    report.already_in_project = int(staged_ok[0] if staged_ok else 0) - int(counts[2])
    conn.execute(
        "UPDATE projects SET profile_count = (SELECT count(*) FROM project_profiles"
        " WHERE project_id = %(p)s), updated_at = now() WHERE id = %(p)s",
        {"p": project_id},
    )
    return report


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
            Jsonb(
                {
                    "count": report.skipped_count,
                    "rows": report.skipped,
                    "already_in_project": report.already_in_project,
                }
            ),
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
            "skipped": report.skipped_count,
        },
    )
    return int(row[0])


def import_upload(upload_id: int, user_id: int | None, job_id: int | None = None) -> ImportReport:
    """Import a stored upload in one transaction and delete its chunks on success."""
    with transaction() as conn:
        upload = conn.execute(
            "SELECT project_id, filename, format FROM uploads WHERE id = %s", (upload_id,)
        ).fetchone()
        if upload is None:
            raise ImportRefused("This upload no longer exists (already imported?)")
        project_id, filename, fmt = upload
        report = import_candidates(
            conn, project_id, read_candidates(upload_chunks(upload_id), MAX_ROWS), user_id, "import"
        )
        record_import(conn, project_id, filename, fmt, report, user_id, job_id)
        conn.execute("DELETE FROM uploads WHERE id = %s", (upload_id,))
    return report


def list_imports(project_id: int, limit: int = 20) -> list[dict[str, Any]]:
    with transaction() as conn:
        rows = conn.execute(
            "SELECT i.id, i.filename, i.format, i.row_count, i.new_count, i.linked_count,"
            " i.skipped, u.email, i.created_at FROM imports i LEFT JOIN users u"
            " ON u.id = i.imported_by WHERE i.project_id = %s ORDER BY i.id DESC LIMIT %s",
            (project_id, limit),
        ).fetchall()
    keys = ("id", "filename", "format", "rows", "new", "linked", "skipped", "by", "created_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


__all__ = ["ImportRefused", "ImportReport", "import_candidates", "import_upload", "store_upload"]
