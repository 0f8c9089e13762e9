"""Screening extras: profiles.schools (parsed from the enrichment payload, for school filter
lists) and an index for the screening job's "what is left for this prompt version" lookups.

Revision ID: 0006
Revises: 0004 (0005 was reserved for insights indexes that turned out not to help)
Create Date: 2026-11-28
"""

from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE profiles ADD COLUMN schools text[] NOT NULL DEFAULT '{}';
-- Re-parse what enrichment already fetched (profile_raw is the audit copy made for this purpose).
UPDATE profiles p SET schools = s.names
FROM (
    SELECT r.profile_id,
           array_agg(DISTINCT e->>'school') FILTER (WHERE coalesce(e->>'school', '') <> '') AS names
    FROM profile_raw r
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(r.payload->'education'->'schools') = 'array'
             THEN r.payload->'education'->'schools' ELSE '[]'::jsonb END) e
    WHERE r.provider = 'crustdata'
    GROUP BY r.profile_id
) s
WHERE s.profile_id = p.id AND s.names IS NOT NULL;
CREATE INDEX screenings_version_status_idx ON screenings (prompt_version_id, status);
CREATE INDEX screenings_job_idx ON screenings (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX contact_lookups_job_idx ON contact_lookups (job_id) WHERE job_id IS NOT NULL;
"""

DOWNGRADE = """
DROP INDEX IF EXISTS contact_lookups_job_idx;
DROP INDEX IF EXISTS screenings_job_idx;
DROP INDEX IF EXISTS screenings_version_status_idx;
ALTER TABLE profiles DROP COLUMN IF EXISTS schools;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
