"""Hiring projects: create, edit, archive, list, and each project's pipeline counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from services import audit
from services.core.cache import bump_data_version, cache_key, cached, data_version
from services.core.db import unit_of_work
from services.core.errors import UserError

MAX_NAME = 200
MAX_TEXT = 5000


class ProjectError(UserError):
    """A project request that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class ProjectName:
    id: int
    name: str


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    description: str
    location: str
    owner_id: int | None
    owner_name: str | None
    status: str
    profile_count: int
    created_at: datetime


@dataclass(frozen=True)
class Pipeline:
    """How far the project's people have come, stage by stage."""

    sourced: int
    enriched: int
    passed_filters: int
    screened: int
    strong_or_good: int
    shortlisted: int
    with_contacts: int


PROJECT_SQL = (
    "SELECT p.id, p.name, p.description, p.location, p.owner_id, u.name AS owner_name, p.status,"
    " p.profile_count, p.created_at FROM projects p LEFT JOIN users u ON u.id = p.owner_id"
)


def _validated(name: str, description: str, location: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name:
        raise ProjectError("A project needs a name")
    if len(name) > MAX_NAME:
        raise ProjectError(f"Project names are at most {MAX_NAME} characters")
    return name, (description or "").strip()[:MAX_TEXT], (location or "").strip()[:MAX_NAME]


def create_project(
    user_id: int, name: str, description: str = "", location: str = "", owner_id: int | None = None
) -> int:
    name, description, location = _validated(name, description, location)
    with unit_of_work() as conn:
        row = conn.execute(
            "INSERT INTO projects (name, description, location, owner_id) VALUES (%s, %s, %s, %s)"
            " RETURNING id",
            (name, description, location, owner_id or user_id),
        ).fetchone()
        assert row is not None
        audit.record(conn, user_id, "project.create", "project", row[0], {"name": name})
    bump_data_version("projects")
    return int(row[0])


def update_project(
    user_id: int,
    project_id: int,
    name: str,
    description: str,
    location: str,
    owner_id: int | None = None,
) -> None:
    name, description, location = _validated(name, description, location)
    with unit_of_work() as conn:
        cur = conn.execute(
            "UPDATE projects SET name = %s, description = %s, location = %s,"
            " owner_id = coalesce(%s, owner_id), updated_at = now() WHERE id = %s",
            (name, description, location, owner_id, project_id),
        )
        if cur.rowcount != 1:
            raise ProjectError("No such project")
        audit.record(conn, user_id, "project.update", "project", project_id)
    bump_data_version("projects")


def set_archived(user_id: int, project_id: int, archived: bool) -> None:
    with unit_of_work() as conn:
        cur = conn.execute(
            "UPDATE projects SET status = %s, updated_at = now() WHERE id = %s",
            ("archived" if archived else "active", project_id),
        )
        if cur.rowcount != 1:
            raise ProjectError("No such project")
        audit.record(
            conn,
            user_id,
            "project.archive" if archived else "project.reopen",
            "project",
            project_id,
        )
    bump_data_version("projects")


def get_project(project_id: int) -> Project | None:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Project)) as cur:
        cur.execute(PROJECT_SQL + " WHERE p.id = %s", (project_id,))
        return cur.fetchone()


def list_projects(include_archived: bool = False) -> list[Project]:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Project)) as cur:
        cur.execute(
            PROJECT_SQL + " WHERE %s OR p.status = 'active' ORDER BY p.status, p.created_at DESC",
            (include_archived,),
        )
        return cur.fetchall()


def list_project_names(include_archived: bool = False) -> list[ProjectName]:
    with unit_of_work() as conn:
        rows = conn.execute(
            "SELECT id, name FROM projects WHERE %s OR status = 'active' ORDER BY name",
            (include_archived,),
        ).fetchall()
    return [ProjectName(int(r[0]), str(r[1])) for r in rows]


PIPELINE_SQL = """
WITH members AS (SELECT profile_id, shortlisted FROM project_profiles WHERE project_id = %(p)s),
latest AS (
    SELECT DISTINCT ON (s.profile_id) s.profile_id, s.status, s.fit
    FROM screenings s JOIN prompt_versions v ON v.id = s.prompt_version_id
    WHERE s.project_id = %(p)s ORDER BY s.profile_id, v.version DESC
)
SELECT
    (SELECT count(*) FROM members),
    (SELECT count(*) FROM members m JOIN profiles pr ON pr.id = m.profile_id
        WHERE pr.enrichment_status = 'enriched'),
    (SELECT count(*) FROM filter_results f JOIN members m USING (profile_id)
        WHERE f.project_id = %(p)s AND f.passed),
    (SELECT count(*) FROM latest WHERE status = 'done'),
    (SELECT count(*) FROM latest WHERE status = 'done' AND fit IN ('strong', 'good')),
    (SELECT count(*) FROM members WHERE shortlisted),
    (SELECT count(DISTINCT c.profile_id) FROM contacts c JOIN members m USING (profile_id))
"""


def _pipeline(conn: psycopg.Connection, project_id: int) -> dict[str, int]:
    row = conn.execute(PIPELINE_SQL, {"p": project_id}).fetchone()
    assert row is not None
    return asdict(Pipeline(*(int(v) for v in row)))


def pipeline(project_id: int) -> Pipeline:
    """Pipeline counts, cached until profiles, projects or pipeline results change."""
    key = cache_key(
        "project_pipeline",
        project_id,
        data_version("profiles"),
        data_version("projects"),
        data_version("insights"),
    )

    def compute() -> dict[str, int]:
        with unit_of_work() as conn:
            return _pipeline(conn, project_id)

    return Pipeline(**cached(key, compute, timeout=60))
