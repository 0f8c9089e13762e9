"""The insights funnel kept as counts per project, UTC day and recruiter, marked stale by triggers
(services/insights/funnel_rollup.py reads and refreshes it).

- funnel_daily: the funnel's counts over one project's members added on one UTC day (of
  added_at) by one recruiter. `added_by` is NOT NULL with 0 for "nobody" (members added
  without a user): a sentinel keeps a plain primary key on the grain on every Postgres version
  (a unique index NULLS NOT DISTINCT needs 15), and no user has id 0 (bigserial starts at 1), so
  a filter by recruiter never matches it. Rows go with their project (ON DELETE CASCADE).
- funnel_dirty: projects whose rows may be out of date. No foreign key: deleting a project
  deletes its members, which marks it (the cascade fires the triggers), and a mark that points
  at a deleted project must not fail that delete; the refresh drops such marks.
- Triggers mark every project for which something the funnel reads changed: project_profiles,
  filter_results, screenings (by their project), contact_lookups (every project holding the
  profile), profiles.enrichment_status (likewise). A deleted profile takes its memberships
  with it, and their delete marks its projects. Statement-level with transition tables, so a
  COPY of 100,000 members marks each project once; an UPDATE marks only for rows whose counted
  columns changed (re-applying filters with the same outcome marks nothing).
  Postgres allows neither a column list (`UPDATE OF`) nor several events on a trigger with
  transition tables, hence one trigger per event, and for profiles a row-level trigger
  `UPDATE OF enrichment_status ... WHEN (the value changed)` instead: an UPDATE that does not
  set that column (grid edits, import refreshes) never reaches it, and enrichment writes one
  profile per statement anyway.
- Locking: a marking statement takes each project's advisory lock (class FUNNEL_LOCK_CLASS)
  shared until its transaction ends; a refresh takes it exclusively, and only by trying
  (`funnel_try_lock`). A refresh therefore never recomputes a project while a writer of it is
  uncommitted (its change would be invisible to the recompute, yet its mark deleted), and a
  writer that marks during a refresh waits for that refresh to commit, then marks again.
- Backfill: every existing project is marked, so the first refresh fills its rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FUNNEL_LOCK_CLASS = 7261947  # pg_advisory_*(int, int) class of the funnel's per-project locks
COUNTS = (
    "sourced",
    "enriched",
    "passed_filters",
    "screened",
    "qualified",
    "shortlisted",
    "contacted",
    "reached_contacted",
    "reached_replied",
    "reached_interviewing",
    "hired",
    "rejected",
)
# Table -> the columns the funnel reads from it, and how its rows name their projects.
BY_PROJECT = "SELECT project_id FROM {rows}"
BY_PROFILE = (
    "SELECT pp.project_id FROM project_profiles pp"
    " WHERE pp.profile_id IN (SELECT profile_id FROM {rows})"
)
MARKED_TABLES = {
    "project_profiles": (
        "project_id, profile_id, added_at, added_by, shortlisted, stage, stage_reached",
        BY_PROJECT,
    ),
    "filter_results": ("project_id, profile_id, passed", BY_PROJECT),
    "screenings": ("project_id, profile_id, prompt_version_id, status, fit", BY_PROJECT),
    "contact_lookups": ("profile_id, status", BY_PROFILE),
}
EVENTS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}

TABLES = f"""
CREATE TABLE funnel_daily (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    day        date NOT NULL,
    added_by   bigint NOT NULL,  -- 0: added by nobody (see the docstring)
    {", ".join(f"{c} bigint NOT NULL" for c in COUNTS)},
    PRIMARY KEY (project_id, day, added_by)
);

CREATE TABLE funnel_dirty (
    project_id bigint PRIMARY KEY,
    marked_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION funnel_try_lock(project_id bigint) RETURNS boolean LANGUAGE sql AS
    'SELECT pg_try_advisory_xact_lock({FUNNEL_LOCK_CLASS}, mod(project_id, 2147483647)::int)';

CREATE FUNCTION funnel_mark(project_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(project_ids), 0) = 0 THEN
        RETURN;
    END IF;
    -- Shared until this transaction ends: no refresh may recompute these projects before it
    -- commits (see the docstring). Waits while a refresh of one of them is committing.
    PERFORM pg_advisory_xact_lock_shared({FUNNEL_LOCK_CLASS}, mod(d.p, 2147483647)::int)
    FROM (SELECT DISTINCT p FROM unnest(project_ids) p WHERE p IS NOT NULL ORDER BY p) d;
    INSERT INTO funnel_dirty (project_id)
    SELECT DISTINCT p FROM unnest(project_ids) p WHERE p IS NOT NULL ORDER BY p
    ON CONFLICT (project_id) DO NOTHING;
END $$;

CREATE FUNCTION funnel_mark_profile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM funnel_mark(ARRAY(SELECT project_id FROM project_profiles WHERE profile_id = NEW.id));
    RETURN NULL;
END $$;
CREATE TRIGGER profiles_funnel_enrichment AFTER UPDATE OF enrichment_status ON profiles
    FOR EACH ROW WHEN (OLD.enrichment_status IS DISTINCT FROM NEW.enrichment_status)
    EXECUTE FUNCTION funnel_mark_profile();

INSERT INTO funnel_dirty (project_id) SELECT id FROM projects;
"""


def _mark_function(table: str, columns: str, projects_of: str) -> str:
    """One statement trigger function per table: the projects of the inserted or deleted rows,
    or of the rows an UPDATE changed in a column the funnel counts (before or after)."""
    changed = (
        f"((SELECT {columns} FROM new_rows EXCEPT SELECT {columns} FROM old_rows)"
        f" UNION ALL (SELECT {columns} FROM old_rows EXCEPT SELECT {columns} FROM new_rows))"
        " changed"
    )
    return f"""
CREATE FUNCTION funnel_mark_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM funnel_mark(ARRAY({projects_of.format(rows="new_rows")}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM funnel_mark(ARRAY({projects_of.format(rows="old_rows")}));
    ELSE
        PERFORM funnel_mark(ARRAY({projects_of.format(rows=changed)}));
    END IF;
    RETURN NULL;
END $$;
"""


def _triggers(table: str) -> str:
    return "".join(
        f"CREATE TRIGGER {table}_funnel_{event} AFTER {event.upper()} ON {table} {referencing}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION funnel_mark_{table}();\n"
        for event, referencing in EVENTS.items()
    )


def upgrade() -> None:
    op.execute(TABLES)
    for table, (columns, projects_of) in MARKED_TABLES.items():
        op.execute(_mark_function(table, columns, projects_of) + _triggers(table))


def downgrade() -> None:
    for table in MARKED_TABLES:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_funnel_{event} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS funnel_mark_{table}()")
    op.execute("DROP TRIGGER IF EXISTS profiles_funnel_enrichment ON profiles")
    op.execute("DROP FUNCTION IF EXISTS funnel_mark_profile()")
    op.execute("DROP FUNCTION IF EXISTS funnel_mark(bigint[])")
    op.execute("DROP FUNCTION IF EXISTS funnel_try_lock(bigint)")
    op.execute("DROP TABLE IF EXISTS funnel_daily, funnel_dirty")
