"""Pipeline tables: filter lists and results, versioned screening prompts and verdicts with
recruiter overrides, contacts and contact lookups; search/import bookkeeping on project_profiles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE filter_lists (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category    text NOT NULL CHECK (category IN ('target_companies', 'excluded_companies',
                    'schools', 'titles_include', 'titles_exclude', 'locations', 'keywords')),
    description text NOT NULL DEFAULT '',
    source      text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'csv', 'sheet')),
    source_ref  text,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX filter_lists_name_key ON filter_lists (lower(name));

CREATE TABLE filter_items (
    id         bigserial PRIMARY KEY,
    list_id    bigint NOT NULL REFERENCES filter_lists (id) ON DELETE CASCADE,
    value      text NOT NULL,           -- as the team wrote it, for display
    normalized text NOT NULL,           -- for matching (case, punctuation, company suffixes)
    UNIQUE (list_id, normalized)
);
CREATE INDEX filter_items_normalized_idx ON filter_items (normalized);

CREATE TABLE project_filter_lists (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    list_id    bigint NOT NULL REFERENCES filter_lists (id) ON DELETE CASCADE,
    mode       text NOT NULL CHECK (mode IN ('must_match', 'must_not_match')),
    PRIMARY KEY (project_id, list_id)
);

CREATE TABLE filter_results (
    project_id   bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    profile_id   bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    passed       boolean NOT NULL,
    reasons      jsonb NOT NULL DEFAULT '[]'::jsonb,  -- identifiers and reasons, no profile data
    job_id       bigint REFERENCES jobs (id) ON DELETE SET NULL,
    evaluated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, profile_id)
);
CREATE INDEX filter_results_profile_idx ON filter_results (profile_id);
CREATE INDEX filter_results_outcome_idx ON filter_results (project_id, passed);

CREATE TABLE prompt_versions (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version     integer NOT NULL,
    criteria    jsonb NOT NULL,      -- must_haves, nice_to_haves, dealbreakers, notes
    prompt_text text NOT NULL,       -- the exact system prompt sent
    model       text NOT NULL,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, version)
);

CREATE TABLE screenings (
    id                bigserial PRIMARY KEY,
    project_id        bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    profile_id        bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    prompt_version_id bigint NOT NULL REFERENCES prompt_versions (id) ON DELETE CASCADE,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    score             smallint CHECK (score BETWEEN 1 AND 10),
    fit               text CHECK (fit IN ('strong', 'good', 'maybe', 'no')),
    checks            jsonb,
    reasoning         text,
    model             text,
    input_hash        text,          -- sha256 of the exact profile data sent
    tokens_in         integer,
    tokens_out        integer,
    cost_usd          numeric(12, 6),
    error             text,
    attempts          integer NOT NULL DEFAULT 0,
    job_id            bigint REFERENCES jobs (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, profile_id, prompt_version_id),
    -- a verdict is either a real answer or a failure with its reason, never a made-up score
    CHECK (status <> 'done' OR (score IS NOT NULL AND fit IS NOT NULL)),
    CHECK (status <> 'failed' OR (score IS NULL AND error IS NOT NULL))
);
CREATE INDEX screenings_project_status_idx ON screenings (project_id, status);
CREATE INDEX screenings_profile_idx ON screenings (profile_id);

CREATE TABLE screening_overrides (
    screening_id bigint PRIMARY KEY REFERENCES screenings (id) ON DELETE CASCADE,
    user_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    verdict      text NOT NULL CHECK (verdict IN ('agree', 'disagree')),
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contacts (
    id         bigserial PRIMARY KEY,
    profile_id bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('email', 'phone')),
    value      text NOT NULL,
    type       text,                 -- Work / Direct / ...
    validity   text,                 -- Valid / Unverifiable / valid / invalid
    provider   text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (profile_id, kind, value)
);

CREATE TABLE contact_lookups (
    profile_id   bigint PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    status       text NOT NULL CHECK (status IN ('found', 'not_found', 'failed')),
    provider     text NOT NULL,
    error        text,
    job_id       bigint REFERENCES jobs (id) ON DELETE SET NULL,
    looked_up_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE project_profiles ADD COLUMN shortlisted_at timestamptz;
ALTER TABLE project_profiles ADD COLUMN shortlisted_by bigint REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX project_profiles_shortlisted_idx ON project_profiles (project_id) WHERE shortlisted;

ALTER TABLE profiles ADD COLUMN enrichment_error text;
ALTER TABLE profiles ADD COLUMN enrichment_attempts integer NOT NULL DEFAULT 0;

CREATE TABLE imports (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    filename    text NOT NULL,
    format      text NOT NULL,
    row_count   integer NOT NULL DEFAULT 0,
    new_count   integer NOT NULL DEFAULT 0,
    linked_count integer NOT NULL DEFAULT 0,
    skipped     jsonb NOT NULL DEFAULT '[]'::jsonb,
    imported_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imports_project_idx ON imports (project_id, created_at DESC);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS imports, contact_lookups, contacts, screening_overrides, screenings,
    prompt_versions, filter_results, project_filter_lists, filter_items, filter_lists CASCADE;
DROP INDEX IF EXISTS project_profiles_shortlisted_idx;
ALTER TABLE project_profiles DROP COLUMN IF EXISTS shortlisted_at;
ALTER TABLE project_profiles DROP COLUMN IF EXISTS shortlisted_by;
ALTER TABLE profiles DROP COLUMN IF EXISTS enrichment_error;
ALTER TABLE profiles DROP COLUMN IF EXISTS enrichment_attempts;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
