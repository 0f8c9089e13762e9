"""An import's history: the project's import records and the rows each did not add.

The record of an import keeps its counts and (capped) the rows not added with their reasons;
these read them back as the import list, a page of reasons at a time, and a formula-safe CSV
streamed from a server-side cursor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from services.core.db import direct_connection, unit_of_work
from services.imports.report import NOT_ADDED, OUTCOME_LABELS


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
