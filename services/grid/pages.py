"""Blocks of grid rows and row counts, with the cheapest correct SQL for each request.

- start_row 0 ('first'): `WHERE filters ORDER BY keys LIMIT k`; with two or more sort columns,
  first read from the leading column's first group only (`a = first value`), which Postgres can
  plan on the second column's index; with filters only on the sort column, ids first (below).
- a boundary at or shortly before start_row is remembered ('keyset'): the disjoint keyset branches
  of sorting.py, consecutive ranges of the order, run innermost first, each `ORDER BY ... LIMIT`
  what is still missing, until the block is full.
- otherwise ('deferred'): `OFFSET` runs on an id-only subquery that a (column, id) index can answer
  with an index-only scan, and only the k wanted rows are joined back for their columns.
All three return exactly what `ORDER BY keys OFFSET start LIMIT k` returns (the order is total).
Counts are cached in Redis under the data version, so a bumped version invalidates them (the
page's count, counting.py, fills the same entry from a task when a count is too slow for it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import redis
from psycopg import sql
from psycopg.rows import dict_row

from services.core.cache import cache_key, cached, data_version, get_cache, peek
from services.core.db import unit_of_work
from services.grid import boundaries, jumpmap
from services.grid.columns import TABLE, row_to_json, select_list
from services.grid.errors import GridQueryError
from services.grid.params import Params, and_all
from services.grid.query import GridQuery, where_clause
from services.grid.sorting import SortKey, after_branch_groups, key_values, order_by, sort_keys

log = logging.getLogger(__name__)
Strategy = Literal["first", "keyset", "deferred"]
CountMode = Literal["compute", "cached", "skip"]
MAX_BLOCK_ROWS = 5000
MAX_KEYSET_SKIP = boundaries.MAX_KEYSET_SKIP
COUNT_TTL_S = 600
# Grid statements are never prepared: psycopg prepares a statement after 5 runs, and Postgres may
# then switch it to a generic plan that ignores the values. For a filter (LIKE patterns, date
# bounds, a selective search) that plan was 15x slower (15 ms -> 230 ms at 1M rows); unprepared,
# every execution is planned for its own values.
UNPREPARED = False
DATA_SCOPE = "profiles"


@dataclass(frozen=True)
class BlockResult:
    """Rows [start, start+len(rows)) of a view; row_count is the view's exact total or None."""

    rows: list[dict[str, Any]]
    row_count: int | None
    strategy: Strategy


def count_key(query: GridQuery, version: int) -> str:
    """The cache entry of the view's exact count (services/grid/counting.py fills it too)."""
    return cache_key("grid:count", version, query.filter_identity())


def count_rows(query: GridQuery, version: int | None = None) -> int:
    """Number of rows in the view (cached per filter/search/external filters and data version;
    pass the version when it was just read, to save a Redis round trip)."""
    if version is None:
        version = data_version(DATA_SCOPE)
    return cached(count_key(query, version), lambda: _count(query), timeout=COUNT_TTL_S)


def cached_count(query: GridQuery, version: int) -> int | None:
    """The view's count if some request already paid for it under this data version."""
    hit = peek(count_key(query, version))
    return int(hit) if hit is not None else None


def remember_count(query: GridQuery, version: int, total: int) -> None:
    """Store an exact count computed elsewhere under the entry count_rows reads (Redis trouble
    only means the next ask counts again)."""
    try:
        get_cache().set(count_key(query, version), total, timeout=COUNT_TTL_S)
    except redis.RedisError:
        log.warning("could not cache a grid count")


def count_statement(query: GridQuery, params: Params) -> sql.Composed:
    """The exact count of the view, binding its values into params."""
    return sql.SQL("SELECT count(*) FROM {} p WHERE {}").format(
        sql.Identifier(TABLE), where_clause(query, params)
    )


def _count(query: GridQuery) -> int:
    params = Params()
    stmt = count_statement(query, params)
    with unit_of_work() as conn:
        row = conn.execute(stmt, params.values, prepare=UNPREPARED).fetchone()
    return int(row[0]) if row else 0


def fetch_block(
    query: GridQuery, start_row: int, end_row: int, *, count: CountMode = "compute"
) -> BlockResult:
    """Rows start_row..end_row-1 of the view as JSON-ready dicts.

    row_count is exact when known: derived from a short last block, else the view's count —
    computed (and cached) with count="compute", only if already cached with "cached", never with
    "skip". None means "not known yet" (AG Grid's rowCount -1: the grid keeps asking).
    """
    _check_range(start_row, end_row)
    keys = sort_keys(query.sort_model)
    limit = end_row - start_row
    version = data_version(DATA_SCOPE)
    bkey = boundaries.boundary_key(query, version) if version >= 0 else None
    strategy: Strategy
    if start_row == 0:
        rows, strategy = _first(query, keys, limit), "first"
    else:
        found = boundaries.nearest(bkey, start_row, MAX_KEYSET_SKIP, keys) if bkey else None
        if found is not None:
            at, values = found
            rows, strategy = _keyset(query, keys, values, start_row - at, limit), "keyset"
        else:
            rows, strategy = _deferred(query, keys, start_row, limit), "deferred"
            if bkey and start_row >= jumpmap.MIN_START_ROW:
                jumpmap.request_map(query, version)  # later jumps here continue by keyset
    if rows and bkey:
        boundaries.remember(bkey, start_row + len(rows), key_values(rows[-1], keys), keys)
    total: int | None
    if len(rows) < limit and (rows or start_row == 0):
        total = start_row + len(rows)  # the block reached the end of the view
    else:
        total = _known_count(query, version, count)
    if bkey and start_row < jumpmap.MIN_START_ROW and (total or 0) >= jumpmap.AHEAD_MIN_ROWS:
        jumpmap.request_map(query, version)  # mapped before its first deep jump (once/version)
    return BlockResult([row_to_json(r) for r in rows], total, strategy)


def _known_count(query: GridQuery, version: int, mode: CountMode) -> int | None:
    if mode == "compute":
        return count_rows(query, version)
    if mode == "cached" and version >= 0:
        return cached_count(query, version)
    return None


def _check_range(start_row: int, end_row: int) -> None:
    for value in (start_row, end_row):
        if isinstance(value, bool) or not isinstance(value, int):
            raise GridQueryError("startRow and endRow must be whole numbers.")
    if start_row < 0 or end_row <= start_row:
        raise GridQueryError("The requested rows must satisfy 0 <= startRow < endRow.")
    if end_row - start_row > MAX_BLOCK_ROWS:
        raise GridQueryError(f"At most {MAX_BLOCK_ROWS} rows can be requested at once.")


def _run(stmt: sql.Composed, params: Params) -> list[dict[str, Any]]:
    with unit_of_work() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(stmt, params.values, prepare=UNPREPARED)
        return cur.fetchall()


def _filters_only_sort_column(query: GridQuery, keys: list[SortKey]) -> bool:
    """True when every filter of the view is on its one sort column (name contains "ann",
    sorted by name): the (column, id) index entries then hold all a row needs to pass, so an
    index-only scan finds the ids without reading the rows it skips from the heap (at 10M rows
    ~39,000 of them, 130 -> 30 ms). Any other filter would be checked on the heap either way,
    and there the plain statement plans better (a filter on other columns: 19 -> 62 ms at 1M)."""
    others = (query.search, query.location, query.seniority, query.tag_ids)
    if any(others) or query.enriched is not None or query.project_id is not None:
        return False
    return len(keys) == 2 and set(query.filter_model) == {keys[0].column.col_id}


def _first(query: GridQuery, keys: list[SortKey], limit: int) -> list[dict[str, Any]]:
    if len(keys) > 2:  # a second sort column before the id tie-breaker
        rows = _first_of_leading_group(query, keys, limit)
        if rows is not None:
            return rows
    if _filters_only_sort_column(query, keys):
        return _deferred(query, keys, 0, limit)
    params = Params()
    stmt = sql.SQL("SELECT {cols} FROM {t} p WHERE {w} {o} LIMIT {n}").format(
        cols=select_list("p"),
        t=sql.Identifier(TABLE),
        w=where_clause(query, params),
        o=order_by(keys, "p"),
        n=params.add(limit),
    )
    return _run(stmt, params)


def _first_of_leading_group(
    query: GridQuery, keys: list[SortKey], limit: int
) -> list[dict[str, Any]] | None:
    """The first block of a multi-column sort, read from the first value's group only.

    Sorted by (a, b, id) with few distinct a (seniority, years, company), Postgres reads the
    whole first a-group in a order and sorts it by b (40k random heap reads at 1M rows, ~80 ms).
    With `a = <first value>` it plans the group on its own and can walk b's index instead
    (~14 ms). None when that group is shorter than the block: the caller then runs the general
    statement, which is always right.
    """
    lead = keys[0]
    params = Params()
    first_value = sql.SQL("SELECT {a} AS v FROM {t} p WHERE {w} {o} LIMIT 1").format(
        a=lead.column.ref("p"),
        t=sql.Identifier(TABLE),
        w=where_clause(query, params),
        o=order_by([lead], "p"),
    )
    found = _run(first_value, params)
    if not found:
        return []
    value = found[0]["v"]
    params = Params()
    same = (
        sql.SQL("{} IS NULL").format(lead.column.ref("p"))
        if value is None  # `= NULL` matches nothing; IS NOT DISTINCT FROM defeats the planner
        else sql.SQL("{} = {}").format(lead.column.ref("p"), params.add(value))
    )
    stmt = sql.SQL("SELECT {cols} FROM {t} p WHERE {w} {o} LIMIT {n}").format(
        cols=select_list("p"),
        t=sql.Identifier(TABLE),
        w=and_all([where_clause(query, params), same]),
        o=order_by(keys, "p"),
        n=params.add(limit),
    )
    rows = _run(stmt, params)
    return rows if len(rows) == limit else None


def _deferred(
    query: GridQuery, keys: list[SortKey], offset: int, limit: int
) -> list[dict[str, Any]]:
    params = Params()
    stmt = sql.SQL(
        "SELECT {cols} FROM {t} p JOIN ("
        "SELECT p.id FROM {t} p WHERE {w} {o} OFFSET {off} LIMIT {n}"
        ") q ON q.id = p.id {o}"
    ).format(
        cols=select_list("p"),
        t=sql.Identifier(TABLE),
        w=where_clause(query, params),
        o=order_by(keys, "p"),
        off=params.add(offset),
        n=params.add(limit),
    )
    return _run(stmt, params)


def _keyset(
    query: GridQuery, keys: list[SortKey], values: list[Any], skip: int, limit: int
) -> list[dict[str, Any]]:
    """Rows skip..skip+limit after the boundary row, one branch at a time in sort order.

    The branches are consecutive ranges of the order (sorting.after_branch_groups), so the
    rows of the innermost ones come first and the outer ones run only while rows are missing:
    a block that ends inside the current a-group never reads (and sorts) the next a-group.
    """
    need = skip + limit
    ids_first = _filters_only_sort_column(query, keys)  # as in _first
    rows: list[dict[str, Any]] = []
    shape = [len(group) for group in after_branch_groups(keys, values, Params(), "p")]
    in_order = [(g, i) for g in reversed(range(len(shape))) for i in range(shape[g])]
    for g, i in in_order:
        if len(rows) >= need:
            break
        params = Params()  # each statement binds its own values
        where = where_clause(query, params)
        branch = after_branch_groups(keys, values, params, "p")[g][i]
        stmt = sql.SQL(
            "SELECT {cols} FROM {t} p JOIN (SELECT p.id FROM {t} p WHERE {w} {o} LIMIT {n}) q"
            " ON q.id = p.id {o}"
            if ids_first
            else "SELECT {cols} FROM {t} p WHERE {w} {o} LIMIT {n}"
        ).format(
            cols=select_list("p"),
            t=sql.Identifier(TABLE),
            w=and_all([where, branch]),
            o=order_by(keys, "p"),
            n=params.add(need - len(rows)),
        )
        rows.extend(_run(stmt, params))
    return rows[skip : skip + limit]
