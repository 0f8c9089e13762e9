"""The insights funnel from counts kept per project, UTC day and recruiter (migration 0010).

Every count of the funnel counts memberships, so it adds up over disjoint groups of them:
`funnel_daily` holds one row per (project, UTC day of added_at, added_by) and a chart sums the
rows of its days, with GROUPING SETS for the team row, instead of joining every membership of
the range to four tables. The counting SQL (`COUNTS`, `JOINS`, `LATEST`) is the one the full
query in funnel.py uses; here it is grouped by the rollup's grain.

Triggers mark a project in `funnel_dirty` when anything the funnel reads changes for it.
`refresh_dirty` recomputes marked projects, one transaction each: it takes the mark with
`FOR UPDATE SKIP LOCKED` (two workers never recompute one project) and the project's advisory
lock exclusively, by trying (a writer whose change is not committed yet holds it shared: its
change would be missing from the recompute, so that project stays marked), deletes the mark and
rewrites the project's rows. A writer marking the project meanwhile waits on the lock until the
refresh commits and then marks it again. So in any snapshot a project without a mark has rows
equal to its live counts; the read takes one snapshot, sums the rows of unmarked projects and
counts the still marked ones (held by a writer or another refresh) live, grouped the same way.

The jobs that change funnel inputs call `request_refresh` after committing a chunk: one Celery
task at a time (a Redis NX flag) refreshes what is marked, so the read usually finds nothing
to do. A lost or refused enqueue only costs the next read the refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from services.core.db import unit_of_work
from services.core.send_once import release, send_task_once
from services.insights.filters import InsightsFilter, where

T = TypeVar("T")
TASK_NAME = "sourcingx.funnel_refresh"
FLAG_KEY = "sx:funnel:refresh-queued"
# A queued task clears the flag when it starts; a lost task frees it after this long.
FLAG_TTL_S = 300
WORK_MEM = "SET LOCAL work_mem = '32MB'"  # as fetch_rows: the joins hash in memory

COUNT_COLUMNS: tuple[str, ...] = (
    "sourced",
    "enriched",
    "passed_filters",
    "screened",
    "qualified",
    "shortlisted",
    "contacted",
    "reached_contacted",
    "reached_replied",
    "reached_interviewing",
    "hired",
    "rejected",
)
# The funnel's counts over the memberships `pp` joined by JOINS, in COUNT_COLUMNS order. The
# stage counts read only project_profiles columns, so they add no join.
COUNTS = """count(*) AS sourced,
           count(*) FILTER (WHERE p.enrichment_status = 'enriched') AS enriched,
           count(*) FILTER (WHERE fr.passed) AS passed_filters,
           count(l.profile_id) AS screened,
           count(*) FILTER (WHERE l.fit IN ('strong', 'good')) AS qualified,
           count(*) FILTER (WHERE pp.shortlisted) AS shortlisted,
           count(*) FILTER (WHERE cl.status = 'found') AS contacted,
           count(*) FILTER (WHERE pp.stage_reached >= 1) AS reached_contacted,
           count(*) FILTER (WHERE pp.stage_reached >= 2) AS reached_replied,
           count(*) FILTER (WHERE pp.stage_reached >= 3) AS reached_interviewing,
           count(*) FILTER (WHERE pp.stage_reached >= 4) AS hired,
           count(*) FILTER (WHERE pp.stage = 'rejected') AS rejected"""
# The latest finished screening per candidate: DISTINCT ON over the newest prompt version (an
# index walk, migration 0007). `{latest_where}` narrows it to the projects counted.
LATEST = """latest AS (
    SELECT DISTINCT ON (s.project_id, s.profile_id) s.project_id, s.profile_id, s.fit
    FROM screenings s
    WHERE s.status = 'done' {latest_where}
    ORDER BY s.project_id, s.profile_id, s.prompt_version_id DESC
)"""
JOINS = """JOIN profiles p ON p.id = pp.profile_id
    LEFT JOIN filter_results fr
           ON fr.project_id = pp.project_id AND fr.profile_id = pp.profile_id
    LEFT JOIN latest l ON l.project_id = pp.project_id AND l.profile_id = pp.profile_id
    LEFT JOIN contact_lookups cl ON cl.profile_id = pp.profile_id"""

# The rollup's rows of the memberships `{where}` selects: (project, UTC day, added_by or 0).
GRAIN_SQL = f"""
WITH pp AS NOT MATERIALIZED (
    SELECT pp.project_id, pp.profile_id, pp.shortlisted, pp.stage, pp.stage_reached,
           (pp.added_at AT TIME ZONE 'UTC')::date AS day, coalesce(pp.added_by, 0) AS added_by
    FROM project_profiles pp {{where}}
), {LATEST}
SELECT pp.project_id, pp.day, pp.added_by, {COUNTS}
FROM pp
{JOINS}
GROUP BY pp.project_id, pp.day, pp.added_by
"""
_COLS = ", ".join(COUNT_COLUMNS)
# The funnel's rows from a `counted` CTE (one row per project plus the team row, project_id
# NULL): the full query in funnel.py and the rollup's read end alike.
RESULT = f"""
SELECT c.project_id, coalesce(pr.name, 'All projects') AS project_name,
       {", ".join(f"c.{c}" for c in COUNT_COLUMNS)}
FROM counted c LEFT JOIN projects pr ON pr.id = c.project_id
WHERE c.sourced > 0
ORDER BY c.project_id IS NOT NULL, pr.name, c.project_id
"""
INSERT_SQL = f"INSERT INTO funnel_daily (project_id, day, added_by, {_COLS}) {{grain}}"
READ_SQL = f"""
WITH grain AS (
    SELECT d.project_id, {", ".join(f"d.{c}" for c in COUNT_COLUMNS)}
    FROM funnel_daily d {{daily_where}}
    {{live}}
), counted AS (
    SELECT CASE WHEN grouping(g.project_id) = 0 THEN g.project_id END AS project_id,
           {", ".join(f"sum(g.{c})::bigint AS {c}" for c in COUNT_COLUMNS)}
    FROM grain g
    GROUP BY GROUPING SETS ((g.project_id), ())
)
{RESULT}"""
TAKE_SQL = """
SELECT project_id FROM funnel_dirty
WHERE project_id <> ALL(%(skip)s::bigint[]) {scope}
ORDER BY marked_at, project_id LIMIT 1
FOR UPDATE SKIP LOCKED
"""


def grain_query(conds: list[sql.Composable], latest_where: sql.Composable) -> sql.Composed:
    return sql.SQL(GRAIN_SQL).format(where=where(conds), latest_where=latest_where)


def _scope(project_id: int | None) -> sql.Composable:
    return sql.SQL("AND project_id = %(project_id)s" if project_id is not None else "")


def _lock(conn: psycopg.Connection, project_id: int) -> str:
    """'live' when this transaction may recompute the project, 'busy' when a writer (or a
    deletion of the project) is in flight, 'gone' when the project no longer exists."""
    # KEY SHARE first, without waiting: our rows' foreign key needs it, and waiting for it
    # while holding the advisory lock could deadlock with a deletion of the project (whose
    # cascade to its members waits for that lock).
    held = conn.execute(
        "SELECT 1 FROM projects WHERE id = %s FOR KEY SHARE SKIP LOCKED", (project_id,)
    ).fetchone()
    if held is None:
        exists = conn.execute("SELECT 1 FROM projects WHERE id = %s", (project_id,)).fetchone()
        return "busy" if exists else "gone"
    locked = conn.execute("SELECT funnel_try_lock(%s)", (project_id,)).fetchone()
    return "live" if locked and locked[0] else "busy"


def recompute(conn: psycopg.Connection, project_id: int) -> None:
    """Rewrite the project's rows from its memberships (in the caller's transaction)."""
    conn.execute("DELETE FROM funnel_daily WHERE project_id = %s", (project_id,))
    grain = grain_query(
        [sql.SQL("pp.project_id = %(project_id)s")], sql.SQL("AND s.project_id = %(project_id)s")
    )
    conn.execute(sql.SQL(INSERT_SQL).format(grain=grain), {"project_id": project_id}, prepare=False)


def refresh_next(
    conn: psycopg.Connection, skip: Sequence[int] = (), project_id: int | None = None
) -> tuple[int, bool] | None:
    """Take one marked project (not in `skip`, not held by another refresh) in the caller's
    transaction: (project, True) when its rows are rewritten and its mark deleted, (project,
    False) when a writer holds it (it stays marked); None when there is none to take."""
    row = conn.execute(
        sql.SQL(TAKE_SQL).format(scope=_scope(project_id)),
        {"skip": list(skip), "project_id": project_id},
    ).fetchone()
    if row is None:
        return None
    taken = int(row[0])
    state = _lock(conn, taken)
    if state == "busy":
        return taken, False
    conn.execute("DELETE FROM funnel_dirty WHERE project_id = %s", (taken,))
    if state == "live":
        recompute(conn, taken)
    return taken, True


def refresh_dirty(limit: int | None = None, project_id: int | None = None) -> int:
    """Recompute marked projects (only `project_id` when given), each once and in a transaction
    of its own; returns how many were brought up to date. Projects a writer holds stay marked
    (the writer's job asks again after committing)."""
    taken: list[int] = []
    refreshed = 0
    while limit is None or refreshed < limit:
        with unit_of_work() as conn:
            conn.execute(WORK_MEM)
            outcome = refresh_next(conn, taken, project_id)
        if outcome is None:
            break
        taken.append(outcome[0])  # once per call: a project re-marked meanwhile waits for the next
        refreshed += int(outcome[1])
    return refreshed


def marked(conn: psycopg.Connection, project_id: int | None = None) -> list[int]:
    rows = conn.execute(
        sql.SQL("SELECT project_id FROM funnel_dirty WHERE true {scope} ORDER BY 1").format(
            scope=_scope(project_id)
        ),
        {"project_id": project_id},
    ).fetchall()
    return [int(r[0]) for r in rows]


def _read_query(f: InsightsFilter, live: bool) -> sql.Composed:
    daily: list[sql.Composable] = [
        sql.SQL("d.day >= %(day_from)s"),
        sql.SQL("d.day <= %(day_to)s"),
    ]
    members: list[sql.Composable] = [
        sql.SQL("pp.project_id = ANY(%(dirty)s::bigint[])"),
        sql.SQL("pp.added_at >= %(ts_from)s"),
        sql.SQL("pp.added_at < %(ts_to)s"),
    ]
    if f.project_id is not None:
        daily.append(sql.SQL("d.project_id = %(project_id)s"))
    if f.user_id is not None:
        daily.append(sql.SQL("d.added_by = %(user_id)s"))
        members.append(sql.SQL("pp.added_by = %(user_id)s"))
    live_part: sql.Composable = sql.SQL("")
    if live:
        daily.append(sql.SQL("d.project_id <> ALL(%(dirty)s::bigint[])"))
        grain = grain_query(members, sql.SQL("AND s.project_id = ANY(%(dirty)s::bigint[])"))
        live_part = sql.SQL("UNION ALL SELECT g.project_id, {cols} FROM ({grain}) g").format(
            cols=sql.SQL(", ".join(f"g.{c}" for c in COUNT_COLUMNS)), grain=grain
        )
    return sql.SQL(READ_SQL).format(daily_where=where(daily), live=live_part)


def read(f: InsightsFilter, row: type[T]) -> list[T]:
    """The funnel for `f` as `row`s (FunnelRow): the team row first (when any candidate
    matches), then one row per project by name; equal to the full query over the same data."""
    refresh_dirty(project_id=f.project_id)  # bounded: one project's memberships per mark
    with unit_of_work() as conn:
        # One snapshot for the marks and the rows, so each project is counted one way only.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(WORK_MEM)
        dirty = marked(conn, f.project_id)
        params = {**f.sql_params(), "day_from": f.date_from, "day_to": f.date_to, "dirty": dirty}
        with conn.cursor(row_factory=class_row(row)) as cur:
            cur.execute(_read_query(f, bool(dirty)), params, prepare=False)
            return cur.fetchall()


def request_refresh() -> bool:
    """Ask a worker to refresh the marked projects (call after committing funnel inputs);
    True when a task was enqueued, False when one is already queued or Redis is away. Never
    raises: a job must not fail over it (the next read refreshes anyway)."""
    from celery_app import follow_settings_broker

    follow_settings_broker()  # jobs run it wherever the settings' Redis is now
    return send_task_once(FLAG_KEY, FLAG_TTL_S, TASK_NAME)


def run_refresh_task() -> int:
    """The task's body: free the flag first, so marks committed from now on get a task of
    their own, then refresh everything marked."""
    release(FLAG_KEY)
    return refresh_dirty()
