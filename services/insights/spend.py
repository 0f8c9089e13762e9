"""Provider spend from `api_usage`: per provider per day, per recruiter, per project (with cost
per qualified and per contacted candidate), and today's burn against each daily budget.

Spend charts are cached for a minute only: metering writes a usage row per provider call and does
not bump a data version for each (that would empty the cache on every call).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from psycopg import sql

from services.insights.common import cached_chart, fetch_rows
from services.insights.filters import InsightsFilter, where
from services.providers.config import PROVIDERS, load_config

SPEND_TTL_S = 60


@dataclass(frozen=True)
class DailySpendRow:
    day: dt.date
    provider: str
    calls: int
    units: float
    cost_usd: float


@dataclass(frozen=True)
class UserSpendRow:
    user_id: int | None
    user_name: str
    provider: str
    calls: int
    units: float
    cost_usd: float


@dataclass(frozen=True)
class ProjectSpendRow:
    """project_id None is the team: every usage row in range, with or without a project."""

    project_id: int | None
    project_name: str
    cost_usd: float
    qualified: int
    contacted: int
    cost_per_qualified: float | None
    cost_per_contacted: float | None


@dataclass(frozen=True)
class BudgetRow:
    provider: str
    mode: str  # "configured" or "sandbox"
    metric: str  # "units" or "cost_usd"
    daily_budget: float  # 0: no budget
    used_today: float
    left_today: float | None
    burn_today: float | None  # used / budget
    avg_per_day: float  # over the chosen date range


def _usage_conditions(f: InsightsFilter, alias: str = "u") -> list[sql.Composable]:
    a = sql.Identifier(alias)
    conds: list[sql.Composable] = [
        sql.SQL("{}.ts >= %(ts_from)s").format(a),
        sql.SQL("{}.ts < %(ts_to)s").format(a),
    ]
    if f.project_id is not None:
        conds.append(sql.SQL("{}.project_id = %(project_id)s").format(a))
    if f.user_id is not None:
        conds.append(sql.SQL("{}.user_id = %(user_id)s").format(a))
    return conds


# Migration 0011 keeps ndistinct statistics on this very day expression and provider, so the
# planner knows there are a few hundred groups and hashes them (keep the two spelled alike).
DAILY_SQL = """
SELECT (date_trunc('day', u.ts AT TIME ZONE 'UTC'))::date AS day, u.provider,
       count(*) AS calls, sum(u.units)::float8 AS units, sum(u.cost_usd)::float8 AS cost_usd
FROM api_usage u {where}
GROUP BY 1, u.provider
ORDER BY 1, u.provider
"""

USERS_SQL = """
SELECT u.user_id, coalesce(us.name, 'Unattributed') AS user_name, u.provider,
       count(*) AS calls, sum(u.units)::float8 AS units, sum(u.cost_usd)::float8 AS cost_usd
FROM api_usage u LEFT JOIN users us ON us.id = u.user_id {where}
GROUP BY u.user_id, us.name, u.provider
ORDER BY sum(u.cost_usd) DESC, u.user_id, u.provider
"""

# Qualified: candidates whose latest finished screening in range is strong/good. Contacted:
# candidates of the project whose contact lookup in range found contacts. GROUPING SETS adds the
# team row (keyed -1, since a usage row's project may itself be NULL) to every part.
PROJECTS_SQL = """
WITH spend AS (
    SELECT CASE WHEN grouping(u.project_id) = 1 THEN -1 ELSE u.project_id END AS key,
           sum(u.cost_usd)::float8 AS cost_usd
    FROM api_usage u {usage_where}
    GROUP BY GROUPING SETS ((u.project_id), ())
), latest AS (
    SELECT DISTINCT ON (s.project_id, s.profile_id) s.project_id, s.fit
    FROM screenings s {screening_where}
    ORDER BY s.project_id, s.profile_id, s.prompt_version_id DESC
), qualified AS (
    SELECT CASE WHEN grouping(l.project_id) = 1 THEN -1 ELSE l.project_id END AS key,
           count(*) AS n
    FROM latest l WHERE l.fit IN ('strong', 'good')
    GROUP BY GROUPING SETS ((l.project_id), ())
), contacted AS (
    SELECT CASE WHEN grouping(pp.project_id) = 1 THEN -1 ELSE pp.project_id END AS key,
           count(*) AS n
    FROM contact_lookups cl
    JOIN project_profiles pp ON pp.profile_id = cl.profile_id
    {lookup_where}
    GROUP BY GROUPING SETS ((pp.project_id), ())
), keys AS (
    -- usage without a project has key NULL: it is part of the team row only
    SELECT key FROM spend WHERE key IS NOT NULL
    UNION SELECT key FROM qualified UNION SELECT key FROM contacted
)
SELECT nullif(k.key, -1) AS project_id,
       CASE WHEN k.key = -1 THEN 'All projects' ELSE coalesce(pr.name, '') END
           AS project_name,
       coalesce(s.cost_usd, 0) AS cost_usd,
       coalesce(q.n, 0) AS qualified,
       coalesce(c.n, 0) AS contacted,
       coalesce(s.cost_usd, 0) / nullif(q.n, 0) AS cost_per_qualified,
       coalesce(s.cost_usd, 0) / nullif(c.n, 0) AS cost_per_contacted
FROM keys k
LEFT JOIN spend s ON s.key = k.key
LEFT JOIN qualified q ON q.key = k.key
LEFT JOIN contacted c ON c.key = k.key
LEFT JOIN projects pr ON pr.id = k.key
WHERE coalesce(s.cost_usd, 0) > 0 OR coalesce(q.n, 0) > 0 OR coalesce(c.n, 0) > 0
ORDER BY k.key <> -1, coalesce(s.cost_usd, 0) DESC, k.key
"""

BUDGET_SQL = """
SELECT u.provider,
       coalesce(sum(u.units) FILTER (WHERE u.ts >= %(today)s), 0)::float8 AS units_today,
       coalesce(sum(u.cost_usd) FILTER (WHERE u.ts >= %(today)s), 0)::float8 AS cost_today,
       coalesce(sum(u.units) FILTER (WHERE u.ts >= %(ts_from)s AND u.ts < %(ts_to)s), 0)::float8
           AS units_range,
       coalesce(sum(u.cost_usd) FILTER (WHERE u.ts >= %(ts_from)s AND u.ts < %(ts_to)s),
                0)::float8 AS cost_range
FROM api_usage u
WHERE u.ts >= least(%(ts_from)s, %(today)s)
GROUP BY u.provider
"""


@dataclass(frozen=True)
class _ProviderTotals:
    provider: str
    units_today: float
    cost_today: float
    units_range: float
    cost_range: float


def daily(f: InsightsFilter) -> list[DailySpendRow]:
    """Calls, units and dollars per provider per UTC day."""
    query = sql.SQL(DAILY_SQL).format(where=where(_usage_conditions(f)))
    return cached_chart(
        "spend_daily",
        f,
        lambda: fetch_rows(query, f.sql_params(), DailySpendRow),
        timeout=SPEND_TTL_S,
    )


def by_user(f: InsightsFilter) -> list[UserSpendRow]:
    """Calls, units and dollars per recruiter and provider, biggest spender first."""
    query = sql.SQL(USERS_SQL).format(where=where(_usage_conditions(f)))
    return cached_chart(
        "spend_users",
        f,
        lambda: fetch_rows(query, f.sql_params(), UserSpendRow),
        timeout=SPEND_TTL_S,
    )


def _projects_query(f: InsightsFilter) -> sql.Composed:
    screening: list[sql.Composable] = [
        sql.SQL("s.status = 'done'"),
        sql.SQL("s.created_at >= %(ts_from)s"),
        sql.SQL("s.created_at < %(ts_to)s"),
    ]
    lookup: list[sql.Composable] = [
        sql.SQL("cl.status = 'found'"),
        sql.SQL("cl.looked_up_at >= %(ts_from)s"),
        sql.SQL("cl.looked_up_at < %(ts_to)s"),
    ]
    if f.project_id is not None:
        screening.append(sql.SQL("s.project_id = %(project_id)s"))
        lookup.append(sql.SQL("pp.project_id = %(project_id)s"))
    if f.user_id is not None:
        by_user_job = "IN (SELECT j.id FROM jobs j WHERE j.created_by = %(user_id)s)"
        screening.append(sql.SQL("s.job_id " + by_user_job))
        lookup.append(sql.SQL("cl.job_id " + by_user_job))
    return sql.SQL(PROJECTS_SQL).format(
        usage_where=where(_usage_conditions(f)),
        screening_where=where(screening),
        lookup_where=where(lookup),
    )


def by_project(f: InsightsFilter) -> list[ProjectSpendRow]:
    """Spend per project and for the team, with cost per qualified and per contacted candidate.

    With a recruiter chosen, spend is that recruiter's and the candidates are those of the
    screening and lookup jobs that recruiter started."""
    return cached_chart(
        "spend_projects",
        f,
        lambda: fetch_rows(_projects_query(f), f.sql_params(), ProjectSpendRow),
        timeout=SPEND_TTL_S,
    )


def _budget_rows(f: InsightsFilter, today: dt.datetime) -> list[BudgetRow]:
    params = {**f.sql_params(), "today": today}
    totals = {t.provider: t for t in fetch_rows(sql.SQL(BUDGET_SQL), params, _ProviderTotals)}
    days = (f.date_to - f.date_from).days + 1
    rows: list[BudgetRow] = []
    for provider in PROVIDERS:
        config = load_config(provider)
        t = totals.get(provider, _ProviderTotals(provider, 0.0, 0.0, 0.0, 0.0))
        units = config.budget_metric == "units"
        used = t.units_today if units else t.cost_today
        budget = config.daily_budget
        rows.append(
            BudgetRow(
                provider=provider,
                mode="sandbox" if config.sandbox else "configured",
                metric=config.budget_metric,
                daily_budget=budget,
                used_today=used,
                left_today=max(budget - used, 0.0) if budget else None,
                burn_today=used / budget if budget else None,
                avg_per_day=(t.units_range if units else t.cost_range) / days,
            )
        )
    return rows


def budgets(f: InsightsFilter, now: dt.datetime | None = None) -> list[BudgetRow]:
    """Today's (UTC) use of each provider's daily budget, and the average per day in range.

    `now` (default: the current time) says which UTC day is today. Budgets are team-wide, so
    the project and recruiter filters do not apply here."""
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    team = InsightsFilter(f.date_from, f.date_to)
    # The day is part of the key: an entry cached before 00:00 UTC never answers for the next day.
    return cached_chart(
        f"budgets:{today.date().isoformat()}",
        team,
        lambda: _budget_rows(team, today),
        timeout=SPEND_TTL_S,
    )
