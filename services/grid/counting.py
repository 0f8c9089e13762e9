"""The profiles page's count: exact when that is cheap, else Postgres's estimate at once and the
exact number from a task worker.

A broad filter's exact `count(*)` grows with the table (130-200 ms cold at 1M profiles, seconds at
10M). The page asks view_count: a count cached under the data version is answered as is;
otherwise the exact count runs under a budget (`GRID_EXACT_COUNT_BUDGET_MS`, `SET LOCAL
statement_timeout`). When the budget runs out, the statement is cancelled and the page gets the
planner's estimate of that very WHERE clause (marked estimated), while a Celery task counts
without the budget and stores the number in the entry count_rows reads, so every later block and
the page's next ask get it exact. One task per row set and data version (a Redis NX flag); a
broker outage only means the page keeps its estimate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from services.core.cache import data_version
from services.core.db import unit_of_work
from services.core.send_once import send_task_once
from services.core.settings import get_settings
from services.grid import jumpmap
from services.grid.columns import TABLE
from services.grid.pages import (
    COUNT_TTL_S,
    DATA_SCOPE,
    UNPREPARED,
    cached_count,
    count_key,
    count_rows,
    count_statement,
    remember_count,
)
from services.grid.params import Params
from services.grid.query import GridQuery, where_clause
from services.grid.urlstate import query_to_url_params, url_params_to_query

TASK_NAME = "sourcingx.grid_exact_count"
FLAG_PREFIX = "sx:grid:countflag:"
# Shorter than the count's own TTL: when a delivered count expires, the next estimate can ask a
# worker again. A task still queued after this is dropped (`expires`): nobody polls for it.
FLAG_TTL_S = COUNT_TTL_S // 2


@dataclass(frozen=True)
class ViewCount:
    """The number of profiles in a view; exact=False: Postgres's estimate, the exact number is
    being counted by a worker."""

    value: int
    exact: bool


def view_count(query: GridQuery, *, try_exact: bool = True) -> ViewCount:
    """The view's count for the page: cached, else exact within the budget (try_exact), else
    the estimate, with a worker asked for the exact number."""
    version = data_version(DATA_SCOPE)
    if version < 0:  # Redis is down: nothing to cache in or enqueue on, so count as before
        return ViewCount(count_rows(query, version), True)
    known = cached_count(query, version)
    if known is not None:
        return ViewCount(known, True)
    if try_exact:
        total = count_within(query, get_settings().grid_exact_count_budget_ms)
        if total is not None:
            remember_count(query, version, total)
            map_ahead(query, version, total)
            return ViewCount(total, True)
    request_exact_count(query, version)
    return ViewCount(estimate_rows(query), False)


def count_within(query: GridQuery, budget_ms: int) -> int | None:
    """The exact count, or None when it would take longer than budget_ms (0: not tried)."""
    if budget_ms <= 0:  # statement_timeout 0 would mean "no limit"
        return None
    ceiling = get_settings().db_statement_timeout_ms
    timeout = min(budget_ms, ceiling) if ceiling > 0 else budget_ms
    params = Params()
    stmt = count_statement(query, params)
    try:
        with unit_of_work() as conn:
            # LOCAL: the pooled connection gets its usual timeout back at the end of this block.
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout)))
            row = conn.execute(stmt, params.values, prepare=UNPREPARED).fetchone()
    except psycopg.errors.QueryCanceled:
        return None  # over budget: an answer, not an error
    return int(row[0]) if row else 0


def estimate_rows(query: GridQuery) -> int:
    """Postgres's estimate of the view's rows: the top plan node's "Plan Rows" (planning only)."""
    params = Params()
    stmt = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {} p WHERE {}").format(
        sql.Identifier(TABLE), where_clause(query, params)
    )
    with unit_of_work() as conn:
        row = conn.execute(stmt, params.values, prepare=UNPREPARED).fetchone()
    plan: Any = row[0] if row else [{"Plan": {"Plan Rows": 0}}]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return max(int(plan[0]["Plan"]["Plan Rows"]), 0)


def view_args(query: GridQuery) -> dict[str, str]:
    """The row set as task arguments: the view's URL parameters, validated again by the task."""
    return query_to_url_params(query)


def request_exact_count(query: GridQuery, version: int) -> bool:
    """Ask a task worker for the exact count (once per row set and version); True if enqueued.
    With the broker away the page keeps its estimate, and its next poll asks again."""
    flag = FLAG_PREFIX + count_key(query, version)
    return send_task_once(flag, FLAG_TTL_S, TASK_NAME, [view_args(query), version])


def count_exactly(view: dict[str, Any], version: int) -> int | None:
    """The task's work: count the view without the budget (the pool's DB_STATEMENT_TIMEOUT_MS
    still applies) and cache it under this version; None when the data version moved on (that
    count would go under a key nobody reads any more)."""
    query = url_params_to_query(view)
    if data_version(DATA_SCOPE) != version:
        return None
    total = count_rows(query, version)
    map_ahead(query, version, total)
    return total


def map_ahead(query: GridQuery, version: int, total: int) -> None:
    """A view just found large gets its jump map before anyone jumps into it (jumpmap.py)."""
    if total >= jumpmap.AHEAD_MIN_ROWS:
        jumpmap.request_map(query, version)
