"""One profile by id, with its raw provider payloads and its project memberships.

Loaded only for the profile the user opened; `to_jsonb(p)` returns every column (new ones too)
except the generated search_vector, with timestamps as ISO strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.rows import dict_row

from services.core.db import unit_of_work


@dataclass(frozen=True)
class ProfileDetail:
    """A profile's columns, raw payloads per provider, projects, and days since enrichment."""

    profile: dict[str, Any]
    raw: dict[str, dict[str, Any]]  # provider -> {"payload": ..., "fetched_at": iso}
    projects: list[dict[str, Any]]  # {"id", "name", "stage", "shortlisted"}
    data_age_days: int | None  # None: never enriched


PROFILE_SQL = """
SELECT to_jsonb(p) - 'search_vector' AS profile,
       floor(extract(epoch FROM now() - p.enriched_at) / 86400)::int AS data_age_days
FROM profiles p WHERE p.id = %(id)s
"""
RAW_SQL = """
SELECT provider, payload, to_jsonb(fetched_at) #>> '{}' AS fetched_at
FROM profile_raw WHERE profile_id = %(id)s ORDER BY provider
"""
PROJECTS_SQL = """
SELECT pr.id, pr.name, pp.stage, pp.shortlisted
FROM project_profiles pp JOIN projects pr ON pr.id = pp.project_id
WHERE pp.profile_id = %(id)s ORDER BY pr.name, pr.id
"""


def profile_detail(profile_id: int) -> ProfileDetail | None:
    """The detail of one profile, or None when no profile has this id."""
    if isinstance(profile_id, bool) or not isinstance(profile_id, int):
        raise TypeError("profile_id must be an int")
    if not 0 < profile_id < 2**63:
        return None
    args = {"id": profile_id}
    with unit_of_work() as conn, conn.cursor(row_factory=dict_row) as cur:
        head = cur.execute(PROFILE_SQL, args).fetchone()
        if head is None:
            return None
        raw = {
            r["provider"]: {"payload": r["payload"], "fetched_at": r["fetched_at"]}
            for r in cur.execute(RAW_SQL, args).fetchall()
        }
        projects = cur.execute(PROJECTS_SQL, args).fetchall()
    return ProfileDetail(
        profile=head["profile"],
        raw=raw,
        projects=[dict(p) for p in projects],
        data_age_days=head["data_age_days"],
    )
