"""The project grid: one project's members with their pipeline state (stage and since when,
shortlisted, filter outcome and reasons, latest screening, whether contacts are known), filtered
and sorted through the same allow-listed compiler as the profile grid.

The view is a derived table aliased `p` whose columns carry exactly the names of the
allow-list below, so `compile_filter_model`/`order_by` work on it unchanged. It is scoped to one
project (thousands of rows, not millions), so pages use a plain ORDER BY ... OFFSET over the
scoped rows instead of the profile grid's keyset machinery.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from services.core.db import unit_of_work
from services.grid.columns import COLUMNS, Column, row_to_json
from services.grid.errors import GridQueryError
from services.grid.filters import compile_filter_model, normalize_filter_model
from services.grid.pages import MAX_BLOCK_ROWS, BlockResult
from services.grid.params import Params, and_all
from services.grid.sorting import normalize_sort_model, order_by, sort_keys

_BASE = (
    "id",
    "full_name",
    "current_title",
    "current_company",
    "location",
    "seniority",
    "years_experience",
    "skills",
    "enrichment_status",
)
PROJECT_COLUMNS: dict[str, Column] = {
    **{k: COLUMNS[k] for k in _BASE},
    **{
        c.col_id: c
        for c in (
            Column("stage", "stage", "text", nullable=False),
            Column("stage_changed_at", "stage_changed_at", "date", nullable=False),
            Column("shortlisted", "shortlisted", "text", nullable=False),
            Column("filter_outcome", "filter_outcome", "text", nullable=True),
            Column("filter_reasons", "filter_reasons", "text", nullable=True, sortable=False),
            Column("screening_status", "screening_status", "text", nullable=True),
            Column("screening_fit", "screening_fit", "text", nullable=True),
            Column("screening_score", "screening_score", "number", nullable=True),
            Column("has_contacts", "has_contacts", "text", nullable=False),
        )
    },
}
ROW_KEYS: tuple[str, ...] = tuple(PROJECT_COLUMNS)

# Latest screening = the newest prompt version's row for the member (pending, done or failed).
VIEW_SQL = """(
SELECT p.id, p.full_name, p.current_title, p.current_company, p.location, p.seniority,
       p.years_experience, p.skills, p.enrichment_status, pp.stage,
       coalesce(pp.stage_changed_at, pp.added_at) AS stage_changed_at,
       CASE WHEN pp.shortlisted THEN 'yes' ELSE 'no' END AS shortlisted,
       CASE WHEN fr.passed THEN 'passed' WHEN NOT fr.passed THEN 'failed' END AS filter_outcome,
       (SELECT string_agg(r->>'text', '; ') FROM jsonb_array_elements(fr.reasons) r
        WHERE r->>'rule' <> 'matched') AS filter_reasons,
       sc.status AS screening_status, sc.fit AS screening_fit, sc.score::int AS screening_score,
       CASE WHEN EXISTS (SELECT 1 FROM contacts c WHERE c.profile_id = p.id)
            THEN 'yes' ELSE 'no' END AS has_contacts
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
LEFT JOIN filter_results fr ON fr.project_id = pp.project_id AND fr.profile_id = pp.profile_id
LEFT JOIN LATERAL (
    SELECT s.status, s.fit, s.score FROM screenings s
    JOIN prompt_versions v ON v.id = s.prompt_version_id
    WHERE s.project_id = pp.project_id AND s.profile_id = pp.profile_id
    ORDER BY v.version DESC LIMIT 1) sc ON true
WHERE pp.project_id = {project}
) p"""


def _view(project_id: int, params: Params) -> sql.Composable:
    if isinstance(project_id, bool) or not isinstance(project_id, int) or project_id <= 0:
        raise GridQueryError("The project must be a positive whole number.")
    return sql.SQL(VIEW_SQL).format(project=params.add(project_id))


def fetch_project_block(
    project_id: int,
    filter_model: object,
    sort_model: object,
    start_row: int,
    end_row: int,
) -> BlockResult:
    """Rows start_row..end_row-1 of the project's view, with its exact row count."""
    _check_block_range(start_row, end_row)
    filters = normalize_filter_model(filter_model, PROJECT_COLUMNS)
    keys = sort_keys(normalize_sort_model(sort_model, PROJECT_COLUMNS), PROJECT_COLUMNS)
    params = Params()
    view = _view(project_id, params)
    where = and_all(compile_filter_model(filters, params, PROJECT_COLUMNS))
    cols = sql.SQL(", ").join(PROJECT_COLUMNS[k].ref("p") for k in ROW_KEYS)
    stmt = sql.SQL("SELECT {cols} FROM {view} WHERE {w} {o} OFFSET {off} LIMIT {n}").format(
        cols=cols,
        view=view,
        w=where,
        o=order_by(keys, "p"),
        off=params.add(start_row),
        n=params.add(end_row - start_row),
    )
    with unit_of_work() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(stmt, params.values, prepare=False)  # see pages.UNPREPARED
        rows = cur.fetchall()
        if len(rows) < end_row - start_row and (rows or start_row == 0):
            total = start_row + len(rows)
        else:
            total = _count_rows(conn, project_id, filters)
    return BlockResult([row_to_json(r, ROW_KEYS) for r in rows], total, "deferred")


def _check_block_range(start_row: int, end_row: int) -> None:
    for value in (start_row, end_row):
        if isinstance(value, bool) or not isinstance(value, int):
            raise GridQueryError("startRow and endRow must be whole numbers.")
    if start_row < 0 or end_row <= start_row or end_row - start_row > MAX_BLOCK_ROWS:
        raise GridQueryError("The requested rows are out of range.")


def _count_rows(conn: psycopg.Connection, project_id: int, filters: dict[str, Any]) -> int:
    """The filtered view's exact row count, when the block itself does not tell it."""
    count_params = Params()
    count = sql.SQL("SELECT count(*) FROM {view} WHERE {w}").format(
        view=_view(project_id, count_params),
        w=and_all(compile_filter_model(filters, count_params, PROJECT_COLUMNS)),
    )
    found = conn.execute(count, count_params.values, prepare=False).fetchone()
    return int(found[0]) if found else 0
