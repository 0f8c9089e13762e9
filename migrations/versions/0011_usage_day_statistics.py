"""Planner statistics for the daily spend chart: distinct (UTC day, provider) pairs of api_usage.

The spend-per-day chart groups api_usage by `(date_trunc('day', ts AT TIME ZONE 'UTC'))::date`
and provider. Postgres has no statistics on that expression, so it guessed the groups at about
the row count and sorted every row for a GroupAggregate (1M rows spilled 32 MB to disk: ~1.1 s
cold at 180 days). With ndistinct statistics on exactly that expression and provider, it knows
the answer is a few hundred groups and aggregates in a hash (~0.3 s). Expression statistics
need Postgres 14 or later (the app runs on 15 and 16). ANALYZE fills them now; autovacuum's
analyze keeps them current.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The same expression as services/insights/spend.py's DAILY_SQL groups by: the planner matches
# statistics to a GROUP BY expression only when they are spelled alike.
DAY = "(date_trunc('day', ts AT TIME ZONE 'UTC'))::date"


def upgrade() -> None:
    op.execute(
        f"CREATE STATISTICS api_usage_day_provider_stats (ndistinct) ON ({DAY}), provider"
        " FROM api_usage"
    )
    op.execute("ANALYZE api_usage")


def downgrade() -> None:
    op.execute("DROP STATISTICS IF EXISTS api_usage_day_provider_stats")
