"""Initial schema: users, projects, profiles (+ raw), project membership, searches, jobs, usage, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('recruiter', 'lead', 'admin')),
    active        boolean NOT NULL DEFAULT true,
    -- bumped on deactivation / password reset: sessions carrying an older value stop working
    session_version integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE projects (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    location    text NOT NULL DEFAULT '',
    owner_id    bigint REFERENCES users (id),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    criteria    jsonb NOT NULL DEFAULT '{}'::jsonb,
    profile_count integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- array_to_string is only STABLE; skills are plain text so the result never depends on settings.
CREATE FUNCTION sx_skills_text(text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT array_to_string($1, '' '')';

CREATE TABLE profiles (
    id                bigserial PRIMARY KEY,
    linkedin_url      text NOT NULL,
    public_id         text,
    member_id         text,
    full_name         text NOT NULL DEFAULT '',
    first_name        text,
    last_name         text,
    headline          text,
    current_title     text,
    current_company   text,
    location          text,
    seniority         text,
    years_experience  integer,
    skills            text[] NOT NULL DEFAULT '{}',
    source            text NOT NULL DEFAULT 'import',
    enrichment_status text NOT NULL DEFAULT 'pending'
                      CHECK (enrichment_status IN ('pending', 'enriched', 'failed')),
    enriched_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    search_vector     tsvector GENERATED ALWAYS AS (
        to_tsvector('simple',
            coalesce(full_name, '') || ' ' || coalesce(headline, '') || ' ' ||
            coalesce(current_title, '') || ' ' || coalesce(current_company, '') || ' ' ||
            sx_skills_text(skills))
    ) STORED
);
CREATE UNIQUE INDEX profiles_linkedin_url_key ON profiles (linkedin_url);
CREATE UNIQUE INDEX profiles_member_id_key ON profiles (member_id) WHERE member_id IS NOT NULL;
CREATE INDEX profiles_search_vector_idx ON profiles USING gin (search_vector);
-- (column, id) pairs serve keyset pagination for every sortable column of the grid.
CREATE INDEX profiles_full_name_id_idx ON profiles (full_name, id);
CREATE INDEX profiles_current_title_id_idx ON profiles (current_title, id);
CREATE INDEX profiles_current_company_id_idx ON profiles (current_company, id);
CREATE INDEX profiles_location_id_idx ON profiles (location, id);
CREATE INDEX profiles_seniority_id_idx ON profiles (seniority, id);
CREATE INDEX profiles_years_experience_id_idx ON profiles (years_experience, id);
CREATE INDEX profiles_enriched_at_id_idx ON profiles (enriched_at, id);
CREATE INDEX profiles_created_at_id_idx ON profiles (created_at, id);

CREATE TABLE profile_raw (
    profile_id bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    provider   text NOT NULL,
    payload    jsonb NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (profile_id, provider)
);

CREATE TABLE searches (
    id              bigserial PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects (id),
    agent_id        text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('linkedin', 'salesnav')),
    query           text NOT NULL,
    requested_count integer NOT NULL CHECK (requested_count BETWEEN 1 AND 2500),
    launched_by     bigint REFERENCES users (id),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'importing', 'done', 'failed', 'cancelled')),
    container_id    text,
    job_id          bigint,
    new_count       integer NOT NULL DEFAULT 0,
    known_count     integer NOT NULL DEFAULT 0,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
-- The real guarantee behind the Redis agent lease: one active search per agent.
CREATE UNIQUE INDEX searches_one_active_per_agent ON searches (agent_id)
    WHERE status IN ('running', 'importing');
CREATE INDEX searches_project_idx ON searches (project_id, created_at DESC);

CREATE TABLE project_profiles (
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    profile_id  bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    stage       text NOT NULL DEFAULT 'sourced',
    shortlisted boolean NOT NULL DEFAULT false,
    search_id   bigint REFERENCES searches (id),
    added_by    bigint REFERENCES users (id),
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, profile_id)
);
CREATE INDEX project_profiles_profile_idx ON project_profiles (profile_id);

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    project_id   bigint REFERENCES projects (id) ON DELETE SET NULL,
    created_by   bigint REFERENCES users (id),
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    params       jsonb NOT NULL DEFAULT '{}'::jsonb,
    total        integer NOT NULL DEFAULT 0,
    done         integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    message      text,
    error        text,
    attempts     integer NOT NULL DEFAULT 0,
    request_id   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_project_idx ON jobs (project_id, created_at DESC);
CREATE INDEX jobs_status_idx ON jobs (status) WHERE status IN ('queued', 'running');

CREATE TABLE api_usage (
    id          bigserial PRIMARY KEY,
    ts          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    project_id  bigint REFERENCES projects (id) ON DELETE SET NULL,
    job_id      bigint REFERENCES jobs (id) ON DELETE SET NULL,
    provider    text NOT NULL,
    operation   text NOT NULL,
    units       numeric(14, 4) NOT NULL DEFAULT 0,
    cost_usd    numeric(14, 6) NOT NULL DEFAULT 0,
    status      text NOT NULL,
    http_status integer,
    latency_ms  integer,
    attempt     integer NOT NULL DEFAULT 1,
    subject     text,
    error       text
);
CREATE INDEX api_usage_provider_ts_idx ON api_usage (provider, ts);
CREATE INDEX api_usage_project_ts_idx ON api_usage (project_id, ts);
CREATE INDEX api_usage_user_ts_idx ON api_usage (user_id, ts);
CREATE INDEX api_usage_job_idx ON api_usage (job_id);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    ts          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_ts_idx ON audit_log (ts DESC);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, ts DESC);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS audit_log, api_usage, jobs, project_profiles, searches, profile_raw,
    profiles, projects, users CASCADE;
DROP FUNCTION IF EXISTS sx_skills_text(text[]);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
