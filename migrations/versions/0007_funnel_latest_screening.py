"""An index for "the latest finished screening per candidate" (the insights funnel and the
screening charts): DISTINCT ON (project_id, profile_id) ... ORDER BY prompt_version_id DESC
over finished screenings is then an index-only walk, not a sort of every finished screening.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS screenings_latest_done_idx ON screenings"
        " (project_id, profile_id, prompt_version_id DESC) INCLUDE (fit) WHERE status = 'done'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS screenings_latest_done_idx")
