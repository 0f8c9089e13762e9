"""Uploads stored in chunks, so an import job on any host can stream the file it was given.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE uploads (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    filename   text NOT NULL,
    size_bytes bigint NOT NULL,
    format     text NOT NULL,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE upload_chunks (
    upload_id bigint NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    seq       integer NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
ALTER TABLE imports ADD COLUMN job_id bigint REFERENCES jobs (id) ON DELETE SET NULL;
ALTER TABLE imports ADD COLUMN search_id bigint REFERENCES searches (id) ON DELETE SET NULL;
-- one import per job: a redelivered job finds its import already recorded and stops there
CREATE UNIQUE INDEX imports_job_key ON imports (job_id) WHERE job_id IS NOT NULL;
"""

DOWNGRADE = """
DROP INDEX IF EXISTS imports_job_key;
ALTER TABLE imports DROP COLUMN IF EXISTS search_id;
ALTER TABLE imports DROP COLUMN IF EXISTS job_id;
DROP TABLE IF EXISTS upload_chunks, uploads;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
