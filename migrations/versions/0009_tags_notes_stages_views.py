"""Team annotations and pipeline stages: tags and notes on profiles, a stage per project member
with its history, and named saved views of the profile grid.

- tags / profile_tags: team-wide tags (names unique ignoring case); (tag_id, profile_id) serves
  the grid's "has one of these tags" EXISTS filter from the tag side.
- profile_notes: free text per profile, newest first, visible to the whole team.
- project_profiles.stage gets a CHECK over the pipeline's stages (it was free text defaulting to
  'sourced'); stage_changed_at, set by a move (NULL for members never moved, whose stage dates
  from added_at, so writers of added_at need not know about it); and stage_reached, how far along
  sourced → contacted → replied → interviewing → hired the member got (0..4). A rejection keeps
  it, so the funnel still counts a candidate rejected after the interview as contacted, replied
  and interviewed, from project_profiles alone.
- project_stage_history: one row per move, so stage changes can be counted by date.
- saved_views: a name for a Profiles page URL query (validated by the app before it is stored),
  private or shared with the team, unique per owner ignoring case.

Adding the columns rewrites nothing (constant defaults); the CHECK scans project_profiles once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STAGES = "('sourced', 'contacted', 'replied', 'interviewing', 'hired', 'rejected')"

UPGRADE = f"""
CREATE TABLE tags (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 50 AND name = btrim(name)),
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_name_key ON tags (lower(name));

CREATE TABLE profile_tags (
    profile_id bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    added_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (profile_id, tag_id)
);
CREATE INDEX profile_tags_tag_profile_idx ON profile_tags (tag_id, profile_id);

CREATE TABLE profile_notes (
    id         bigserial PRIMARY KEY,
    profile_id bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    author_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profile_notes_profile_idx ON profile_notes (profile_id, id DESC);

-- Nothing in the app wrote a stage other than the default; a value outside the list stops the
-- migration with the values it found instead of being overwritten.
DO $$
DECLARE found text;
BEGIN
    SELECT string_agg(DISTINCT quote_literal(stage), ', ') INTO found
    FROM project_profiles WHERE stage NOT IN {STAGES};
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'project_profiles.stage holds values outside the pipeline: %', found;
    END IF;
END $$;
ALTER TABLE project_profiles
    ADD CONSTRAINT project_profiles_stage_check CHECK (stage IN {STAGES}),
    ADD COLUMN stage_changed_at timestamptz,
    ADD COLUMN stage_reached smallint NOT NULL DEFAULT 0 CHECK (stage_reached BETWEEN 0 AND 4);
UPDATE project_profiles SET stage_reached = CASE stage
    WHEN 'contacted' THEN 1 WHEN 'replied' THEN 2 WHEN 'interviewing' THEN 3 WHEN 'hired' THEN 4
    ELSE 0 END
WHERE stage NOT IN ('sourced', 'rejected');

CREATE TABLE project_stage_history (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL,
    profile_id bigint NOT NULL,
    from_stage text NOT NULL CHECK (from_stage IN {STAGES}),
    to_stage   text NOT NULL CHECK (to_stage IN {STAGES}),
    changed_by bigint REFERENCES users (id) ON DELETE SET NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (project_id, profile_id)
        REFERENCES project_profiles (project_id, profile_id) ON DELETE CASCADE
);
CREATE INDEX project_stage_history_member_idx
    ON project_stage_history (project_id, profile_id, changed_at);
CREATE INDEX project_stage_history_project_day_idx
    ON project_stage_history (project_id, changed_at);

CREATE TABLE saved_views (
    id         bigserial PRIMARY KEY,
    owner_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name = btrim(name)),
    query      text NOT NULL CHECK (length(query) <= 4000),
    shared     boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX saved_views_owner_name_key ON saved_views (owner_id, lower(name));
CREATE INDEX saved_views_shared_idx ON saved_views (lower(name)) WHERE shared;
"""

DOWNGRADE = """
DROP TABLE IF EXISTS saved_views, project_stage_history, profile_notes, profile_tags, tags;
ALTER TABLE project_profiles
    DROP CONSTRAINT IF EXISTS project_profiles_stage_check,
    DROP COLUMN IF EXISTS stage_changed_at,
    DROP COLUMN IF EXISTS stage_reached;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
