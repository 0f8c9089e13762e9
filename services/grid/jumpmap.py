"""Jump maps: every block boundary of a large view, computed once per data version, off-request.

A user who drags the scrollbar deep into a view with no remembered boundary near the target gets
the deferred join, whose `OFFSET` still walks an index up to that row (~30 ms at row 900,000 of
1M). The first such jump asks for the view's map: a Celery task walks the view once in its sort
order and stores the sort key of every `stride`-th row in the view's boundary set (the same set
`boundaries.remember` writes), so every later jump into that view — by any user, on any worker —
continues by keyset from a boundary at most `stride` rows before it. The map lives under the data
version like every boundary: a write that bumps the version makes it unreachable, and the next
deep jump builds a new one. One build per view and version (a Redis NX flag), never in a web
request, and only for views with more than MIN_ROWS rows (below that OFFSET is cheap).

Large views are mapped ahead: the first block that knows a view has AHEAD_MIN_ROWS rows or more
(its count is cached, usually from the page's count callback) asks for the map too, so under a
new data version the first deep jump of the view a user has open is already a keyset page.
"""

from __future__ import annotations

import math
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from services.core.cache import data_version
from services.core.db import unit_of_work
from services.core.send_once import send_task_once
from services.grid import boundaries
from services.grid.columns import TABLE
from services.grid.params import Params
from services.grid.query import GridQuery, parse_grid_query, where_clause
from services.grid.sorting import key_values, order_by, sort_keys

MIN_START_ROW = 2_000  # jumps shallower than this are cheap enough with OFFSET
MIN_ROWS = 2_000
# From here a deferred jump into the far end costs more than a few milliseconds (~1.5 ms per
# 50,000 index entries walked), so the map is worth building before anyone asks.
AHEAD_MIN_ROWS = 50_000
MAX_ENTRIES = 10_000  # per view; with blocks of 100 that maps 1M rows one block apart
BLOCK = 100
FLAG_TTL_S = boundaries.BOUNDARY_TTL_S
FLAG_PREFIX = "sx:grid:mapflag:"
TASK_NAME = "sourcingx.grid_jump_map"


def stride_for(total: int) -> int:
    """Rows between two mapped boundaries: whole blocks, at most MAX_ENTRIES of them."""
    blocks = max(1, math.ceil(total / (BLOCK * MAX_ENTRIES)))
    return min(blocks * BLOCK, boundaries.MAX_KEYSET_SKIP)


def query_args(query: GridQuery) -> dict[str, Any]:
    """The view as JSON-safe task arguments (validated again by the task)."""
    return {
        "filter_model": query.filter_model,
        "sort_model": list(query.sort_model),
        "search": query.search,
        "location": query.location,
        "seniority": list(query.seniority),
        "enriched": query.enriched,
        "project_id": query.project_id,
        "location_exact": query.location_exact,
        "tag_ids": list(query.tag_ids),
    }


def request_map(query: GridQuery, version: int) -> bool:
    """Ask a task worker to map this view (once per view and version); True when enqueued. A
    lost request only costs speed."""
    flag = FLAG_PREFIX + boundaries.boundary_key(query, version)
    return send_task_once(flag, FLAG_TTL_S, TASK_NAME, [query_args(query), version])


def build_map(args: dict[str, Any], version: int) -> int:
    """Walk the view once and store its boundaries; returns how many were stored (0 when the
    data version moved on, or the view is small)."""
    query = parse_grid_query(**args)
    if data_version("profiles") != version:
        return 0
    keys = sort_keys(query.sort_model)
    params = Params()
    key_cols = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(k.column.ref("p"), sql.Identifier(k.column.col_id)) for k in keys
    )
    stride = params.add(stride_for(_estimated_rows(query)))
    stmt = sql.SQL(
        "SELECT * FROM (SELECT {cols}, row_number() OVER ({o}) AS rn FROM {t} p WHERE {w}) s"
        " WHERE rn %% {stride} = 0"
    ).format(
        cols=key_cols,
        o=order_by(keys, "p"),
        t=sql.Identifier(TABLE),
        w=where_clause(query, params),
        stride=stride,
    )
    with unit_of_work() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(stmt, params.values)
        rows = cur.fetchall()
    if len(rows) * BLOCK < MIN_ROWS:
        return 0
    entries = [(int(r["rn"]), key_values(r, keys)) for r in rows]
    boundaries.remember_many(boundaries.boundary_key(query, version), entries, keys)
    return len(entries)


def _estimated_rows(query: GridQuery) -> int:
    """The view's count if cached, else the table's size: only the stride depends on it."""
    from services.grid.pages import cached_count

    version = data_version("profiles")
    known = cached_count(query, version) if version >= 0 else None
    if known is not None:
        return known
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE relname = %s", (TABLE,)
        ).fetchone()
    return int(row[0]) if row else 0
