"""Grid indexes: (enrichment_status, id) so sorting the profile grid by status pages by keyset.

Every other sortable grid column got its (column, id) index in 0001. headline is left without
one on purpose: a B-tree entry must stay under ~2.7 kB, and provider headlines are not length
capped, so such an index could make imports fail; a headline sort is a top-N sort instead.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS profiles_enrichment_status_id_idx"
        " ON profiles (enrichment_status, id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS profiles_enrichment_status_id_idx")
