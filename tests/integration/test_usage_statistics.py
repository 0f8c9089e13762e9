"""The daily spend chart's grouping is estimated from statistics (migration 0011), not guessed."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from psycopg import sql

from services.insights import spend
from services.insights.filters import InsightsFilter, where

pytestmark = pytest.mark.integration
DAYS, PROVIDERS, ROWS = 60, ("crustdata", "openai", "salesql"), 30_000
END = dt.date(2026, 11, 30)


def _estimated_groups(conn: psycopg.Connection) -> int:
    f = InsightsFilter(END - dt.timedelta(days=DAYS - 1), END)
    query = sql.SQL(spend.DAILY_SQL).format(where=where(spend._usage_conditions(f)))
    row = conn.execute(
        sql.SQL("EXPLAIN (FORMAT JSON) ") + query, f.sql_params(), prepare=False
    ).fetchone()
    assert row is not None
    plan = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return int(plan[0]["Plan"]["Plan Rows"])


def test_the_planner_knows_how_many_day_and_provider_groups_there_are(
    db: psycopg.Connection,
) -> None:
    db.execute(
        "INSERT INTO api_usage (ts, provider, operation, units, cost_usd, status)"
        " SELECT %s::timestamptz - (i %% %s) * interval '1 day' - (i %% 997) * interval '1 minute',"
        "        (%s::text[])[1 + (i / %s) %% 3], 'call', 1, 0.01, 'ok'"
        " FROM generate_series(1, %s) i",
        (f"{END}T23:00:00Z", DAYS, list(PROVIDERS), DAYS, ROWS),
    )
    db.execute("ANALYZE api_usage")
    actual = DAYS * len(PROVIDERS)
    with_stats = _estimated_groups(db)
    assert actual / 2 <= with_stats <= actual * 2, with_stats
    db.execute("DROP STATISTICS api_usage_day_provider_stats")
    try:
        db.execute("ANALYZE api_usage")
        # Without them Postgres guesses far more groups, which is what made it sort every row.
        assert _estimated_groups(db) > actual * 5
    finally:
        db.execute(
            "CREATE STATISTICS api_usage_day_provider_stats (ndistinct) ON"
            " ((date_trunc('day', ts AT TIME ZONE 'UTC'))::date), provider FROM api_usage"
        )
