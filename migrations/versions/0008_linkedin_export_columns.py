"""Columns for what PhantomBuster's LinkedIn exports carry and recruiters filter on.

The LinkedIn Search Export and Sales Navigator Search Export rows hold connection degree, profile
image, industry, school and degree, time in role and in company, shared connections, and the
open profile / premium flags. They were dropped on import; now they are real, filterable columns.
A search also keeps its run's execution time (`searches.run_seconds`), which is what
PhantomBuster bills, so it is metered exactly once per run.
Durations are kept in months (parsed from "2 years 3 months in role"), so they sort and range-filter.
Indexes only where a recruiter narrows a large grid by exact value (industry, degree); the rest
are cheap enough as part of a combined filter.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (
    ("connection_degree", "text"),
    ("profile_image_url", "text"),
    ("industry", "text"),
    ("school", "text"),
    ("school_degree", "text"),
    ("months_in_role", "integer"),
    ("months_in_company", "integer"),
    ("shared_connections", "integer"),
    ("is_open_profile", "boolean"),
    ("is_premium", "boolean"),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.execute(f"ALTER TABLE profiles ADD COLUMN IF NOT EXISTS {name} {kind}")
    op.execute("ALTER TABLE searches ADD COLUMN IF NOT EXISTS run_seconds double precision")
    op.execute("CREATE INDEX IF NOT EXISTS profiles_industry_id_idx ON profiles (industry, id)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS profiles_connection_degree_id_idx"
        " ON profiles (connection_degree, id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS profiles_connection_degree_id_idx")
    op.execute("DROP INDEX IF EXISTS profiles_industry_id_idx")
    op.execute("ALTER TABLE searches DROP COLUMN IF EXISTS run_seconds")
    for name, _ in reversed(COLUMNS):
        op.execute(f"ALTER TABLE profiles DROP COLUMN IF EXISTS {name}")
