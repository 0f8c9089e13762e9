"""Team activity: searches launched, imports, finished screenings and contact lookups per
recruiter per day or week (UTC), from the tables that record each action.

Screenings and lookups are attributed to the recruiter who started their job; rows without a job
show as "Unattributed".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from psycopg import sql

from services.insights.common import cached_chart, fetch_rows
from services.insights.filters import InsightsFilter, where

KINDS: tuple[str, ...] = ("searches", "imports", "screenings", "lookups")


@dataclass(frozen=True)
class ActivityRow:
    period: dt.date  # first day of the day/week (weeks start on Monday)
    user_id: int | None
    user_name: str
    kind: str
    actions: int


# The outer WHERE is pushed into each UNION ALL branch by the planner, so each table is read
# through its own time range; grain is bound as a parameter and comes from an allow-list.
ACTIVITY_SQL = """
SELECT (date_trunc(%(grain)s, a.ts AT TIME ZONE 'UTC'))::date AS period,
       a.user_id, coalesce(u.name, 'Unattributed') AS user_name, a.kind, count(*) AS actions
FROM (
    SELECT launched_by AS user_id, created_at AS ts, 'searches' AS kind, project_id
    FROM searches
    UNION ALL
    SELECT imported_by, created_at, 'imports', project_id FROM imports
    UNION ALL
    SELECT j.created_by, s.created_at, 'screenings', s.project_id
    FROM screenings s LEFT JOIN jobs j ON j.id = s.job_id
    WHERE s.status = 'done'
    UNION ALL
    SELECT j.created_by, cl.looked_up_at, 'lookups', j.project_id
    FROM contact_lookups cl LEFT JOIN jobs j ON j.id = cl.job_id
) a
LEFT JOIN users u ON u.id = a.user_id
{where}
GROUP BY 1, a.user_id, u.name, a.kind
ORDER BY 1, user_name, a.kind
"""


def activity(f: InsightsFilter) -> list[ActivityRow]:
    conds: list[sql.Composable] = [
        sql.SQL("a.ts >= %(ts_from)s"),
        sql.SQL("a.ts < %(ts_to)s"),
    ]
    if f.project_id is not None:
        conds.append(sql.SQL("a.project_id = %(project_id)s"))
    if f.user_id is not None:
        conds.append(sql.SQL("a.user_id = %(user_id)s"))
    query = sql.SQL(ACTIVITY_SQL).format(where=where(conds))
    return cached_chart("activity", f, lambda: fetch_rows(query, f.sql_params(), ActivityRow))
