"""Data retention: erase one profile and everything about it, on request (GDPR art. 17).

One transaction removes the profile's rows from every table that holds data about it, clears the
`subject` of usage rows that named it (the usage and its cost stay: they are the team's records),
fixes the affected projects' counts and writes one `profile.erase` audit row holding the profile
id and row counts only, never the erased data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

from services import audit
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.errors import UserError
from services.insights import funnel_rollup

# Children first; each is deleted by profile id. (Most would cascade, but an explicit list keeps
# the counts for the audit row and still holds if a foreign key ever loses its CASCADE.)
PROFILE_TABLES: tuple[str, ...] = (
    "screenings",
    "filter_results",
    "contacts",
    "contact_lookups",
    "project_profiles",
    "profile_raw",
)


class ErasureError(UserError):
    """The erasure cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class ErasureResult:
    profile_id: int
    removed: dict[str, int]
    usage_subjects_cleared: int


def erase_profile(profile_id: int, by: int | None) -> ErasureResult:
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT linkedin_url, public_id, member_id FROM profiles WHERE id = %s FOR UPDATE",
            (profile_id,),
        ).fetchone()
        if row is None:
            raise ErasureError(f"There is no profile #{profile_id}.")
        url, public_id, member_id = row
        projects = [
            r[0]
            for r in conn.execute(
                "SELECT project_id FROM project_profiles WHERE profile_id = %s", (profile_id,)
            ).fetchall()
        ]
        removed = _delete_rows_about(conn, profile_id)
        cleared = _clear_usage_subjects(conn, url, public_id, member_id)
        removed["profiles"] = conn.execute(
            "DELETE FROM profiles WHERE id = %s", (profile_id,)
        ).rowcount
        if projects:
            conn.execute(
                "UPDATE projects p SET profile_count = (SELECT count(*) FROM project_profiles pp"
                " WHERE pp.project_id = p.id), updated_at = now() WHERE p.id = ANY(%s)",
                (projects,),
            )
        audit.record(
            conn,
            by,
            "profile.erase",
            "profile",
            profile_id,
            {"removed": removed, "usage_subjects_cleared": cleared},
        )
    bump_data_version("profiles", "projects", "insights")
    funnel_rollup.request_refresh()
    return ErasureResult(profile_id, removed, cleared)


def _delete_rows_about(conn: psycopg.Connection, profile_id: int) -> dict[str, int]:
    """Every row about the profile outside `profiles`, counted per table."""
    removed: dict[str, int] = {}
    removed["screening_overrides"] = conn.execute(
        "DELETE FROM screening_overrides o USING screenings s"
        " WHERE o.screening_id = s.id AND s.profile_id = %s",
        (profile_id,),
    ).rowcount
    for table in PROFILE_TABLES:
        removed[table] = conn.execute(
            sql.SQL("DELETE FROM {} WHERE profile_id = %s").format(sql.Identifier(table)),
            (profile_id,),
        ).rowcount
    return removed


def _clear_usage_subjects(
    conn: psycopg.Connection, url: str, public_id: str | None, member_id: str | None
) -> int:
    # Provider calls name the profile by URL (or its public id inside one); the cost stays.
    names = [n for n in (url, url.rstrip("/"), url.rstrip("/") + "/", member_id) if n]
    # A URL in another spelling (http, no www, query string) still ends in /in/<public id>;
    # anchored, so another profile whose id merely starts the same way keeps its subject.
    pattern = f"/in/{re.escape(public_id)}/?([?#].*)?$" if public_id else None
    return conn.execute(
        "UPDATE api_usage SET subject = NULL WHERE subject = ANY(%s)"
        " OR (%s::text IS NOT NULL AND subject ~ %s::text)",
        (names, pattern, pattern),
    ).rowcount
