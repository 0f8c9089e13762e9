"""Hiring projects: the names and ids other pages need (the full project area is issue #5)."""

from __future__ import annotations

from dataclasses import dataclass

from services.db import transaction


@dataclass(frozen=True)
class ProjectName:
    id: int
    name: str


def list_project_names(include_archived: bool = False) -> list[ProjectName]:
    with transaction() as conn:
        rows = conn.execute(
            "SELECT id, name FROM projects WHERE %s OR status = 'active' ORDER BY name",
            (include_archived,),
        ).fetchall()
    return [ProjectName(int(r[0]), str(r[1])) for r in rows]
